using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Berth.Logs.Check;

/// <summary>
/// <c>berth check</c>'s probes: GET <c>/v2/</c> on each target, and optionally the image canary: pull a
/// manifest (index children too) and HEAD every blob it references. Each round uses fresh connections so
/// the latency includes connection (and TLS) set-up, as a client's first request would.
/// </summary>
public static class RegistryChecker
{
    internal static readonly string[] ManifestMediaTypes =
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    private const int MaxManifestBytes = 4 << 20;
    private const int BlobConcurrency = 8;

    public static async Task<CheckReport> CheckAsync(CheckOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var checkedAt = DateTimeOffset.UtcNow;
        var results = await Task.WhenAll(options.Targets.Select(t => CheckTargetAsync(t, options, cancellationToken))).ConfigureAwait(false);
        return new CheckReport(results, checkedAt);
    }

    private static async Task<TargetResult> CheckTargetAsync(Uri target, CheckOptions options, CancellationToken cancellationToken)
    {
        DateTimeOffset? tlsExpires = null;
        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.Timeout,
            AllowAutoRedirect = true,
            MaxConnectionsPerServer = BlobConcurrency,
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is X509Certificate2 c2)
            {
                tlsExpires ??= new DateTimeOffset(c2.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            }

            return options.Insecure || errors == System.Net.Security.SslPolicyErrors.None;
        };
        using var client = new HttpClient(handler) { Timeout = options.Timeout };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("berth-check/1.0");
        var baseUrl = target.ToString().TrimEnd('/');

        int? status = null;
        double? latency = null;
        string? error = null;
        var up = false;
        AuthenticationHeaderValue? challenge = null;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var response = await client.GetAsync(baseUrl + "/v2/", HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            latency = Math.Round(stopwatch.Elapsed.TotalMilliseconds, 1);
            status = (int)response.StatusCode;
            challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            up = response.StatusCode == HttpStatusCode.OK || (response.StatusCode == HttpStatusCode.Unauthorized && challenge is not null);
            if (!up)
            {
                error = response.StatusCode == HttpStatusCode.Unauthorized
                    ? "401 without a WWW-Authenticate challenge"
                    : $"GET /v2/ answered {status} {response.ReasonPhrase}";
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            error = Describe(e, options.Timeout);
        }

        ImageResult? image = null;
        if (up && options.Image is { } reference)
        {
            var session = new ImageSession(client, baseUrl, reference, challenge, cancellationToken);
            image = await session.RunAsync().ConfigureAwait(false);
        }

        var soon = options.TlsMinDays is { } days && tlsExpires is { } exp && exp < DateTimeOffset.UtcNow.AddDays(days);
        return new TargetResult(target.ToString(), up, status, latency, tlsExpires, error, image) { TlsExpiresSoon = soon };
    }

    internal static string Describe(Exception e, TimeSpan timeout)
    {
        if (e is TaskCanceledException)
        {
            return $"no answer within {timeout.TotalSeconds:0.#} s";
        }

        var messages = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (!messages.Any(m => m.Contains(x.Message, StringComparison.Ordinal)))
            {
                messages.Add(x.Message);
            }
        }

