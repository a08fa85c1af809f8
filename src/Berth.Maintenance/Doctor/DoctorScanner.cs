using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Berth.Core.Manifests;
using Berth.Storage;
using Berth.Storage.Layout;

namespace Berth.Maintenance.Doctor;

/// <summary>
/// One scan. A full scan first walks the blob store (sizes; hashes with --verify-content). Repositories are
/// discovered by listing, streamed through a bounded channel and checked with bounded parallelism. Within a
/// repository the revision and _layers folders are listed (one listing per algorithm folder) and the link files
/// read; tags are walked in one go on object stores and listed on local filesystems, where a walk costs a stat
/// per file. Blob existence and content checks are shared between repositories. Everything goes through
/// <see cref="IStorageDriver"/>.
/// </summary>
internal sealed class DoctorScanner
{
    /// <summary>Distribution refuses manifests above 4 MiB; anything bigger is not read as one.</summary>
    private const long MaxManifestSize = 4 << 20;

    private const int MaxIndexDepth = 8;

    /// <summary>Objects checked at once inside one repository (the repositories themselves run in parallel too).</summary>
    private const int InnerParallelism = 4;

    private readonly IStorageDriver _driver;
    private readonly DoctorScope _scope;
    private readonly DoctorOptions _options;
    private readonly DoctorProgress _progress;
    private readonly ConcurrentBag<Finding> _findings = [];
    private readonly ConcurrentDictionary<Digest, Lazy<Task<BlobState>>> _blobs = new();
    private readonly ConcurrentDictionary<Digest, Lazy<Task<bool?>>> _verified = new();
    private readonly ConcurrentDictionary<Digest, CorruptBlob> _corrupt = new();
    private readonly ConcurrentDictionary<Digest, byte> _marked = new();
    private readonly SemaphoreSlim _listGate;
    private readonly bool _localFiles;
    private ConcurrentDictionary<Digest, long>? _blobSizes;
    private int _repositories;
    private int _tags;
    private long _bytesVerified;

    public DoctorScanner(IStorageDriver driver, DoctorScope scope, DoctorOptions options)
    {
        _driver = driver;
        _scope = scope;
        _options = options;
        _progress = options.Progress ?? new DoctorProgress();
        _listGate = new SemaphoreSlim(Math.Max(1, options.MaxDegreeOfParallelism));
        _localFiles = driver is ILocalFileAccess;
    }

    private sealed record BlobState(bool Exists, long Size);

    private sealed class CorruptBlob(long size, string actual)
    {
        public long Size { get; } = size;

        public string Actual { get; } = actual;

        public ConcurrentDictionary<string, byte> Links { get; } = new(StringComparer.Ordinal);
    }

    private enum ManifestStatus
    {
        Ok,
        Missing,
        Empty,
        TooLarge,
        Corrupt,
        Unparseable,
        Unsupported,
    }

    private sealed record ManifestInfo(ManifestStatus Status, long Size, ParsedManifest? Parsed, string Detail);

    /// <summary>What reading a link found, with a printable preview of its content.</summary>
    private readonly record struct LinkState(LinkFile.Status Status, Digest Digest, string Detail, bool Mismatch)
    {
        public bool IsOk => Status == LinkFile.Status.Ok && !Mismatch;
    }

    /// <summary>Per-repository caches: link reads and manifest analyses are done once per repository.</summary>
    private sealed class RepositoryContext(string name)
    {
        public string Name { get; } = name;

        public ConcurrentDictionary<Digest, Lazy<Task<LinkState>>> Revisions { get; } = new();

        public ConcurrentDictionary<Digest, Lazy<Task<LinkState>>> Layers { get; } = new();

        public ConcurrentDictionary<Digest, Lazy<Task<ManifestInfo>>> Manifests { get; } = new();
    }

    /// <summary>A link found by listing: the digest its folder names, that folder as text, the link's path; and,
    /// when the driver read it while listing (<see cref="IChildObjectReader"/>), what it holds (<see cref="Content"/>
    /// null: no link file there). The texts are built when asked for (a finding), not for every link.</summary>
    private sealed class LinkObject
    {
        private readonly string? _directory;
        private readonly string? _algorithm;
        private readonly string? _hex;
        private string? _pathText;
        private string? _path;

        public LinkObject(Digest? pathDigest, string pathText, string path)
        {
            PathDigest = pathDigest;
            _pathText = pathText;
            _path = path;
        }

        /// <summary>The link "<paramref name="algorithmDirectory"/>/<paramref name="hex"/>/link".</summary>
        public LinkObject(Digest? pathDigest, string algorithmDirectory, string algorithm, string hex)
        {
            PathDigest = pathDigest;
            _directory = algorithmDirectory;
            _algorithm = algorithm;
            _hex = hex;
        }

        public Digest? PathDigest { get; }

        public string PathText => _pathText ??= _algorithm + ":" + _hex;

        public string Path => _path ??= _directory + "/" + _hex + "/link";

        /// <summary>True when <see cref="Content"/> says what the link file holds (null: it is missing).</summary>
        public bool Prefetched { get; init; }

        public byte[]? Content { get; init; }
    }

    /// <summary>A repository as discovery found it, with which of its own folders exist (saves listing absent ones).</summary>
    private sealed record FoundRepository(string Name, bool HasManifests, bool HasLayers, bool HasUploads);

