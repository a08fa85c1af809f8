using System.Globalization;
using Berth.Core.Naming;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Doctor;

/// <summary>What a target names: a manifest by tag, a manifest by digest, or a blob.</summary>
public enum DoctorTargetKind
{
    Tag,
    ManifestDigest,
    Blob,
}

/// <summary>One object to check, usually from a request path such as <c>/v2/group/app/manifests/latest</c>.</summary>
public sealed record DoctorTarget(string Repository, DoctorTargetKind Kind, string Reference)
{
    /// <summary>The request path this target answers to.</summary>
    public string RequestPath => Kind == DoctorTargetKind.Blob
        ? $"/v2/{Repository}/blobs/{Reference}"
        : $"/v2/{Repository}/manifests/{Reference}";

    public override string ToString() => RequestPath;

    /// <summary>Reads a request path ("/v2/&lt;name&gt;/manifests/&lt;reference&gt;" or "/v2/&lt;name&gt;/blobs/&lt;digest&gt;").
    /// Query strings are ignored. Returns false for other paths (uploads, tag lists, catalog) and for invalid names.</summary>
    public static bool TryParseRequestPath(string path, out DoctorTarget target)
    {
        target = null!;
        var q = path.IndexOfAny(['?', '#']);
        if (q >= 0)
        {
            path = path[..q];
        }
        if (!path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            return false;
        }
        string rest;
        try
        {
            rest = Uri.UnescapeDataString(path[4..]).TrimEnd('/');
        }
        catch (UriFormatException)
        {
            return false;
        }
        foreach (var (marker, kind) in new[] { ("/manifests/", DoctorTargetKind.Tag), ("/blobs/", DoctorTargetKind.Blob) })
        {
            var i = rest.LastIndexOf(marker, StringComparison.Ordinal);
            if (i <= 0)
            {
                continue;
            }
            var name = rest[..i];
            var reference = rest[(i + marker.Length)..];
            if (!RepositoryName.IsValid(name) || reference.Length == 0 || reference.Contains('/'))
            {
                return false;
            }
            if (Digest.TryParse(reference, out _))
            {
                target = new DoctorTarget(name, kind == DoctorTargetKind.Blob ? DoctorTargetKind.Blob : DoctorTargetKind.ManifestDigest, reference);
                return true;
            }
            if (kind == DoctorTargetKind.Tag && RepositoryName.IsValidTag(reference))
            {
                target = new DoctorTarget(name, DoctorTargetKind.Tag, reference);
                return true;
            }
            return false;
        }
        return false;
    }
}

/// <summary>
/// What to scan. The default scans everything, including the blob store (unreferenced blobs).
/// A repository prefix limits the scan to those repositories (and skips the blob store);
/// a tag or a list of targets checks only those tags and objects.
/// </summary>
public sealed record DoctorScope
{
    public static readonly DoctorScope All = new();

    /// <summary>Repositories named exactly this or nested below it ("group/sub" takes "group/sub/app" but not "group/subway").</summary>
    public string? RepositoryPrefix { get; init; }

    /// <summary>Only this tag, in each repository in scope.</summary>
    public string? Tag { get; init; }

    /// <summary>Only these objects (request paths from logs). Null means no target list.</summary>
    public IReadOnlyList<DoctorTarget>? Targets { get; init; }

    /// <summary>True when the whole storage is scanned: only then are unreferenced blobs reported.</summary>
    public bool IsFull => RepositoryPrefix is null && Tag is null && Targets is null;

    /// <summary>True when only named tags or objects are checked (no link, upload or blob store sweeps).</summary>
    public bool IsTargeted => Tag is not null || Targets is not null;

    public string Describe() =>
        Targets is not null ? $"{Targets.Count} request paths"
        : Tag is not null ? $"tag {Tag}" + (RepositoryPrefix is null ? "" : $" in {RepositoryPrefix}")
        : RepositoryPrefix is not null ? $"repositories {RepositoryPrefix}"
        : "everything";

    public bool IncludesRepository(string name) =>
        RepositoryPrefix is null || name == RepositoryPrefix || name.StartsWith(RepositoryPrefix + "/", StringComparison.Ordinal);
}

/// <summary>Reads a list of request paths, as <c>berth logs</c> writes it or as <c>sort | uniq -c</c> prints it.</summary>
public static class RequestPathList
{
    /// <summary>The result: the targets (deduplicated, in first-seen order) and the lines that name none.</summary>
    public sealed record Result(IReadOnlyList<DoctorTarget> Targets, IReadOnlyList<string> Ignored);

    /// <summary>Accepts "/v2/...", "  174 /v2/..." (a leading count) and lines with a request path among other words;
    /// blank lines and '#' comments are skipped.</summary>
    public static Result Parse(IEnumerable<string> lines)
    {
        var targets = new List<DoctorTarget>();
        var seen = new HashSet<DoctorTarget>();
        var ignored = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var start = words.Length > 1 && long.TryParse(words[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) ? 1 : 0;
            var path = words.Skip(start).Select(w => w.Trim('"')).FirstOrDefault(w => w.StartsWith("/v2/", StringComparison.Ordinal));
            if (path is not null && DoctorTarget.TryParseRequestPath(path, out var target))
            {
                if (seen.Add(target))
                {
                    targets.Add(target);
                }
            }
            else
            {
                ignored.Add(line);
            }
        }
        return new Result(targets, ignored);
    }
}
