using System.Text.Json;
using Xunit.Abstractions;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>Runs skopeo against plain-HTTP registries on 127.0.0.1 (TLS verification always off, any
/// image accepted), logs each command, and fails with the command and its output.</summary>
public sealed class Skopeo(ITestOutputHelper? output = null)
{
    private readonly string _binary = ExternalTools.Skopeo;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(90);

    public async Task<ProcessResult> TryRunAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(_binary, arguments, Timeout).ConfigureAwait(false);
        Log($"$ {result.CommandLine}  -> {(result.TimedOut ? "timeout" : result.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture))} in {result.Elapsed.TotalMilliseconds:0} ms");
        return result;
    }

    public async Task<ProcessResult> RunAsync(params string[] arguments)
    {
        var result = await TryRunAsync(arguments).ConfigureAwait(false);
        return result.Succeeded ? result : throw new SkopeoFailedException(result);
    }

    public static string[] CopyArguments(string source, string destination, IEnumerable<string> options) =>
        ["--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", .. options, source, destination];

    public Task<ProcessResult> TryCopyAsync(string source, string destination, params string[] options) =>
        TryRunAsync(CopyArguments(source, destination, options));

    public Task<ProcessResult> CopyAsync(string source, string destination, params string[] options) =>
        RunAsync(CopyArguments(source, destination, options));

    /// <summary>Copies and returns the digest of the manifest written at the destination (--digestfile).</summary>
    public async Task<string> CopyForDigestAsync(string source, string destination, string digestFile, params string[] options)
    {
        await CopyAsync(source, destination, ["--digestfile", digestFile, .. options]).ConfigureAwait(false);
        return (await File.ReadAllTextAsync(digestFile).ConfigureAwait(false)).Trim();
    }

    /// <summary>The manifest bytes exactly as the registry serves them.</summary>
    public async Task<byte[]> InspectRawAsync(string reference) =>
        (await RunAsync("inspect", "--tls-verify=false", "--raw", reference).ConfigureAwait(false)).StdoutBytes;

    /// <summary>skopeo inspect's JSON (Digest, Architecture, Layers, ...).</summary>
    public async Task<JsonElement> InspectAsync(string reference, params string[] options)
    {
        var result = await RunAsync(["--insecure-policy", .. options, "inspect", "--tls-verify=false", "--no-tags", reference]).ConfigureAwait(false);
        return Parse(result);
    }

    public Task<ProcessResult> TryInspectAsync(string reference) =>
        TryRunAsync("inspect", "--tls-verify=false", "--no-tags", "--raw", reference);

    public async Task<IReadOnlyList<string>> ListTagsAsync(string repositoryReference)
    {
        var result = await RunAsync("list-tags", "--tls-verify=false", repositoryReference).ConfigureAwait(false);
        var json = Parse(result);
        return json.TryGetProperty("Tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? [.. tags.EnumerateArray().Select(t => t.GetString()!)]
            : [];
    }

    public Task<ProcessResult> DeleteAsync(string reference) =>
        RunAsync("delete", "--tls-verify=false", reference);

    private static JsonElement Parse(ProcessResult result)
    {
        try
        {
            using var document = JsonDocument.Parse(result.StdoutBytes);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new SkopeoFailedException(result, "its output is not JSON: " + e.Message);
        }
    }

    private void Log(string line)
    {
        try
        {
            output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished (a background push loop): nothing to log to.
        }
    }
}

public sealed class SkopeoFailedException(ProcessResult result, string? why = null)
    : Exception($"skopeo failed{(why is null ? "" : ": " + why)}\n{result.Describe()}")
{
    public ProcessResult Result { get; } = result;
}
