using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Berth.Api.Tests.Infrastructure;

/// <summary>
/// Sits between the tests and the test server and checks, on every response under /v2, what the
/// spec asks of all of them; a violation fails the request that caused it:
/// Docker-Distribution-API-Version: registry/2.0 on every response; never a 5xx; Content-Length present
/// and equal to the body on every non-HEAD response that may carry one; every error body exactly
/// {"errors":[{"code","message","detail"}]} with a code from the spec's table.
/// </summary>
public sealed partial class ConformanceCheckingHandler : DelegatingHandler
{
    /// <summary>The distribution-spec's error code table.</summary>
    public static readonly IReadOnlySet<string> SpecErrorCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED",
        "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
    };

    /// <summary>Codes outside the table that Berth still uses, knowingly: PAGINATION_NUMBER_INVALID for a bad n
    /// (CNCF Distribution's code; the spec has none for it) and NOT_FOUND for a path that is no endpoint.</summary>
    public static readonly IReadOnlySet<string> KnownExtraCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "PAGINATION_NUMBER_INVALID", "NOT_FOUND",
    };

    [GeneratedRegex("^[A-Z_]+$")]
    private static partial Regex CodeShape();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var path = request.RequestUri!.AbsolutePath;
        if (path != "/v2" && !path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            return response;
        }
        var what = $"{request.Method} {request.RequestUri.PathAndQuery} -> {(int)response.StatusCode}";
        var problems = new List<string>();
        if ((int)response.StatusCode >= 500)
        {
            problems.Add("server error");
        }
        if (!response.Headers.TryGetValues("Docker-Distribution-API-Version", out var version) || version.SingleOrDefault() != "registry/2.0")
        {
            problems.Add("Docker-Distribution-API-Version: registry/2.0 missing");
        }
        // Read the raw header before anything asks HttpContent.Headers.ContentLength, which would compute it.
        var hasLength = response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var lengthValues);
        var isHead = request.Method == HttpMethod.Head;
        byte[] body = [];
        if (!isHead)
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
            body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.NoContent)
            {
                if (!hasLength)
                {
                    problems.Add("Content-Length missing");
                }
                else if (!long.TryParse(lengthValues.ToString(), out var declared) || declared != body.Length)
                {
                    problems.Add($"Content-Length {lengthValues} but the body has {body.Length} bytes");
                }
            }
            else if (body.Length != 0)
            {
                problems.Add("204 with a body");
            }
        }
        if ((int)response.StatusCode >= 400 && !isHead)
        {
            problems.AddRange(CheckErrorBody(response, body));
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"{what}: {string.Join("; ", problems)}\n{System.Text.Encoding.UTF8.GetString(body)}");
        }
        return response;
    }

    private static List<string> CheckErrorBody(HttpResponseMessage response, byte[] body)
    {
        var problems = new List<string>();
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            problems.Add($"error Content-Type is {response.Content.Headers.ContentType}");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            problems.Add("error body is not JSON: " + e.Message);
            return problems;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Select(p => p.Name).SingleOrDefault() != "errors"
                || root.GetProperty("errors") is not { ValueKind: JsonValueKind.Array } errors || errors.GetArrayLength() == 0)
            {
                problems.Add("error body is not {\"errors\":[...]}");
                return problems;
            }
            foreach (var error in errors.EnumerateArray())
            {
                var names = error.ValueKind == JsonValueKind.Object ? error.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray() : [];
                if (!names.SequenceEqual(["code", "detail", "message"]))
                {
                    problems.Add("an error is not {code, message, detail}: " + error);
                    continue;
                }
                var code = error.GetProperty("code");
                if (code.ValueKind != JsonValueKind.String || !CodeShape().IsMatch(code.GetString()!))
                {
                    problems.Add("error code is not upper-case letters and underscores: " + code);
                }
                else if (!SpecErrorCodes.Contains(code.GetString()!) && !KnownExtraCodes.Contains(code.GetString()!))
                {
                    problems.Add("error code is not one of the spec's: " + code);
                }
                if (error.GetProperty("message").ValueKind != JsonValueKind.String)
                {
                    problems.Add("error message is not a string");
                }
            }
        }
        return problems;
    }
}