    public async Task<DoctorReport> RunAsync(CancellationToken cancellationToken)
    {
        if (_localFiles)
        {
            // Local file reads and listings block the thread that makes them: give the pool a thread for each
            // repository worker and each discovery listing, so that that many reads are outstanding at once
            // (what a cold cache needs) without waiting for the pool to grow by itself.
            ThreadPool.GetMinThreads(out var workers, out var completionPorts);
            var wanted = 2 * _options.MaxDegreeOfParallelism + Environment.ProcessorCount;
            if (workers < wanted)
            {
                ThreadPool.SetMinThreads(wanted, completionPorts);
            }
        }
        var started = _options.TimeProvider.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var targetResults = new List<TargetResult>();
        long blobsScanned = 0, unreferenced = 0, unreferencedBytes = 0;

        Channel<FoundRepository>? channel = null;
        Task? discovery = null;
        if (_scope.Targets is null)
        {
            // Discovery (listing the repository folders) starts now and runs beside the blob store pass: it only
            // lists, and the repositories it finds wait in the channel until that pass is over.
            channel = Channel.CreateBounded<FoundRepository>(new BoundedChannelOptions(1024) { SingleReader = false, SingleWriter = false });
            discovery = Task.Run(() => DiscoverAsync(channel.Writer, cancellationToken), CancellationToken.None);
        }
        if (_scope.IsFull)
        {
            // The blob store first: one pass gives every blob's size, so that the repository checks need no stat per
            // blob; with --verify-content every blob is hashed here, in parallel.
            _progress.SetPhase("blobs");
            _blobSizes = new ConcurrentDictionary<Digest, long>();
            try
            {
                await IndexBlobsAsync(cancellationToken).ConfigureAwait(false);
            }
            catch when (channel is not null)
            {
                channel.Writer.TryComplete();
                await Task.WhenAny(discovery!).ConfigureAwait(false);
                throw;
            }
            blobsScanned = _blobSizes.Count;
        }

        _progress.SetPhase("repositories");
        if (_scope.Targets is not null)
        {
            targetResults = await CheckTargetsAsync(_scope.Targets, cancellationToken).ConfigureAwait(false);
            _progress.DiscoveryDone = true;
        }
        else
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
            try
            {
                await Parallel.ForEachAsync(channel!.Reader.ReadAllAsync(cancellationToken), parallel, async (repository, ct) =>
                {
                    await ScanRepositoryAsync(repository, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref _repositories);
                    _progress.RepositoryScanned();
                }).ConfigureAwait(false);
            }
            finally
            {
                channel!.Writer.TryComplete();
                await discovery!.ConfigureAwait(false);
            }
        }

        if (_blobSizes is not null)
        {
            // What garbage collection would sweep: blobs no manifest of any revision references.
            var listed = 0;
            // Only the unreferenced ones are sorted (a few, against every blob in the store).
            foreach (var (digest, size) in _blobSizes.Where(kv => !_marked.ContainsKey(kv.Key)).OrderBy(kv => kv.Key.Hex, StringComparer.Ordinal))
            {
                unreferenced++;
                unreferencedBytes += size;
                if (++listed <= _options.MaxUnreferencedListed)
                {
                    Report(null, new Finding(FindingClass.BlobUnreferenced, null, null, digest.ToString(), StoragePaths.BlobData(digest),
                        $"{Bytes(size)} that no manifest in any repository references", size));
                }
            }
        }

        var corruptFindings = new Dictionary<string, Finding>(StringComparer.Ordinal);
        foreach (var (digest, corrupt) in _corrupt)
        {
            var links = corrupt.Links.Keys.Order(StringComparer.Ordinal).ToList();
            var f = new Finding(FindingClass.BlobCorrupt, null, null, digest.ToString(), StoragePaths.BlobData(digest),
                $"{Bytes(corrupt.Size)} hashing to {corrupt.Actual}" + (links.Count > 0 ? $"; {links.Count} link(s) in the scanned repositories point at it" : ""),
                corrupt.Size)
            { RelatedPaths = links };
            corruptFindings[f.Digest!] = f;
            Report(null, f);
        }
        if (targetResults.Count > 0)
        {
            targetResults = [.. targetResults.Select(t => t.Target.Kind == DoctorTargetKind.Blob && corruptFindings.TryGetValue(t.Target.Reference, out var f)
                ? t with { Status = TargetStatus.Broken, Findings = [.. t.Findings, f] }
                : t)];
        }

