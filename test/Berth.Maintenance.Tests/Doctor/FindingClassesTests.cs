using Berth.Maintenance.Doctor;

namespace Berth.Maintenance.Tests.Doctor;

/// <summary>Finding class names and severities are a contract with monitors and <c>berth logs --doctor</c>:
/// this test pins them. Adding a class means adding a line at the end; never change or reorder one.</summary>
public sealed class FindingClassesTests
{
    private static readonly (FindingClass Class, string Name, FindingSeverity Severity, RepairAction Repair)[] Pinned =
    [
        (FindingClass.TagLinkMissing, "tag-link-missing", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.TagLinkEmpty, "tag-link-empty", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.TagLinkInvalid, "tag-link-invalid", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.TagRevisionMissing, "tag-revision-missing", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.ManifestBlobMissing, "manifest-blob-missing", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.ManifestSizeMismatch, "manifest-size-mismatch", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.ManifestCorrupt, "manifest-corrupt", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.ManifestUnparseable, "manifest-unparseable", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.ManifestUnsupported, "manifest-unsupported", FindingSeverity.Warning, RepairAction.None),
        (FindingClass.LayerMissing, "layer-missing", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.LayerUnlinked, "layer-unlinked", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.LayerSizeMismatch, "layer-size-mismatch", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.LayerCorrupt, "layer-corrupt", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.ChildManifestMissing, "child-manifest-missing", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.ChildManifestUnlinked, "child-manifest-unlinked", FindingSeverity.Error, RepairAction.QuarantineTag),
        (FindingClass.SubjectMissing, "subject-missing", FindingSeverity.Warning, RepairAction.None),
        (FindingClass.TagIndexInvalid, "tag-index-invalid", FindingSeverity.Warning, RepairAction.QuarantineLink),
        (FindingClass.TagIndexDangling, "tag-index-dangling", FindingSeverity.Warning, RepairAction.QuarantineLink),
        (FindingClass.RevisionLinkInvalid, "revision-link-invalid", FindingSeverity.Error, RepairAction.QuarantineLink),
        (FindingClass.RevisionLinkDangling, "revision-link-dangling", FindingSeverity.Warning, RepairAction.QuarantineLink),
        (FindingClass.LayerLinkInvalid, "layer-link-invalid", FindingSeverity.Error, RepairAction.QuarantineLink),
        (FindingClass.LayerLinkDangling, "layer-link-dangling", FindingSeverity.Warning, RepairAction.QuarantineLink),
        (FindingClass.BlobCorrupt, "blob-corrupt", FindingSeverity.Error, RepairAction.QuarantineBlob),
        (FindingClass.UploadStale, "upload-stale", FindingSeverity.Info, RepairAction.QuarantineUpload),
        (FindingClass.BlobUnreferenced, "blob-unreferenced", FindingSeverity.Info, RepairAction.None),
    ];

    [Fact]
    public void Table_MatchesPinnedNamesSeveritiesAndRepairs()
    {
        Assert.Equal(Pinned, FindingClasses.All.Select(c => (c.Class, c.Name, c.Severity, c.Repair)));
    }

    [Fact]
    public void Table_HasOneRowPerEnumValue_InEnumOrder()
    {
        Assert.Equal(Enum.GetValues<FindingClass>(), FindingClasses.All.Select(c => c.Class));
    }

    [Fact]
    public void EveryClass_HasFailureModeExplanationAndFix()
    {
        Assert.All(FindingClasses.All, c =>
        {
            Assert.NotEmpty(c.FailureMode);
            Assert.NotEmpty(c.Summary);
            Assert.NotEmpty(c.Fix);
        });
    }

    [Fact]
    public void RunbookFailureModes_AreMapped()
    {
        Assert.StartsWith("runbook 2", FindingClass.TagLinkEmpty.Info().FailureMode);
        Assert.StartsWith("runbook 1", FindingClass.LayerUnlinked.Info().FailureMode);
        Assert.StartsWith("runbook 1", FindingClass.LayerMissing.Info().FailureMode);
    }

    [Fact]
    public void TryParse_RoundTripsEveryName()
    {
        foreach (var c in FindingClasses.All)
        {
            Assert.True(FindingClasses.TryParse(c.Name, out var parsed));
            Assert.Equal(c.Class, parsed);
        }
        Assert.False(FindingClasses.TryParse("no-such-class", out _));
    }

    [Fact]
    public void Documentation_ListsEveryClass()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Berth.slnx")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        var doc = File.ReadAllText(Path.Combine(dir.FullName, "docs", "cli-doctor.md"));
        Assert.All(FindingClasses.All, c => Assert.Contains($"| `{c.Name}` | {c.Severity.Name()} |", doc));
    }
}
