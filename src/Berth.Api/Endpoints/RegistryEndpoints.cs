using System.Globalization;
using System.Text.Json;
using Berth.Api.Errors;
using Berth.Api.Routing;
using Berth.Core;
using Berth.Core.Blobs;
using Berth.Core.Catalog;
using Berth.Core.Manifests;
using Berth.Core.Naming;
using Berth.Core.Tags;
using Berth.Core.Uploads;
using Berth.Storage;
using Berth.Storage.Layout;
using Berth.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Berth.Api.Endpoints;

/// <summary>The OCI Distribution API: one dispatcher over <see cref="OciPathParser"/>, one method per operation.</summary>
public sealed partial class RegistryEndpoints(
    BlobService blobs,
    UploadService uploads,
    ManifestService manifests,
    TagService tags,
    CatalogService catalog,
    ReferrersService referrers,
    RegistryOptions options,
    ILogger<RegistryEndpoints> logger)
{
    private const string ApiVersionHeader = "Docker-Distribution-API-Version";
    private const string DigestHeader = "Docker-Content-Digest";
    private const string UploadUuidHeader = "Docker-Upload-UUID";

    public async Task DispatchAsync(HttpContext context)
    {
        var route = OciPathParser.Parse(context.Request.Path.Value ?? "");
        var feature = context.Features.Get<IRegistryRequestFeature>();
        if (feature is not null)
        {
            feature.Route = route;
        }
        context.Response.Headers[ApiVersionHeader] = "registry/2.0";
        try
        {
            if (route.Kind is not (OciRouteKind.None or OciRouteKind.Base or OciRouteKind.Catalog))
            {
                RepositoryName.Validate(route.Name);
            }
            var operation = (route.Kind, context.Request.Method) switch
            {
                (OciRouteKind.Base, "GET" or "HEAD") => BaseAsync(context),
                (OciRouteKind.Catalog, "GET") => CatalogAsync(context),
                (OciRouteKind.Tags, "GET") => TagsAsync(context, route),
                (OciRouteKind.Manifest, "GET" or "HEAD") => GetManifestAsync(context, route),
                (OciRouteKind.Manifest, "PUT") => PutManifestAsync(context, route),
                (OciRouteKind.Manifest, "DELETE") => DeleteManifestAsync(context, route),
                (OciRouteKind.Blob, "GET" or "HEAD") => GetBlobAsync(context, route),
                (OciRouteKind.Blob, "DELETE") => DeleteBlobAsync(context, route),
                (OciRouteKind.UploadStart, "POST") => StartUploadAsync(context, route),
                (OciRouteKind.Upload, "PATCH") => PatchUploadAsync(context, route),
                (OciRouteKind.Upload, "PUT") => PutUploadAsync(context, route),
                (OciRouteKind.Upload, "GET") => GetUploadAsync(context, route),
                (OciRouteKind.Upload, "DELETE") => DeleteUploadAsync(context, route),
                (OciRouteKind.Referrers, "GET") => ReferrersAsync(context, route),
                (OciRouteKind.None, _) => RegistryErrorMapper.WriteAsync(context, "NOT_FOUND", 404, "no such endpoint", new { path = RepositoryName.Clip(context.Request.Path.Value ?? "") }),
                _ => RegistryErrorMapper.WriteAsync(context, "UNSUPPORTED", 405, "the operation is unsupported", new { method = context.Request.Method, route = route.Template }),
            };
            await operation.ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            if (e.Code == RegistryErrorCode.RangeInvalid && e.CurrentSize is { } size)
            {
                SetUploadHeaders(context, route.Name, route.Reference, size);
            }
            await RegistryErrorMapper.WriteAsync(context, e).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await RegistryErrorMapper.WriteAsync(context, "SIZE_INVALID", 413, "request body too large", new { reason = e.Message }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException && context.RequestAborted.IsCancellationRequested)
        {
            LogClientAborted(logger, route.Template);
        }
        catch (Exception e) when (e is StorageException or IOException)
        {
            LogStorageFailure(logger, e, route.Template);
            await RegistryErrorMapper.WriteAsync(context, "UNAVAILABLE", 503, "storage failed; the request can be retried", new { reason = e.Message }).ConfigureAwait(false);
        }
    }

    private static Task BaseAsync(HttpContext context) => WriteJsonAsync(context, 200, "{}"u8.ToArray(), "application/json");

    private async Task CatalogAsync(HttpContext context)
    {
        var n = ParseN(context);
        var last = context.Request.Query["last"].ToString();
        var page = await catalog.ListAsync(n, last, context.RequestAborted).ConfigureAwait(false);
        if (page.HasMore)
        {
            context.Response.Headers.Link = $"</v2/_catalog?n={n}&last={Uri.EscapeDataString(page.Items[^1])}>; rel=\"next\"";
        }
        await WriteJsonAsync(context, 200, JsonSerializer.SerializeToUtf8Bytes(new CatalogBody(page.Items), ApiJson.Default.CatalogBody), "application/json").ConfigureAwait(false);
    }

    private async Task TagsAsync(HttpContext context, OciRoute route)
    {
        var n = ParseN(context);
        var last = context.Request.Query["last"].ToString();
        var page = await tags.ListAsync(route.Name, n, last, context.RequestAborted).ConfigureAwait(false);
        if (page.HasMore)
        {
            context.Response.Headers.Link = $"</v2/{route.Name}/tags/list?n={n}&last={Uri.EscapeDataString(page.Items[^1])}>; rel=\"next\"";
        }
        await WriteJsonAsync(context, 200, JsonSerializer.SerializeToUtf8Bytes(new TagsBody(route.Name, page.Items), ApiJson.Default.TagsBody), "application/json").ConfigureAwait(false);
    }

    private async Task GetManifestAsync(HttpContext context, OciRoute route)
    {
        var reference = Reference.Parse(route.Reference);
        var manifest = await manifests.GetAsync(route.Name, reference, context.RequestAborted).ConfigureAwait(false);
        if (!Accepts(context.Request, manifest.MediaType))
        {
            throw new RegistryException(RegistryErrorCode.ManifestUnknown, "manifest unknown: its media type is not in the Accept header",
                new { repository = route.Name, reference = route.Reference, mediaType = manifest.MediaType });
        }
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = manifest.MediaType;
        response.ContentLength = manifest.Content.Length;
        response.Headers[DigestHeader] = manifest.Digest.ToString();
        response.Headers.ETag = $"\"{manifest.Digest}\"";
        RegistryMetrics.AddResponseBytes(manifest.Content.Length);
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(manifest.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Like Distribution: no Accept header, */* or a listed media type is served; a client that
    /// lists manifest types but not this one gets MANIFEST_UNKNOWN.</summary>
    private static bool Accepts(HttpRequest request, string mediaType)
    {
        var accept = request.Headers.Accept;
        if (accept.Count == 0)
        {
            return true;
        }
        var listedManifestType = false;
        foreach (var header in accept)
        {
            foreach (var part in (header ?? "").Split(','))
            {
                var type = part.Split(';')[0].Trim();
                if (type.Length == 0)
                {
                    continue;
                }
                if (type == "*/*" || type == "application/*" || string.Equals(type, mediaType, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
                if (MediaTypes.IsSupported(type) || MediaTypes.IsSchema1(type))
                {
                    listedManifestType = true;
                }
            }
        }
        return !listedManifestType;
    }

    private async Task PutManifestAsync(HttpContext context, OciRoute route)
    {
        var reference = Reference.Parse(route.Reference);
        var content = await ReadLimitedAsync(context, options.MaxManifestBytes).ConfigureAwait(false);
        var result = await manifests.PutAsync(route.Name, reference, content, context.Request.ContentType, context.RequestAborted).ConfigureAwait(false);
        var response = context.Response;
        response.StatusCode = 201;
        response.Headers.Location = $"/v2/{route.Name}/manifests/{result.Digest}";
        response.Headers[DigestHeader] = result.Digest.ToString();
        if (result.Subject is { } subject)
        {
            response.Headers["OCI-Subject"] = subject.ToString();
        }
        response.ContentLength = 0;
    }

    private async Task DeleteManifestAsync(HttpContext context, OciRoute route)
    {
        var reference = Reference.Parse(route.Reference);
        await manifests.DeleteAsync(route.Name, reference, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = 202;
        context.Response.ContentLength = 0;
    }

    private async Task GetBlobAsync(HttpContext context, OciRoute route)
    {
        var digest = RepositoryName.ParseDigest(route.Reference);
        var blob = await blobs.StatAsync(route.Name, digest, context.RequestAborted).ConfigureAwait(false);
        var response = context.Response;
        response.Headers[DigestHeader] = digest.ToString();
        if (options.RedirectBlobs && HttpMethods.IsGet(context.Request.Method)
            && await blobs.RedirectUrlAsync(digest, "GET", options.RedirectExpiry, context.RequestAborted).ConfigureAwait(false) is { } url)
        {
            // Distribution's storage redirect: the client fetches the bytes (and any range) from the store itself.
            response.StatusCode = 307;
            response.Headers.Location = url.ToString();
            response.ContentLength = 0;
            return;
        }
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.AcceptRanges = "bytes";
        response.Headers.CacheControl = "max-age=31536000";
        response.ContentType = "application/octet-stream";
        var (offset, length) = (0L, blob.Size);
        var range = context.Request.Headers.Range.Count > 0
            ? TryParseRange(context.Request.Headers.Range.ToString(), blob.Size, out offset, out length)
            : (bool?)null;
        if (range is false)
        {
            response.Headers.ContentRange = $"bytes */{blob.Size}";
            throw new RegistryException(RegistryErrorCode.RangeNotSatisfiable, "requested range not satisfiable", new { range = context.Request.Headers.Range.ToString(), size = blob.Size });
        }
        if (range is true)
        {
            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{blob.Size}";
        }
        else
        {
            (offset, length) = (0L, blob.Size);
            response.StatusCode = 200;
        }
        response.ContentLength = length;
        if (HttpMethods.IsHead(context.Request.Method) || length == 0)
        {
            return;
        }
        RegistryMetrics.AddResponseBytes(length);
        if (blobs.LocalPath(digest) is { } file)
        {
            await StreamCopy.CopyFileAsync(file, response.BodyWriter, offset, length, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        await using var stream = await blobs.OpenAsync(digest, offset, context.RequestAborted).ConfigureAwait(false);
        await StreamCopy.CopyAsync(stream, response.BodyWriter, length, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range: true when it overlaps the blob,
    /// false when it does not (416), null when the header is to be ignored and the whole blob served
    /// (RFC 9110 14.2: another unit, a malformed range, or several ranges).</summary>
    internal static bool? TryParseRange(string header, long size, out long offset, out long length)
    {
        offset = 0;
        length = 0;
        if (!RangeHeaderValue.TryParse(header, out var parsed) || !parsed.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase) || parsed.Ranges.Count != 1)
        {
            return null;
        }
        var r = parsed.Ranges.First();
        if (r.From is { } from)
        {
            if (r.To is { } last && last < from)
            {
                return null;
            }
            if (from >= size)
            {
                return false;
            }
            var to = Math.Min(r.To ?? size - 1, size - 1);
            (offset, length) = (from, to - from + 1);
            return true;
        }
        if (r.To is { } suffix && suffix > 0 && size > 0)
        {
            length = Math.Min(suffix, size);
            offset = size - length;
            return true;
        }
        return false;
    }

    private async Task DeleteBlobAsync(HttpContext context, OciRoute route)
    {
        var digest = RepositoryName.ParseDigest(route.Reference);
        if (!options.DeleteEnabled)
        {
            throw new RegistryException(RegistryErrorCode.Unsupported, "the operation is unsupported", new { reason = "deletes are disabled (storage.delete.enabled: false)" });
        }
        await blobs.DeleteAsync(route.Name, digest, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = 202;
        context.Response.ContentLength = 0;
        context.Response.Headers[DigestHeader] = digest.ToString();
    }

    private async Task StartUploadAsync(HttpContext context, OciRoute route)
    {
        var query = context.Request.Query;
        var ct = context.RequestAborted;
        if (query.TryGetValue("mount", out var mount))
        {
            var digest = RepositoryName.ParseDigest(mount.ToString());
            var from = query["from"].ToString();
            if (from.Length > 0 && RepositoryName.IsValid(from)
                && await blobs.TryMountAsync(route.Name, from, digest, ct).ConfigureAwait(false) is { } mounted)
            {
                BlobCreated(context, route.Name, mounted.Digest);
                return;
            }
        }
        if (query.TryGetValue("digest", out var digestValue))
        {
            var digest = RepositoryName.ParseDigest(digestValue.ToString());
            RegistryMetrics.AddRequestBytes(context.Request.ContentLength ?? 0);
            var blob = await uploads.UploadAsync(route.Name, digest, context.Request.Body, ct).ConfigureAwait(false);
            BlobCreated(context, route.Name, blob.Digest);
            return;
        }
        var id = await uploads.StartAsync(route.Name, ct).ConfigureAwait(false);
        context.Response.StatusCode = 202;
        SetUploadHeaders(context, route.Name, id, 0);
    }

    private async Task PatchUploadAsync(HttpContext context, OciRoute route)
    {
        long? start = null;
        var contentRange = context.Request.Headers.ContentRange.ToString();
        if (contentRange.Length > 0)
        {
            start = ParseContentRangeStart(contentRange);
        }
        RegistryMetrics.AddRequestBytes(context.Request.ContentLength ?? 0);
        var size = await uploads.AppendAsync(route.Name, route.Reference, context.Request.Body, start, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = 202;
        SetUploadHeaders(context, route.Name, route.Reference, size);
    }

    /// <summary>Accepts "start-end" (OCI) and "bytes start-end/total" (RFC 9110).</summary>
    private static long ParseContentRangeStart(string value)
    {
        var v = value.Trim();
        if (v.StartsWith("bytes", StringComparison.OrdinalIgnoreCase))
        {
            v = v[5..].TrimStart(' ', '=');
        }
        var dash = v.IndexOf('-');
        if (dash > 0 && long.TryParse(v.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            var endText = v[(dash + 1)..];
            var slash = endText.IndexOf('/');
            if (slash >= 0)
            {
                endText = endText[..slash];
            }
            if (long.TryParse(endText, NumberStyles.None, CultureInfo.InvariantCulture, out var end) && end >= start)
            {
                return start;
            }
        }
        throw new RegistryException(RegistryErrorCode.BlobUploadInvalid, "blob upload invalid", new { reason = "malformed Content-Range", contentRange = RepositoryName.Clip(value) });
    }

    private async Task PutUploadAsync(HttpContext context, OciRoute route)
    {
        var digestValue = context.Request.Query["digest"].ToString();
        if (digestValue.Length == 0)
        {
            throw new RegistryException(RegistryErrorCode.DigestInvalid, "digest missing: the closing PUT needs ?digest=", new { uuid = route.Reference });
        }
        var digest = RepositoryName.ParseDigest(digestValue);
        RegistryMetrics.AddRequestBytes(context.Request.ContentLength ?? 0);
        var blob = await uploads.CompleteAsync(route.Name, route.Reference, digest, context.Request.Body, context.RequestAborted).ConfigureAwait(false);
        BlobCreated(context, route.Name, blob.Digest);
    }

    private async Task GetUploadAsync(HttpContext context, OciRoute route)
    {
        var size = await uploads.GetSizeAsync(route.Name, route.Reference, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = 204;
        SetUploadHeaders(context, route.Name, route.Reference, size);
    }

    private async Task DeleteUploadAsync(HttpContext context, OciRoute route)
    {
        await uploads.CancelAsync(route.Name, route.Reference, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = 204;
        context.Response.ContentLength = 0;
    }

    private async Task ReferrersAsync(HttpContext context, OciRoute route)
    {
        var digest = RepositoryName.ParseDigest(route.Reference);
        var artifactType = context.Request.Query["artifactType"].ToString();
        var result = await referrers.ListAsync(route.Name, digest, artifactType.Length > 0 ? artifactType : null, context.RequestAborted).ConfigureAwait(false);
        if (result.Filtered)
        {
            context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        }
        await WriteJsonAsync(context, 200, result.Index, MediaTypes.OciIndex).ConfigureAwait(false);
    }

    private static void BlobCreated(HttpContext context, string name, Digest digest)
    {
        context.Response.StatusCode = 201;
        context.Response.Headers.Location = $"/v2/{name}/blobs/{digest}";
        context.Response.Headers[DigestHeader] = digest.ToString();
        context.Response.ContentLength = 0;
    }

    private static void SetUploadHeaders(HttpContext context, string name, string id, long size)
    {
        var headers = context.Response.Headers;
        headers.Location = $"/v2/{name}/blobs/uploads/{id}";
        headers.Range = $"0-{Math.Max(size - 1, 0)}";
        headers[UploadUuidHeader] = id;
        context.Response.ContentLength = 0;
    }

    private static int? ParseN(HttpContext context)
    {
        var value = context.Request.Query["n"].ToString();
        if (value.Length == 0)
        {
            return null;
        }
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new RegistryException(RegistryErrorCode.PaginationNumberInvalid, "invalid number of results requested", new { n = RepositoryName.Clip(value) });
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContext context, int limit)
    {
        if (context.Request.ContentLength is { } declared && declared > limit)
        {
            throw new RegistryException(RegistryErrorCode.ManifestTooLarge, "manifest too large", new { size = declared, limit });
        }
        using var buffer = new MemoryStream(context.Request.ContentLength is { } l ? (int)l : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new RegistryException(RegistryErrorCode.ManifestTooLarge, "manifest too large", new { limit });
            }
            buffer.Write(chunk, 0, read);
        }
        RegistryMetrics.AddRequestBytes(buffer.Length);
        return buffer.ToArray();
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] body, string contentType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 1101, EventName = "ClientAborted", Level = LogLevel.Information, Message = "client went away during {Route}")]
    private static partial void LogClientAborted(ILogger logger, string route);

    [LoggerMessage(EventId = 1102, EventName = "StorageFailure", Level = LogLevel.Error, Message = "storage failure during {Route}")]
    private static partial void LogStorageFailure(ILogger logger, Exception exception, string route);
}