        _progress.SetPhase("done");
        var findings = Sort(Deduplicate(_findings));
        return new DoctorReport
        {
            Findings = findings,
            Summary = DoctorReport.Summarize(findings, _repositories, _tags, blobsScanned, unreferenced, unreferencedBytes, _bytesVerified),
            Scope = _scope,
            VerifyContent = _options.VerifyContent,
            StartedAt = started,
            Duration = clock.Elapsed,
            Targets = targetResults,
            StorageName = _driver.Name,
        };
    }

    // ---------------------------------------------------------------- blob store

    private async Task IndexBlobsAsync(CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        if (_localFiles)
        {
            // On a local filesystem a walk lists every "<hex>" folder (open, getdents, close) and stats its data file;
            // a stat of "<hex>/data" alone does the same with one system call. The 256 prefix folders of each
            // algorithm are handled in parallel, which keeps many reads outstanding when the cache is cold.
            var prefixes = new List<string>();
            foreach (var algorithm in await ListOrEmptyAsync(StoragePaths.BlobsRoot, cancellationToken).ConfigureAwait(false))
            {
                prefixes.AddRange(await ListOrEmptyAsync(algorithm, cancellationToken).ConfigureAwait(false));
            }
            await Parallel.ForEachAsync(prefixes, parallel, async (prefix, ct) =>
            {
                if (_driver is IChildObjectReader reader)
                {
                    // The listing and the stat of every "<hex>/data" in one pass (statx relative to the listed folder).
                    IReadOnlyList<ChildObject> children;
                    bool listed;
                    try
                    {
                        listed = reader.TryListChildObjects(prefix, "data", readContent: false, out children);
                    }
                    catch (PathNotFoundException)
                    {
                        return;
                    }
                    if (listed)
                    {
                        var prefixName = StoragePath.FileName(prefix);
                        var algorithm = StoragePath.FileName(StoragePath.Parent(prefix));
                        foreach (var child in children)
                        {
                            // What TryParseBlobData accepts for "<prefix>/<child>/data".
                            if (prefixName.Length != 2 || !child.Name.StartsWith(prefixName, StringComparison.Ordinal)
                                || !StoragePaths.TryParseDigestDirectory(algorithm, child.Name, out var digest))
                            {
                                continue;
                            }
                            switch (child.Status)
                            {
                                case ChildObjectStatus.File:
                                    await IndexBlobAsync(digest, child.Size, ct).ConfigureAwait(false);
                                    break;
                                case ChildObjectStatus.Unknown:
                                    await IndexBlobDataAsync(prefix + "/" + child.Name + "/data", ct).ConfigureAwait(false);
                                    break;
                            }
                        }
                        return;
                    }
                }
                foreach (var directory in await ListOrEmptyAsync(prefix, ct).ConfigureAwait(false))
                {
                    await IndexBlobDataAsync(directory + "/data", ct).ConfigureAwait(false); // StoragePaths.BlobData
                }
            }).ConfigureAwait(false);
            return;
        }
        var blobs = _driver.WalkAsync(StoragePaths.BlobsRoot, cancellationToken);
        async ValueTask IndexEntry(StorageEntry entry, CancellationToken ct)
        {
            if (StoragePaths.TryParseBlobData(entry.Path, out var digest))
            {
                await IndexBlobAsync(digest, entry.Size, ct).ConfigureAwait(false);
            }
        }
        if (_options.VerifyContent)
        {
            await Parallel.ForEachAsync(blobs, parallel, IndexEntry).ConfigureAwait(false);
        }
        else
        {
            await foreach (var entry in blobs.ConfigureAwait(false))
            {
                await IndexEntry(entry, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Indexes the blob whose data <paramref name="data"/> names (TryParseBlobData checks the whole path), if it is a file.</summary>
    private async ValueTask IndexBlobDataAsync(string data, CancellationToken cancellationToken)
    {
        if (!StoragePaths.TryParseBlobData(data, out var digest))
        {
            return;
        }
        StorageEntry entry;
        try
        {
            entry = await _driver.StatAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PathNotFoundException or InvalidPathException)
        {
            return;
        }
        if (!entry.IsDirectory)
        {
            await IndexBlobAsync(digest, entry.Size, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask IndexBlobAsync(Digest digest, long size, CancellationToken cancellationToken)
    {
        _blobSizes![digest] = size;
        _progress.BlobChecked();
        if (_options.VerifyContent)
        {
            await VerifyAsync(digest, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<string>> ListOrEmptyAsync(string directory, CancellationToken cancellationToken)
    {
        try
        {
            return await _driver.ListAsync(directory, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return [];
        }
    }

    // ---------------------------------------------------------------- discovery

    private async Task DiscoverAsync(ChannelWriter<FoundRepository> writer, CancellationToken cancellationToken)
    {
        try
        {
            var prefix = _scope.RepositoryPrefix?.Trim('/');
            var start = string.IsNullOrEmpty(prefix) ? StoragePaths.RepositoriesRoot : StoragePaths.Repository(prefix);
            if (prefix is not null && !StoragePath.IsValid(start))
            {
                return;
            }
            await DescendAsync(writer, start, prefix ?? "", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _progress.DiscoveryDone = true;
            writer.TryComplete();
        }
    }

    private async Task DescendAsync(ChannelWriter<FoundRepository> writer, string directory, string name, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> children;
        await _listGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            children = await _driver.ListAsync(directory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PathNotFoundException or InvalidPathException)
        {
            return;
        }
        finally
        {
            _listGate.Release();
        }
        var names = children.Select(StoragePath.FileName).ToHashSet(StringComparer.Ordinal);
        if (name.Length > 0 && names.Any(StoragePaths.IsRepositoryDataDirName))
        {
            _progress.RepositoryFound();
            var found = new FoundRepository(name, names.Contains(StoragePaths.ManifestsDirName), names.Contains(StoragePaths.LayersDirName), names.Contains(StoragePaths.UploadsDirName));
            await writer.WriteAsync(found, cancellationToken).ConfigureAwait(false);
        }
        var subdirectories = children.Where(c => !StoragePath.FileName(c).StartsWith('_')).ToList();
        // Task.Run: a local filesystem lists synchronously, and discovery would otherwise be one serial walk.
        await Task.WhenAll(subdirectories.Select(c => Task.Run(() =>
            DescendAsync(writer, c, name.Length == 0 ? StoragePath.FileName(c) : name + "/" + StoragePath.FileName(c), cancellationToken), cancellationToken))).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- one repository

    private async Task ScanRepositoryAsync(FoundRepository repository, CancellationToken cancellationToken)
    {
        var name = repository.Name;
        var ctx = new RepositoryContext(name);
        if (_scope.Tag is not null)
        {
            if (repository.HasManifests && await TagExistsAsync(name, _scope.Tag, cancellationToken).ConfigureAwait(false))
            {
                await CheckTagAsync(ctx, _scope.Tag, null, null, cancellationToken).ConfigureAwait(false);
            }
            return;
        }

        if (repository.HasManifests)
        {
            var revisions = await ListLinksAsync(StoragePaths.RevisionsDirectory(name), cancellationToken).ConfigureAwait(false);
            Prefill(ctx.Revisions, revisions);
            await ForEachAsync(revisions, (r, ct) => CheckRevisionLinkAsync(ctx, r, null, ct), cancellationToken).ConfigureAwait(false);
        }
        if (repository.HasLayers)
        {
            var layers = await ListLinksAsync(StoragePaths.LayersDirectory(name), cancellationToken).ConfigureAwait(false);
            Prefill(ctx.Layers, layers);
            await ForEachAsync(layers, (l, ct) => CheckLayerLinkAsync(ctx, l, null, ct), cancellationToken).ConfigureAwait(false);
        }
        if (repository.HasManifests && _localFiles)
        {
            // On a local filesystem listing is cheap and a walk costs a stat per file and a read per folder:
            // list the tag names and each tag's history folder, read the links directly.
            // Where the driver can, each tag's current/link is read in the same pass as the listing.
            IReadOnlyList<ChildObject> tagFolders = [];
            try
            {
                if (_driver is not IChildObjectReader reader || !reader.TryListChildObjects(StoragePaths.TagsDirectory(name), "current/link", readContent: true, out tagFolders))
                {
                    var listed = await _driver.ListAsync(StoragePaths.TagsDirectory(name), cancellationToken).ConfigureAwait(false);
                    tagFolders = [.. listed.Select(folder => new ChildObject(StoragePath.FileName(folder), ChildObjectStatus.Unknown, null, 0))];
                }
            }
            catch (PathNotFoundException)
            {
            }
            await ForEachAsync(tagFolders.OrderBy(t => t.Name, StringComparer.Ordinal).ToList(), async (folder, ct) =>
            {
                var tag = folder.Name;
                var history = await ListLinksAsync(StoragePaths.TagIndexDirectory(name, tag), ct).ConfigureAwait(false);
                var current = folder.Status is ChildObjectStatus.File or ChildObjectStatus.Missing
                    ? new LinkObject(null, "", "") { Prefetched = true, Content = folder.Content }
                    : null;
                await CheckTagAsync(ctx, tag, history, null, ct, current).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        else if (repository.HasManifests)
        {
            // One walk of the tags folder: every current and history link (one paged listing on an object store).
            var tags = new SortedDictionary<string, List<LinkObject>>(StringComparer.Ordinal);
            await foreach (var entry in _driver.WalkAsync(StoragePaths.TagsDirectory(name), cancellationToken).ConfigureAwait(false))
            {
                var o = StoragePaths.ParseRepositoryObject(name, entry.Path);
                if (o.Kind == RepositoryObjectKind.TagIndexLink)
                {
                    TagEntry(tags, o.Tag!).Add(new LinkObject(o.PathDigest, o.PathDigestText!, entry.Path));
                }
                else if (o.Kind is RepositoryObjectKind.TagCurrentLink or RepositoryObjectKind.OtherInTag)
                {
                    TagEntry(tags, o.Tag!);
                }
            }
            // Empty tag folders are invisible to a walk, but Distribution lists them as tags.
            try
            {
                foreach (var t in await _driver.ListAsync(StoragePaths.TagsDirectory(name), cancellationToken).ConfigureAwait(false))
                {
                    TagEntry(tags, StoragePath.FileName(t));
                }
            }
            catch (PathNotFoundException)
            {
            }
            await ForEachAsync(tags, (t, ct) => CheckTagAsync(ctx, t.Key, t.Value, null, ct), cancellationToken).ConfigureAwait(false);
        }
        if (repository.HasUploads)
        {
            await CheckUploadsAsync(name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The links of a "&lt;alg&gt;/&lt;hex&gt;/link" folder (revisions, _layers), found by listing the algorithm and digest
    /// folders; the link objects themselves are read, not listed (one listing per algorithm, not per digest).</summary>
    private async Task<List<LinkObject>> ListLinksAsync(string directory, CancellationToken cancellationToken)
    {
        var result = new List<LinkObject>();
        IReadOnlyList<string> algorithms;
        try
        {
            algorithms = await _driver.ListAsync(directory, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return result;
        }
        foreach (var algorithmDirectory in algorithms.Order(StringComparer.Ordinal))
        {
            IReadOnlyList<string>? digests = null;
            IReadOnlyList<ChildObject>? children = null;
            try
            {
                // On a local filesystem the link files are read in the same pass as the listing.
                if (_driver is not IChildObjectReader reader || !reader.TryListChildObjects(algorithmDirectory, "link", readContent: true, out children))
                {
                    children = null;
                    digests = await _driver.ListAsync(algorithmDirectory, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (PathNotFoundException)
            {
                continue; // an object, not a folder
            }
            var algorithm = StoragePath.FileName(algorithmDirectory);
            if (children is not null)
            {
                foreach (var child in children.OrderBy(c => c.Name, StringComparer.Ordinal))
                {
                    var hex = child.Name;
                    result.Add(new LinkObject(StoragePaths.TryParseDigestDirectory(algorithm, hex, out var d) ? d : null, algorithmDirectory, algorithm, hex)
                    {
                        Prefetched = child.Status is ChildObjectStatus.File or ChildObjectStatus.Missing,
                        Content = child.Content,
                    });
                }
                continue;
            }
            foreach (var digestDirectory in digests!.Order(StringComparer.Ordinal))
            {
                var hex = StoragePath.FileName(digestDirectory);
                result.Add(new LinkObject(StoragePaths.TryParseDigestDirectory(algorithm, hex, out var d) ? d : null, algorithm + ":" + hex, digestDirectory + "/link"));
            }
        }
        return result;
    }

    private static List<LinkObject> TagEntry(SortedDictionary<string, List<LinkObject>> tags, string tag)
    {
        if (!tags.TryGetValue(tag, out var list))
        {
            tags[tag] = list = [];
        }
        return list;
    }

    private async Task<bool> TagExistsAsync(string name, string tag, CancellationToken cancellationToken)
    {
        try
        {
            var path = StoragePaths.TagDirectory(name, tag);
            if (!StoragePath.IsValid(path))
            {
                return false;
            }
            await _driver.StatAsync(path, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }

    /// <summary>A revision link: well-formed, naming its own digest, pointing at blob data. Marks what the manifest references.</summary>
    private async Task CheckRevisionLinkAsync(RepositoryContext ctx, LinkObject link, List<Finding>? sink, CancellationToken cancellationToken)
    {
        if (link.PathDigest is not { } digest)
        {
            if ((await ReadLinkAsync(link, null, cancellationToken).ConfigureAwait(false)).Status != LinkFile.Status.Missing)
            {
                Report(sink, new Finding(FindingClass.RevisionLinkInvalid, ctx.Name, null, link.PathText, link.Path,
                    $"the revision folder '{link.PathText}' does not name a valid digest"));
            }
            return;
        }
        var state = await RevisionLinkAsync(ctx, digest, cancellationToken).ConfigureAwait(false);
        if (state.Status == LinkFile.Status.Missing)
        {
            return; // a folder without a link file: nothing that a registry reads
        }
        if (!state.IsOk)
        {
            Report(sink, new Finding(FindingClass.RevisionLinkInvalid, ctx.Name, null, digest.ToString(), link.Path, "revision link " + state.Detail));
            return;
        }
        var manifest = await ManifestAsync(ctx, digest, cancellationToken).ConfigureAwait(false);
        if (manifest.Status == ManifestStatus.Missing)
        {
            Report(sink, new Finding(FindingClass.RevisionLinkDangling, ctx.Name, null, digest.ToString(), link.Path,
                $"revision link points at {digest}, whose blob data is missing"));
            return;
        }
        if (_corrupt.TryGetValue(digest, out var corrupt))
        {
            corrupt.Links.TryAdd(link.Path, 0);
        }
        Mark(digest);
        if (manifest.Parsed is { } parsed)
        {
            foreach (var d in References(parsed))
            {
                Mark(d);
            }
        }
    }

    /// <summary>A _layers link: well-formed, naming its own digest, pointing at blob data (and intact, with --verify-content).</summary>
    private async Task CheckLayerLinkAsync(RepositoryContext ctx, LinkObject link, List<Finding>? sink, CancellationToken cancellationToken)
    {
        if (link.PathDigest is not { } digest)
        {
            if ((await ReadLinkAsync(link, null, cancellationToken).ConfigureAwait(false)).Status != LinkFile.Status.Missing)
            {
                Report(sink, new Finding(FindingClass.LayerLinkInvalid, ctx.Name, null, link.PathText, link.Path,
                    $"the _layers folder '{link.PathText}' does not name a valid digest"));
            }
            return;
        }
        var state = await LayerLinkAsync(ctx, digest, cancellationToken).ConfigureAwait(false);
        if (state.Status == LinkFile.Status.Missing)
        {
            return; // a folder without a link file: nothing that a registry reads
        }
        if (!state.IsOk)
        {
            Report(sink, new Finding(FindingClass.LayerLinkInvalid, ctx.Name, null, digest.ToString(), link.Path, "_layers link " + state.Detail));
            return;
        }
        var blob = await BlobAsync(digest, cancellationToken).ConfigureAwait(false);
        if (!blob.Exists)
        {
            Report(sink, new Finding(FindingClass.LayerLinkDangling, ctx.Name, null, digest.ToString(), link.Path,
                $"_layers link points at {digest}, whose blob data is missing"));
            return;
        }
        if (_options.VerifyContent)
        {
            await VerifyAsync(digest, cancellationToken).ConfigureAwait(false);
        }
        if (_corrupt.TryGetValue(digest, out var corrupt))
        {
            corrupt.Links.TryAdd(link.Path, 0);
        }
    }

    // ---------------------------------------------------------------- tags

    /// <summary>Checks one tag as a pull would use it: current link, revision link, manifest, everything it references;
    /// then the tag's history links. <paramref name="history"/> is null when the tag folder was not walked yet.</summary>
    private async Task CheckTagAsync(RepositoryContext ctx, string tag, List<LinkObject>? history, List<Finding>? sink, CancellationToken cancellationToken,
        LinkObject? prefetchedCurrent = null)
    {
        Interlocked.Increment(ref _tags);
        _progress.TagScanned();
        var name = ctx.Name;
        var currentPath = StoragePaths.TagCurrentLink(name, tag);
        if (!StoragePath.IsValid(currentPath))
        {
            Report(sink, new Finding(FindingClass.TagLinkInvalid, name, tag, null, StoragePaths.TagDirectory(name, tag), "the tag folder's name is not a valid tag"));
            return;
        }
        var current = prefetchedCurrent is not null
            ? await ReadLinkAsync(prefetchedCurrent, null, cancellationToken).ConfigureAwait(false)
            : await ReadLinkAsync(currentPath, null, cancellationToken).ConfigureAwait(false);
        switch (current.Status)
        {
            case LinkFile.Status.Missing:
                Report(sink, new Finding(FindingClass.TagLinkMissing, name, tag, null, currentPath, "the tag folder exists but current/link does not"));
                break;
            case LinkFile.Status.Empty:
                Report(sink, new Finding(FindingClass.TagLinkEmpty, name, tag, null, currentPath, "current/link " + current.Detail));
                break;
            case LinkFile.Status.Invalid:
                Report(sink, new Finding(FindingClass.TagLinkInvalid, name, tag, null, currentPath, "current/link " + current.Detail));
                break;
            default:
                await CheckManifestAsync(ctx, tag, current.Digest, null, null, 0, [current.Digest], sink, cancellationToken).ConfigureAwait(false);
                break;
        }

        if (history is null)
        {
            history = [];
            await foreach (var entry in _driver.WalkAsync(StoragePaths.TagIndexDirectory(name, tag), cancellationToken).ConfigureAwait(false))
            {
                var o = StoragePaths.ParseRepositoryObject(name, entry.Path);
                if (o.Kind == RepositoryObjectKind.TagIndexLink)
                {
                    history.Add(new LinkObject(o.PathDigest, o.PathDigestText!, entry.Path));
                }
            }
        }
        foreach (var link in history)
        {
            if (link.PathDigest is not { } digest)
            {
                if ((await ReadLinkAsync(link, null, cancellationToken).ConfigureAwait(false)).Status != LinkFile.Status.Missing)
                {
                    Report(sink, new Finding(FindingClass.TagIndexInvalid, name, tag, link.PathText, link.Path, $"the index folder '{link.PathText}' does not name a valid digest"));
                }
                continue;
            }
            var state = await ReadLinkAsync(link, digest, cancellationToken).ConfigureAwait(false);
            if (state.Status == LinkFile.Status.Missing)
            {
                continue; // a folder without a link file
            }
            if (!state.IsOk)
            {
                Report(sink, new Finding(FindingClass.TagIndexInvalid, name, tag, digest.ToString(), link.Path, "index link " + state.Detail));
                continue;
            }
            if (!(await BlobAsync(digest, cancellationToken).ConfigureAwait(false)).Exists)
            {
                Report(sink, new Finding(FindingClass.TagIndexDangling, name, tag, digest.ToString(), link.Path, $"index link points at {digest}, whose blob data is missing"));
                continue;
            }
            if (_corrupt.TryGetValue(digest, out var corrupt))
            {
                corrupt.Links.TryAdd(link.Path, 0);
            }
        }
    }

    /// <summary>Checks a manifest reached from a tag (<paramref name="via"/> null, <paramref name="owner"/> null),
    /// from a pull by digest (<paramref name="tag"/> null), or as a child of an index (<paramref name="via"/> its descriptor).</summary>
    private async Task CheckManifestAsync(RepositoryContext ctx, string? tag, Digest digest, Descriptor? via, Digest? owner, int depth,
        HashSet<Digest> visited, List<Finding>? sink, CancellationToken cancellationToken)
    {
        var name = ctx.Name;
        // The texts are built only for a finding (this runs for every manifest a tag reaches).
        var revision = await RevisionLinkAsync(ctx, digest, cancellationToken).ConfigureAwait(false);
        var manifest = await ManifestAsync(ctx, digest, cancellationToken).ConfigureAwait(false);
        if (via is null)
        {
            if (!revision.IsOk)
            {
                Report(sink, new Finding(FindingClass.TagRevisionMissing, name, tag, digest.ToString(), StoragePaths.RevisionLink(name, digest),
                    $"the tag points at {digest.ToString()} but its revision link " + revision.Detail));
                return;
            }
            if (manifest.Status == ManifestStatus.Missing)
            {
                Report(sink, new Finding(FindingClass.ManifestBlobMissing, name, tag, digest.ToString(), StoragePaths.BlobData(digest), $"the revision link is there but the manifest's blob data is missing"));
                return;
            }
        }
        else
        {
            if (manifest.Status == ManifestStatus.Missing)
            {
                Report(sink, new Finding(FindingClass.ChildManifestMissing, name, tag, digest.ToString(), StoragePaths.BlobData(digest), $"{via.MediaType} {digest.ToString()}{ListedBy(owner)} has no blob data"));
                return;
            }
            if (!revision.IsOk)
            {
                Report(sink, new Finding(FindingClass.ChildManifestUnlinked, name, tag, digest.ToString(), StoragePaths.RevisionLink(name, digest),
                    $"{digest.ToString()}{ListedBy(owner)}: revision link " + revision.Detail));
                return;
            }
            if (manifest.Size != via.Size && manifest.Status is not (ManifestStatus.Empty or ManifestStatus.Corrupt))
            {
                Report(sink, new Finding(FindingClass.ManifestSizeMismatch, name, tag, digest.ToString(), StoragePaths.BlobData(digest), $"{digest.ToString()}{ListedBy(owner)} is {Bytes(manifest.Size)}, the index says {Bytes(via.Size)}"));
                return;
            }
        }
        switch (manifest.Status)
        {
            case ManifestStatus.Empty:
                Report(sink, new Finding(FindingClass.ManifestSizeMismatch, name, tag, digest.ToString(), StoragePaths.BlobData(digest), $"manifest {digest.ToString()}{ListedBy(owner)} is 0 bytes"));
                return;
            case ManifestStatus.Corrupt:
                Report(sink, new Finding(FindingClass.ManifestCorrupt, name, tag, digest.ToString(), StoragePaths.BlobData(digest), $"manifest {digest.ToString()}{ListedBy(owner)} " + manifest.Detail));
                return;
            case ManifestStatus.TooLarge or ManifestStatus.Unparseable:
                Report(sink, new Finding(FindingClass.ManifestUnparseable, name, tag, digest.ToString(), StoragePaths.BlobData(digest), $"manifest {digest.ToString()}{ListedBy(owner)}: " + manifest.Detail));
                return;
            case ManifestStatus.Unsupported:
                Report(sink, new Finding(FindingClass.ManifestUnsupported, name, tag, digest.ToString(), StoragePaths.BlobData(digest), $"manifest {digest.ToString()}{ListedBy(owner)}: " + manifest.Detail));
                return;
        }
        var parsed = manifest.Parsed!;
        foreach (var blob in parsed.RequiredBlobs)
        {
            await CheckBlobReferenceAsync(ctx, tag, blob, digest, parsed.Config == blob, sink, cancellationToken).ConfigureAwait(false);
        }
        foreach (var child in parsed.Manifests)
        {
            if (depth < MaxIndexDepth && visited.Add(child.Digest))
            {
                await CheckManifestAsync(ctx, tag, child.Digest, child, digest, depth + 1, visited, sink, cancellationToken).ConfigureAwait(false);
            }
        }
        if (parsed.Subject is { } subject)
        {
            var subjectLink = await RevisionLinkAsync(ctx, subject.Digest, cancellationToken).ConfigureAwait(false);
            var subjectBlob = await BlobAsync(subject.Digest, cancellationToken).ConfigureAwait(false);
            if (!subjectLink.IsOk || !subjectBlob.Exists)
            {
                Report(sink, new Finding(FindingClass.SubjectMissing, name, tag, subject.Digest.ToString(), StoragePaths.RevisionLink(name, subject.Digest),
                    $"manifest {digest.ToString()} names subject {subject.Digest}, which is not in the repository"));
            }
        }
    }

    private async Task CheckBlobReferenceAsync(RepositoryContext ctx, string? tag, Descriptor blob, Digest owner, bool isConfig, List<Finding>? sink, CancellationToken cancellationToken)
    {
        var name = ctx.Name;
        // The texts are built only for a finding: this runs for every blob reference of every manifest.
        var state = await BlobAsync(blob.Digest, cancellationToken).ConfigureAwait(false);
        if (!state.Exists)
        {
            Report(sink, new Finding(FindingClass.LayerMissing, name, tag, blob.Digest.ToString(), StoragePaths.BlobData(blob.Digest), BlobReference(isConfig, blob.Digest, owner) + ": blob data is missing"));
            return;
        }
        var link = await LayerLinkAsync(ctx, blob.Digest, cancellationToken).ConfigureAwait(false);
        if (!link.IsOk)
        {
            Report(sink, new Finding(FindingClass.LayerUnlinked, name, tag, blob.Digest.ToString(), StoragePaths.LayerLink(name, blob.Digest), BlobReference(isConfig, blob.Digest, owner) + ": _layers link " + link.Detail));
        }
        var intact = _options.VerifyContent ? await VerifyAsync(blob.Digest, cancellationToken).ConfigureAwait(false) : null;
        if (intact == false)
        {
            var actual = _corrupt.TryGetValue(blob.Digest, out var c) ? c.Actual : "something else";
            Report(sink, new Finding(FindingClass.LayerCorrupt, name, tag, blob.Digest.ToString(), StoragePaths.BlobData(blob.Digest), $"{BlobReference(isConfig, blob.Digest, owner)}: blob data ({Bytes(state.Size)}) hashes to {actual}"));
        }
        else if (state.Size != blob.Size)
        {
            Report(sink, new Finding(FindingClass.LayerSizeMismatch, name, tag, blob.Digest.ToString(), StoragePaths.BlobData(blob.Digest), $"{BlobReference(isConfig, blob.Digest, owner)}: blob data is {Bytes(state.Size)}, the manifest says {Bytes(blob.Size)}"));
        }
    }

    // ---------------------------------------------------------------- uploads

    private async Task CheckUploadsAsync(string name, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> uploads;
        try
        {
            uploads = await _driver.ListAsync(StoragePaths.UploadsDirectory(name), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return;
        }
        var now = _options.TimeProvider.GetUtcNow();
        foreach (var directory in uploads.Order(StringComparer.Ordinal))
        {
            var id = StoragePath.FileName(directory);
            long size = 0;
            DateTimeOffset? newest = null;
            await foreach (var entry in _driver.WalkAsync(directory, cancellationToken).ConfigureAwait(false))
            {
                size += entry.Size;
                newest = newest is null || entry.ModifiedAt > newest ? entry.ModifiedAt : newest;
            }
            DateTimeOffset? started = null;
            var source = "startedat";
            try
            {
                var text = Encoding.UTF8.GetString(await _driver.GetContentAsync(StoragePaths.UploadStartedAt(name, id), cancellationToken).ConfigureAwait(false)).Trim();
                if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t))
                {
                    started = t;
                }
            }
            catch (Exception e) when (e is PathNotFoundException or InvalidPathException)
            {
            }
            if (started is null)
            {
                source = "last modified";
                if (newest is null)
                {
                    try
                    {
                        newest = (await _driver.StatAsync(directory, cancellationToken).ConfigureAwait(false)).ModifiedAt;
                    }
                    catch (PathNotFoundException)
                    {
                        continue;
                    }
                }
                started = newest;
            }
            var age = now - started.Value;
            if (age > _options.UploadMaxAge)
            {
                Report(null, new Finding(FindingClass.UploadStale, name, null, null, directory,
                    $"upload {id} ({Bytes(size)}) {source} {started.Value.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}, {Age(age)} ago", size));
            }
        }
    }

    // ---------------------------------------------------------------- targets (request paths)

    private async Task<List<TargetResult>> CheckTargetsAsync(IReadOnlyList<DoctorTarget> targets, CancellationToken cancellationToken)
    {
        var results = new TargetResult[targets.Count];
        var groups = targets.Select((t, i) => (t, i)).Where(x => _scope.IncludesRepository(x.t.Repository)).GroupBy(x => x.t.Repository).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(groups, parallel, async (group, ct) =>
        {
            var ctx = new RepositoryContext(group.Key);
            Interlocked.Increment(ref _repositories);
            _progress.RepositoryFound();
            foreach (var (target, index) in group)
            {
                var sink = new List<Finding>();
                var found = await CheckTargetAsync(ctx, target, sink, ct).ConfigureAwait(false);
                var status = !found ? TargetStatus.NotFound
                    : sink.Any(f => f.Severity == FindingSeverity.Error) ? TargetStatus.Broken
                    : sink.Any(f => f.Severity == FindingSeverity.Warning) ? TargetStatus.Degraded
                    : TargetStatus.Healthy;
                results[index] = new TargetResult(target, status, Deduplicate(sink));
            }
            _progress.RepositoryScanned();
        }).ConfigureAwait(false);
        for (var i = 0; i < results.Length; i++)
        {
            results[i] ??= new TargetResult(targets[i], TargetStatus.NotFound, []);
        }
        return [.. results];
    }

    /// <summary>Checks one target; false when it is simply not there (404 is the right answer).</summary>
    private async Task<bool> CheckTargetAsync(RepositoryContext ctx, DoctorTarget target, List<Finding> sink, CancellationToken cancellationToken)
    {
        var name = ctx.Name;
        switch (target.Kind)
        {
            case DoctorTargetKind.Tag:
                if (!await TagExistsAsync(name, target.Reference, cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }
                await CheckTagAsync(ctx, target.Reference, null, sink, cancellationToken).ConfigureAwait(false);
                return true;
            case DoctorTargetKind.ManifestDigest:
            {
                var digest = Digest.Parse(target.Reference);
                var link = await RevisionLinkAsync(ctx, digest, cancellationToken).ConfigureAwait(false);
                if (link.Status == LinkFile.Status.Missing)
                {
                    return false;
                }
                var path = StoragePaths.RevisionLink(name, digest);
                await CheckRevisionLinkAsync(ctx, new LinkObject(digest, target.Reference, path), sink, cancellationToken).ConfigureAwait(false);
                if (sink.Count == 0)
                {
                    await CheckManifestAsync(ctx, null, digest, null, null, 0, [digest], sink, cancellationToken).ConfigureAwait(false);
                }
                return true;
            }
            default:
            {
                var digest = Digest.Parse(target.Reference);
                var link = await LayerLinkAsync(ctx, digest, cancellationToken).ConfigureAwait(false);
                if (link.Status == LinkFile.Status.Missing)
                {
                    return false;
                }
                await CheckLayerLinkAsync(ctx, new LinkObject(digest, target.Reference, StoragePaths.LayerLink(name, digest)), sink, cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    // ---------------------------------------------------------------- shared reads

    private Task<LinkState> RevisionLinkAsync(RepositoryContext ctx, Digest digest, CancellationToken cancellationToken) =>
        ctx.Revisions.GetOrAdd(digest, d => new Lazy<Task<LinkState>>(() => ReadLinkAsync(StoragePaths.RevisionLink(ctx.Name, d), d, cancellationToken))).Value;

    private Task<LinkState> LayerLinkAsync(RepositoryContext ctx, Digest digest, CancellationToken cancellationToken) =>
        ctx.Layers.GetOrAdd(digest, d => new Lazy<Task<LinkState>>(() => ReadLinkAsync(StoragePaths.LayerLink(ctx.Name, d), d, cancellationToken))).Value;

    private Task<ManifestInfo> ManifestAsync(RepositoryContext ctx, Digest digest, CancellationToken cancellationToken) =>
        ctx.Manifests.GetOrAdd(digest, d => new Lazy<Task<ManifestInfo>>(() => AnalyzeManifestAsync(d, cancellationToken))).Value;

    /// <summary>Whether blob data exists, and its size: from the blob store walk when there was one (a blob missing
    /// from it is looked at again, it may have been pushed since), else by one stat per blob and scan.</summary>
    private Task<BlobState> BlobAsync(Digest digest, CancellationToken cancellationToken) =>
        _blobSizes is not null && _blobSizes.TryGetValue(digest, out var size)
            ? Task.FromResult(new BlobState(true, size))
            : _blobs.GetOrAdd(digest, d => new Lazy<Task<BlobState>>(() => StatBlobAsync(d, cancellationToken))).Value;

    /// <summary>Hashes a blob once per scan: true intact, false corrupt, null missing.</summary>
    private Task<bool?> VerifyAsync(Digest digest, CancellationToken cancellationToken) =>
        _verified.GetOrAdd(digest, d => new Lazy<Task<bool?>>(() => HashBlobAsync(d, cancellationToken))).Value;

    private async Task<BlobState> StatBlobAsync(Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await _driver.StatAsync(StoragePaths.BlobData(digest), cancellationToken).ConfigureAwait(false);
            return new BlobState(!entry.IsDirectory, entry.Size);
        }
        catch (PathNotFoundException)
        {
            return new BlobState(false, 0);
        }
    }

    private async Task<LinkState> ReadLinkAsync(string path, Digest? expected, CancellationToken cancellationToken)
    {
        byte[] content;
        try
        {
            content = await _driver.GetContentAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return new LinkState(LinkFile.Status.Missing, default, "is missing", false);
        }
        return DecodeLink(content, expected);
    }

    /// <summary>What a link found by listing holds: read in the listing's pass when the driver could, else now.</summary>
    private ValueTask<LinkState> ReadLinkAsync(LinkObject link, Digest? expected, CancellationToken cancellationToken) =>
        link.Prefetched
            ? ValueTask.FromResult(link.Content is null ? new LinkState(LinkFile.Status.Missing, default, "is missing", false) : DecodeLink(link.Content, expected))
            : new ValueTask<LinkState>(ReadLinkAsync(link.Path, expected, cancellationToken));

    /// <summary>Seeds a repository's link cache with the links its listing already read.</summary>
    private static void Prefill(ConcurrentDictionary<Digest, Lazy<Task<LinkState>>> cache, List<LinkObject> links)
    {
        foreach (var link in links)
        {
            if (link.Prefetched && link.PathDigest is { } digest)
            {
                var state = link.Content is null ? new LinkState(LinkFile.Status.Missing, default, "is missing", false) : DecodeLink(link.Content, digest);
                cache.TryAdd(digest, new Lazy<Task<LinkState>>(Task.FromResult(state)));
            }
        }
    }

    private static LinkState DecodeLink(byte[] content, Digest? expected)
    {
        var result = LinkFile.Decode(content);
        return result.Status switch
        {
            LinkFile.Status.Empty => new LinkState(LinkFile.Status.Empty, default, content.Length == 0 ? "is empty (0 bytes)" : $"holds only whitespace ({content.Length} bytes)", false),
            LinkFile.Status.Invalid => new LinkState(LinkFile.Status.Invalid, default, $"holds {Preview(content)}, not a digest", false),
            _ when expected is { } e && result.Digest != e => new LinkState(LinkFile.Status.Ok, result.Digest, $"holds {result.Digest}, not the {e} its folder names", true),
            _ => new LinkState(LinkFile.Status.Ok, result.Digest, "", false),
        };
    }

    private async Task<ManifestInfo> AnalyzeManifestAsync(Digest digest, CancellationToken cancellationToken)
    {
        var blob = await BlobAsync(digest, cancellationToken).ConfigureAwait(false);
        if (!blob.Exists)
        {
            return new ManifestInfo(ManifestStatus.Missing, 0, null, "");
        }
        if (blob.Size == 0)
        {
            return new ManifestInfo(ManifestStatus.Empty, 0, null, "");
        }
        if (blob.Size > MaxManifestSize)
        {
            return new ManifestInfo(ManifestStatus.TooLarge, blob.Size, null, $"{Bytes(blob.Size)} is too large for a manifest");
        }
        byte[] content;
        try
        {
            content = await _driver.GetContentAsync(StoragePaths.BlobData(digest), cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return new ManifestInfo(ManifestStatus.Missing, 0, null, "");
        }
        var actual = Digest.Compute(content, digest.Algorithm);
        if (actual != digest)
        {
            _corrupt.TryAdd(digest, new CorruptBlob(content.Length, actual.ToString()));
            _verified.TryAdd(digest, new Lazy<Task<bool?>>(Task.FromResult<bool?>(false)));
            return new ManifestInfo(ManifestStatus.Corrupt, content.Length, null, $"({Bytes(content.Length)}) hashes to {actual}");
        }
        if (_options.VerifyContent)
        {
            _verified.TryAdd(digest, new Lazy<Task<bool?>>(Task.FromResult<bool?>(true)));
        }
        try
        {
            return new ManifestInfo(ManifestStatus.Ok, content.Length, ManifestParser.Parse(content), "");
        }
        catch (ManifestFormatException e)
        {
            var mediaType = ManifestParser.DetectMediaType(content);
            return MediaTypes.IsSchema1(mediaType)
                ? new ManifestInfo(ManifestStatus.Unsupported, content.Length, null, $"{mediaType} (Docker schema1)")
                : new ManifestInfo(ManifestStatus.Unparseable, content.Length, null, e.Message);
        }
    }

    private async Task<bool?> HashBlobAsync(Digest digest, CancellationToken cancellationToken)
    {
        Stream stream;
        try
        {
            stream = await _driver.OpenReadAsync(StoragePaths.BlobData(digest), 0, cancellationToken).ConfigureAwait(false);
        }
        catch (PathNotFoundException)
        {
            return null;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long total = 0;
        try
        {
            await using (stream.ConfigureAwait(false))
            {
                using var hash = digest.CreateHash();
                int n;
                while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    total += n;
                }
                var actual = Digest.FromHash(digest.Algorithm, hash.GetHashAndReset());
                Interlocked.Add(ref _bytesVerified, total);
                _progress.Verified(total);
                if (actual != digest)
                {
                    _corrupt.TryAdd(digest, new CorruptBlob(total, actual.ToString()));
                    return false;
                }
                return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // ---------------------------------------------------------------- helpers

    private void Mark(Digest digest)
    {
        if (_scope.IsFull)
        {
            _marked.TryAdd(digest, 0);
        }
    }

    private static IEnumerable<Digest> References(ParsedManifest parsed)
    {
        if (parsed.Config is not null)
        {
            yield return parsed.Config.Digest;
        }
        foreach (var l in parsed.Layers)
        {
            yield return l.Digest;
        }
        foreach (var m in parsed.Manifests)
        {
            yield return m.Digest;
        }
        if (parsed.Subject is not null)
        {
            yield return parsed.Subject.Digest;
        }
    }

    private void Report(List<Finding>? sink, Finding finding)
    {
        sink?.Add(finding);
        _findings.Add(finding);
        _progress.Found();
    }

    /// <summary>Runs <paramref name="body"/> over the items: in order for short lists (the repositories already run in
    /// parallel), with a little parallelism for long ones (a repository with thousands of tags on a slow store).</summary>
    private static async Task ForEachAsync<T>(IReadOnlyCollection<T> items, Func<T, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        if (items.Count <= 32)
        {
            foreach (var item in items)
            {
                await body(item, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = InnerParallelism, CancellationToken = cancellationToken },
            async (item, ct) => await body(item, ct).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private static string ListedBy(Digest? owner) => owner is { } o ? $" (listed by index {o})" : "";

    private static string BlobReference(bool isConfig, Digest blob, Digest owner) => (isConfig ? "config " : "layer ") + blob.ToString() + $" of manifest {owner}";

    private static List<Finding> Deduplicate(IEnumerable<Finding> findings) =>
        [.. findings.DistinctBy(f => (f.Class, f.Repository, f.Tag, f.Digest, f.Path))];

    internal static List<Finding> Sort(IEnumerable<Finding> findings) =>
        [.. findings
            .OrderBy(f => f.Repository is null ? 1 : 0)
            .ThenBy(f => f.Repository, StringComparer.Ordinal)
            .ThenBy(f => f.Tag is null ? 1 : 0)
            .ThenBy(f => f.Tag, StringComparer.Ordinal)
            .ThenBy(f => f.Class)
            .ThenBy(f => f.Path, StringComparer.Ordinal)];

    private static string Preview(byte[] content)
    {
        var text = Encoding.UTF8.GetString(content, 0, Math.Min(content.Length, 48));
        var clean = new string([.. text.Select(c => char.IsControl(c) ? '.' : c)]);
        return $"\"{clean}{(content.Length > 48 ? "..." : "")}\" ({content.Length} bytes)";
    }

    internal static string Bytes(long n) => n switch
    {
        < 1024 => $"{n} B",
        < 1024 * 1024 => $"{n / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{n / (1024.0 * 1024):0.#} MiB",
        _ => $"{n / (1024.0 * 1024 * 1024):0.##} GiB",
    };

    internal static string Age(TimeSpan t) => t.TotalDays >= 2 ? $"{t.TotalDays:0} days" : t.TotalHours >= 2 ? $"{t.TotalHours:0} hours" : $"{t.TotalMinutes:0} minutes";
}