        return string.Join(": ", messages);
    }

    /// <summary>The canary for one image on one target.</summary>
    private sealed class ImageSession(HttpClient client, string baseUrl, ImageReference image, AuthenticationHeaderValue? challenge, CancellationToken cancellationToken)
    {
        private readonly List<ImageProblem> _problems = [];
        private readonly Dictionary<string, (string Kind, string Parent, long? Size)> _blobs = new(StringComparer.Ordinal);
        private AuthenticationHeaderValue? _authorization;
        private int _manifests;

        public async Task<ImageResult> RunAsync()
        {
            var stopwatch = Stopwatch.StartNew();
            if (challenge is not null)
            {
                _authorization = await TokenAuth.TryGetAsync(client, challenge, image.Name, cancellationToken).ConfigureAwait(false);
            }

            var top = await FetchManifestAsync(image.Reference, "manifest", parent: null).ConfigureAwait(false);
            if (top is { } manifest)
            {
                if (manifest.Children.Count > 0)
                {
                    foreach (var child in manifest.Children)
                    {
                        await FetchManifestAsync(child, "child-manifest", manifest.Digest).ConfigureAwait(false);
                    }
                }

                await HeadBlobsAsync().ConfigureAwait(false);
            }

            return new ImageResult(image.ToString(), top?.Digest, top?.MediaType, _manifests, _blobs.Count,
                Math.Round(stopwatch.Elapsed.TotalMilliseconds, 1), _problems.ToArray());
        }

        private sealed record Manifest(string Digest, string? MediaType, List<string> Children);

        private async Task<Manifest?> FetchManifestAsync(string reference, string kind, string? parent)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/v2/{image.Name}/manifests/{reference}");
            foreach (var mediaType in ManifestMediaTypes)
            {
                request.Headers.Accept.ParseAdd(mediaType);
            }

            request.Headers.Authorization = _authorization;
            byte[] body;
            string? contentType;
            string? headerDigest;
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                _manifests++;
                if (!response.IsSuccessStatusCode)
                {
                    var detail = await ErrorDetailAsync(response).ConfigureAwait(false);
                    _problems.Add(new ImageProblem(kind, reference, parent, (int)response.StatusCode, $"GET manifest answered {(int)response.StatusCode}{detail}"));
                    return null;
                }

                if (response.Content.Headers.ContentLength > MaxManifestBytes)
                {
                    _problems.Add(new ImageProblem(kind, reference, parent, (int)response.StatusCode, "manifest larger than 4 MiB"));
                    return null;
                }

                body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                contentType = response.Content.Headers.ContentType?.MediaType;
                headerDigest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
            {
                _problems.Add(new ImageProblem(kind, reference, parent, null, "GET manifest failed: " + Describe(e, client.Timeout)));
                return null;
            }

            var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
            if (reference.StartsWith("sha256:", StringComparison.Ordinal) && reference != digest)
            {
                _problems.Add(new ImageProblem(kind, reference, parent, 200, $"manifest content has digest {digest}, not the one asked for"));
            }
            else if (headerDigest is not null && headerDigest.StartsWith("sha256:", StringComparison.Ordinal) && headerDigest != digest)
            {
                _problems.Add(new ImageProblem(kind, reference, parent, 200, $"Docker-Content-Digest {headerDigest} does not match the content ({digest})"));
            }

            try
            {
                return Parse(body, contentType, digest, kind, reference, parent);
            }
            catch (JsonException e)
            {
                _problems.Add(new ImageProblem(kind, reference, parent, 200, "manifest is not valid JSON: " + e.Message));
                return null;
            }
        }

        private Manifest? Parse(byte[] body, string? contentType, string digest, string kind, string reference, string? parent)
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                _problems.Add(new ImageProblem(kind, reference, parent, 200, "manifest is not a JSON object"));
                return null;
            }

            var mediaType = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : contentType;
            var children = new List<string>();
            if (root.TryGetProperty("manifests", out var manifests) && manifests.ValueKind == JsonValueKind.Array)
            {
                foreach (var m in manifests.EnumerateArray())
                {
                    if (m.TryGetProperty("digest", out var d) && d.GetString() is { } childDigest)
                    {
                        children.Add(childDigest);
                    }
                }

                return new Manifest(digest, mediaType, children);
            }

            if (root.TryGetProperty("config", out var config))
            {
                AddBlob(config, "config", digest);
            }

            if (root.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array)
            {
                foreach (var layer in layers.EnumerateArray())
                {
                    // Foreign layers (with urls) live outside the registry.
                    if (layer.TryGetProperty("urls", out var urls) && urls.ValueKind == JsonValueKind.Array && urls.GetArrayLength() > 0)
                    {
                        continue;
                    }

                    AddBlob(layer, "layer", digest);
                }
            }

            // Docker schema 1 (old): fsLayers[].blobSum.
            if (root.TryGetProperty("fsLayers", out var fsLayers) && fsLayers.ValueKind == JsonValueKind.Array)
            {
                foreach (var layer in fsLayers.EnumerateArray())
                {
                    if (layer.TryGetProperty("blobSum", out var sum) && sum.GetString() is { } blobSum)
                    {
                        _blobs.TryAdd(blobSum, ("layer", digest, null));
                    }
                }
            }

            return new Manifest(digest, mediaType, children);
        }

        private void AddBlob(JsonElement descriptor, string kind, string parent)
        {
            if (descriptor.ValueKind == JsonValueKind.Object && descriptor.TryGetProperty("digest", out var d) && d.GetString() is { } digest)
            {
                long? size = descriptor.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) ? n : null;
                _blobs.TryAdd(digest, (kind, parent, size));
            }
        }

        private async Task HeadBlobsAsync()
        {
            using var gate = new SemaphoreSlim(BlobConcurrency);
            var checks = _blobs.Select(async blob =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    return await HeadBlobAsync(blob.Key, blob.Value.Kind, blob.Value.Parent, blob.Value.Size).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            }).ToArray();
            foreach (var problem in await Task.WhenAll(checks).ConfigureAwait(false))
            {
                if (problem is not null)
                {
                    _problems.Add(problem);
                }
            }
        }

        private async Task<ImageProblem?> HeadBlobAsync(string digest, string kind, string parent, long? size)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"{baseUrl}/v2/{image.Name}/blobs/{digest}");
            request.Headers.Authorization = _authorization;
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    return new ImageProblem(kind, digest, parent, (int)response.StatusCode, $"HEAD blob answered {(int)response.StatusCode}{(response.StatusCode == HttpStatusCode.NotFound ? " (blob missing)" : "")}");
                }

                var length = response.Content.Headers.ContentLength;
                if (size is not null && length is not null && length != size)
                {
                    return new ImageProblem(kind, digest, parent, (int)response.StatusCode, $"blob is {length} bytes, the manifest says {size}");
                }

                return null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
            {
                return new ImageProblem(kind, digest, parent, null, "HEAD blob failed: " + Describe(e, client.Timeout));
            }
        }

        private async Task<string> ErrorDetailAsync(HttpResponseMessage response)
        {
            try
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
                {
                    var first = errors[0];
                    var code = first.TryGetProperty("code", out var c) ? c.GetString() : null;
                    var message = first.TryGetProperty("message", out var m) ? m.GetString() : null;
                    return $" ({code}: {message})";
                }
            }
            catch (Exception e) when (e is JsonException or HttpRequestException or IOException or InvalidOperationException)
            {
            }

            return "";
        }
    }
}
