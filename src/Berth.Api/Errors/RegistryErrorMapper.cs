using System.Text.Json;
using Berth.Core;
using Microsoft.AspNetCore.Http;

namespace Berth.Api.Errors;

/// <summary>The one place that turns registry failures into OCI error codes, statuses and bodies.</summary>
public static class RegistryErrorMapper
{
    public static (string Code, int Status) Map(RegistryErrorCode code) => code switch
    {
        RegistryErrorCode.BlobUnknown => ("BLOB_UNKNOWN", 404),
        RegistryErrorCode.BlobUploadInvalid => ("BLOB_UPLOAD_INVALID", 400),
        RegistryErrorCode.BlobUploadUnknown => ("BLOB_UPLOAD_UNKNOWN", 404),
        RegistryErrorCode.DigestInvalid => ("DIGEST_INVALID", 400),
        RegistryErrorCode.ManifestBlobUnknown => ("MANIFEST_BLOB_UNKNOWN", 400),
        RegistryErrorCode.ManifestInvalid => ("MANIFEST_INVALID", 400),
        RegistryErrorCode.ManifestUnknown => ("MANIFEST_UNKNOWN", 404),
        RegistryErrorCode.NameInvalid => ("NAME_INVALID", 400),
        RegistryErrorCode.NameUnknown => ("NAME_UNKNOWN", 404),
        RegistryErrorCode.SizeInvalid => ("SIZE_INVALID", 400),
        // The spec's code table has no TAG_INVALID (it was code-11 and was removed): an invalid tag in
        // a manifest URL is MANIFEST_INVALID.
        RegistryErrorCode.TagInvalid => ("MANIFEST_INVALID", 400),
        RegistryErrorCode.Unauthorized => ("UNAUTHORIZED", 401),
        RegistryErrorCode.Denied => ("DENIED", 403),
        RegistryErrorCode.Unsupported => ("UNSUPPORTED", 405),
        RegistryErrorCode.TooManyRequests => ("TOOMANYREQUESTS", 429),
        RegistryErrorCode.RangeInvalid => ("BLOB_UPLOAD_INVALID", 416),
        RegistryErrorCode.ManifestTooLarge => ("SIZE_INVALID", 413),
        RegistryErrorCode.RangeNotSatisfiable => ("BLOB_UNKNOWN", 416),
        RegistryErrorCode.PaginationNumberInvalid => ("PAGINATION_NUMBER_INVALID", 400),
        _ => ("UNKNOWN", 500),
    };

    public static byte[] Body(string code, string message, object? detail)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("errors");
            w.WriteStartObject();
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WritePropertyName("detail");
            JsonSerializer.Serialize(w, detail);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Writes the error (status, JSON body) unless the response has started.</summary>
    public static async Task WriteAsync(HttpContext context, string code, int status, string message, object? detail)
    {
        context.Features.Get<IRegistryRequestFeature>()?.SetError(code);
        if (context.Response.HasStarted)
        {
            return;
        }
        context.Response.StatusCode = status;
        var body = Body(code, message, detail);
        context.Response.ContentType = "application/json; charset=utf-8";
        // A HEAD answers the length the GET's body would have (RFC 9110 8.6), without the body.
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    public static Task WriteAsync(HttpContext context, RegistryException e)
    {
        var (code, status) = Map(e.Code);
        return WriteAsync(context, code, status, e.Message, e.Detail);
    }
}
