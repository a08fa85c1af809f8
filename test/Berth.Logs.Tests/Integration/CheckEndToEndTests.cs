using System.Diagnostics;
using System.Text.Json;
using Berth.Logs.Check;
using Berth.Logs.Tests.Infrastructure;

namespace Berth.Logs.Tests.Integration;

/// <summary>
/// A registry with a good image, a good index and a broken image (one layer's data deleted from its
/// Distribution-layout storage). Subclasses pick the registry.
/// </summary>
public abstract class CheckRegistryFixture : IAsyncLifetime
{
    public const string Good = "canary/app";
    public const string Multi = "canary/multi";
    public const string Broken = "canary/sub/broken";

    private IRegistryServer? _registry;

    internal IRegistryServer Registry => _registry!;

    public string GoodDigest { get; private set; } = "";

    public string IndexDigest { get; private set; } = "";

    public string MissingLayer { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _registry = await StartRegistryAsync();
        using var client = new RegistryClient(_registry.BaseUri);
        GoodDigest = (await client.PushImageAsync(Good, "v1", "good canary layer")).Manifest;

        // An OCI index of two single-layer images (pushed by digest).
        var amd = await client.PushImageAsync(Multi, "amd64", "amd64 layer");
        var arm = await client.PushImageAsync(Multi, "arm64", "arm64 layer");
        static string Child(string digest, int size, string arch) =>
            "{\"mediaType\":\"" + RegistryClient.OciManifest + "\",\"digest\":\"" + digest + "\",\"size\":" + size
            + ",\"platform\":{\"architecture\":\"" + arch + "\",\"os\":\"linux\"}}";
        var index = "{\"schemaVersion\":2,\"mediaType\":\"" + RegistryClient.OciIndex + "\",\"manifests\":["
            + Child(amd.Manifest, amd.Json.Length, "amd64") + "," + Child(arm.Manifest, arm.Json.Length, "arm64") + "]}";
        IndexDigest = await client.PushManifestAsync(Multi, "v1", index, RegistryClient.OciIndex);

        var broken = await client.PushImageAsync(Broken, "v1", "layer that will be lost");
        MissingLayer = broken.Layer;
        var hex = broken.Layer["sha256:".Length..];
        var data = Path.Combine(_registry.StorageRoot, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
        Assert.True(File.Exists(data), data);
        File.Delete(data);
    }

    internal abstract Task<IRegistryServer> StartRegistryAsync();

    public Task DisposeAsync()
    {
        _registry?.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class DockerRegistryCheckFixture : CheckRegistryFixture
{
    internal override async Task<IRegistryServer> StartRegistryAsync() => await DockerRegistryServer.StartAsync();
}

public sealed class DockerRegistryCheckTests(DockerRegistryCheckFixture fixture) : CheckEndToEndTests<DockerRegistryCheckFixture>(fixture);

/// <summary><c>berth check</c> against a registry; one concrete subclass per registry.</summary>
public abstract class CheckEndToEndTests<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CheckRegistryFixture
{
    private static CheckOptions Options(Uri target, string? image = null) => new()
    {
        Targets = [target],
        Image = image is null ? null : ImageReference.TryParse(image, out var r) ? r : throw new ArgumentException(image),
        Timeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task Registry_Up_Latency_NoTls()
    {
        var report = await RegistryChecker.CheckAsync(Options(fixture.Registry.BaseUri));
        var t = Assert.Single(report.Targets);
        Assert.True(t.Up);
        Assert.Equal(200, t.Status);
        Assert.NotNull(t.LatencyMs);
        Assert.Null(t.TlsExpires);
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public async Task Image_AllBlobsPresent_Healthy()
    {
        var report = await RegistryChecker.CheckAsync(Options(fixture.Registry.BaseUri, $"{CheckRegistryFixture.Good}:v1"));
        var image = Assert.Single(report.Targets).Image!;
        Assert.Empty(image.Problems);
        Assert.Equal((fixture.GoodDigest, 1, 2), (image.Digest, image.Manifests, image.Blobs));
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", image.MediaType);
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public async Task Index_FollowsEveryChildManifest()
    {
        var report = await RegistryChecker.CheckAsync(Options(fixture.Registry.BaseUri, $"{CheckRegistryFixture.Multi}:v1"));
        var image = Assert.Single(report.Targets).Image!;
        Assert.Empty(image.Problems);
        Assert.Equal((fixture.IndexDigest, 3, 3), (image.Digest, image.Manifests, image.Blobs)); // index + 2 children; 1 shared config + 2 layers
        Assert.True(report.Healthy);
    }

    [Fact]
    public async Task Image_ByDigest()
    {
        var report = await RegistryChecker.CheckAsync(Options(fixture.Registry.BaseUri, $"{CheckRegistryFixture.Good}@{fixture.GoodDigest}"));
        Assert.Empty(report.Targets[0].Image!.Problems);
    }

    [Fact]
    public async Task BrokenImage_MissingLayerBlob_Unhealthy()
    {
        var report = await RegistryChecker.CheckAsync(Options(fixture.Registry.BaseUri, $"{CheckRegistryFixture.Broken}:v1"));
        var t = Assert.Single(report.Targets);
        Assert.True(t.Up);
        Assert.False(t.Healthy);
        var problem = Assert.Single(t.Image!.Problems);
        Assert.Equal(("layer", fixture.MissingLayer, 404), (problem.Kind, problem.Digest, problem.Status));
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task MissingTag_ManifestProblem()
    {
        var report = await RegistryChecker.CheckAsync(Options(fixture.Registry.BaseUri, $"{CheckRegistryFixture.Good}:nope"));
        var problem = Assert.Single(report.Targets[0].Image!.Problems);
        Assert.Equal(("manifest", "nope", 404), (problem.Kind, problem.Digest, problem.Status));
        Assert.Contains("MANIFEST_UNKNOWN", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImagePushedBySkopeo_FromAnOciLayout_Healthy()
    {
        var skopeo = Tools.Require("skopeo", "apt-get install skopeo");
        using var dir = new TempDirectory("oci");
        var image = OciLayout.Write(dir.Path, "v1", "hello from skopeo");
        var psi = new ProcessStartInfo(skopeo) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "copy", "--dest-tls-verify=false", $"oci:{dir.Path}:v1", $"docker://127.0.0.1:{fixture.Registry.Port}/skopeo/pushed/app:v1" })
        {
            psi.ArgumentList.Add(a);
        }

        using (var process = Process.Start(psi)!)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            _ = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, await stderr);
        }

        var report = await RegistryChecker.CheckAsync(Options(fixture.Registry.BaseUri, "skopeo/pushed/app:v1"));
        var result = Assert.Single(report.Targets).Image!;
        Assert.Empty(result.Problems);
        Assert.Equal((image.Manifest, 1, 2), (result.Digest, result.Manifests, result.Blobs));
    }





    [Fact]
    public async Task Cli_SeveralTargets_JsonAndExitCodes()
    {
        var down = $"http://127.0.0.1:{FreePort.Next()}";
        var good = fixture.Registry.BaseUri.ToString();
        var (exit, stdout, stderr) = await BerthCli.RunAsync("check", good, "--image", $"{CheckRegistryFixture.Good}:v1", "--format", "json");
        Assert.True(exit == 0, stderr + stdout);
        using (var doc = JsonDocument.Parse(stdout))
        {
            Assert.True(doc.RootElement.GetProperty("healthy").GetBoolean());
            var t = doc.RootElement.GetProperty("targets")[0];
            Assert.True(t.GetProperty("up").GetBoolean());
            Assert.Equal(200, t.GetProperty("status").GetInt32());
            Assert.True(t.GetProperty("latencyMs").GetDouble() >= 0);
            Assert.Equal(JsonValueKind.Null, t.GetProperty("tlsExpires").ValueKind);
            Assert.Equal(fixture.GoodDigest, t.GetProperty("image").GetProperty("digest").GetString());
            Assert.Equal(0, t.GetProperty("image").GetProperty("problems").GetArrayLength());
        }

        (exit, stdout, _) = await BerthCli.RunAsync("check", good, down, "--image", $"{CheckRegistryFixture.Broken}:v1", "--format", "json");
        Assert.Equal(1, exit);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var targets = doc.RootElement.GetProperty("targets");
            var problem = targets[0].GetProperty("image").GetProperty("problems")[0];
            Assert.Equal("layer", problem.GetProperty("kind").GetString());
            Assert.Equal(fixture.MissingLayer, problem.GetProperty("digest").GetString());
            Assert.Equal(404, problem.GetProperty("status").GetInt32());
            Assert.False(targets[1].GetProperty("up").GetBoolean());
        }

        (exit, stdout, _) = await BerthCli.RunAsync("check", good, "--image", $"{CheckRegistryFixture.Broken}:v1");
        Assert.Equal(1, exit);
        Assert.Contains("UNHEALTHY", stdout, StringComparison.Ordinal);
        Assert.Contains(fixture.MissingLayer, stdout, StringComparison.Ordinal);
    }


    [Fact]
    public async Task Cli_WatchJson_OneLinePerRound_StopsOnSigint()
    {
        // A process started with SIGINT ignored (a background job of a non-interactive shell, nohup) passes that on
        // to its children, and .NET then leaves Ctrl-C alone: berth check could not stop here, whatever it does.
        var ignored = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        Assert.True((Convert.ToUInt64(ignored["SigIgn:".Length..].Trim(), 16) & (1UL << 1)) == 0,
            "SIGINT is ignored in the test process (started as a background job of a non-interactive shell?); its children " +
            "inherit that, so this Ctrl-C test cannot run: start the test command in the foreground or with SIGINT at its default");

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { BerthCli.DllPath, "check", fixture.Registry.BaseUri.ToString(), "--watch", "200ms", "--format", "json" })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var lines = new List<string>();
        var reader = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }
            }
        });
        // Read stderr too, so that nothing the process writes there can fill the pipe and block it.
        var errors = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            lock (lines)
            {
                if (lines.Count >= 3)
                {
                    break;
                }
            }

            await Task.Delay(50);
        }

        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"berth check --watch did not stop within 15 s of SIGINT; stdout so far:\n{string.Join("\n", lines)}\nstderr:\n{await errors}");
        }
        await reader;
        await errors;
        Assert.True(lines.Count >= 3, string.Join("\n", lines));
        Assert.All(lines, l => Assert.True(JsonDocument.Parse(l).RootElement.GetProperty("healthy").GetBoolean()));
        Assert.Equal(0, process.ExitCode);
    }
}

/// <summary><c>berth check</c> against things that are not registries: a closed port, servers answering 500 / 401, TLS.</summary>
public sealed class CheckProbeTests
{
    private static CheckOptions Options(Uri target, string? image = null) => new()
    {
        Targets = [target],
        Image = image is null ? null : ImageReference.TryParse(image, out var r) ? r : throw new ArgumentException(image),
        Timeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task StoppedPort_Down()
    {
        var port = FreePort.Next();
        var report = await RegistryChecker.CheckAsync(Options(new Uri($"http://127.0.0.1:{port}"), "canary/app:v1"));
        var t = Assert.Single(report.Targets);
        Assert.False(t.Up);
        Assert.Null(t.Status);
        Assert.Contains("refused", t.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Null(t.Image);
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task Answers500_Unhealthy()
    {
        using var server = new TinyHttpServer(500, "Internal Server Error");
        var report = await RegistryChecker.CheckAsync(Options(server.BaseUri));
        var t = Assert.Single(report.Targets);
        Assert.False(t.Up);
        Assert.Equal(500, t.Status);
        Assert.Equal(1, report.ExitCode);
    }

    [Fact]
    public async Task Answers401WithChallenge_Up()
    {
        using var server = new TinyHttpServer(401, "Unauthorized", new Dictionary<string, string> { ["WWW-Authenticate"] = "Bearer realm=\"http://127.0.0.1:1/token\",service=\"registry\"" });
        var report = await RegistryChecker.CheckAsync(Options(server.BaseUri));
        Assert.True(report.Targets[0].Up);
        Assert.Equal(401, report.Targets[0].Status);

        using var bare = new TinyHttpServer(401, "Unauthorized");
        var bareReport = await RegistryChecker.CheckAsync(Options(bare.BaseUri));
        Assert.False(bareReport.Targets[0].Up);
    }

    [Fact]
    public async Task BearerChallenge_AnonymousToken_ImagePulledWithIt()
    {
        var config = System.Text.Encoding.UTF8.GetBytes("{}");
        var configDigest = RegistryClient.DigestOf(config);
        var manifest = System.Text.Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{RegistryClient.OciManifest}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":2},"layers":[]}""");
        var seenAuth = new System.Collections.Concurrent.ConcurrentBag<string>();
        TinyHttpServer? server = null;
        server = new TinyHttpServer(request =>
        {
            var authorized = request.Headers.TryGetValue("Authorization", out var auth) && auth == "Bearer t0k3n";
            var challenge = new Dictionary<string, string> { ["WWW-Authenticate"] = $"Bearer realm=\"{server!.BaseUri}token\",service=\"tiny\"" };
            if (request.Target.StartsWith("/token?", StringComparison.Ordinal))
            {
                seenAuth.Add(request.Target);
                return new TinyResponse(200, "OK", new Dictionary<string, string>(), System.Text.Encoding.UTF8.GetBytes("""{"token":"t0k3n"}"""));
            }

            if (!authorized)
            {
                return new TinyResponse(401, "Unauthorized", challenge, System.Text.Encoding.UTF8.GetBytes("""{"errors":[{"code":"UNAUTHORIZED"}]}"""));
            }

            return request.Target switch
            {
                "/v2/private/app/manifests/v1" => new TinyResponse(200, "OK", new Dictionary<string, string> { ["Content-Type"] = RegistryClient.OciManifest }, manifest),
                var t when t == $"/v2/private/app/blobs/{configDigest}" => new TinyResponse(200, "OK", new Dictionary<string, string>(), config),
                _ => new TinyResponse(404, "Not Found", new Dictionary<string, string>(), []),
            };
        });
        using (server)
        {
            var report = await RegistryChecker.CheckAsync(Options(server.BaseUri, "private/app:v1"));
            var t = Assert.Single(report.Targets);
            Assert.True(t.Up);
            Assert.Equal(401, t.Status);
            Assert.Empty(t.Image!.Problems);
            Assert.Equal(1, t.Image.Blobs);
            var tokenRequest = Assert.Single(seenAuth);
            Assert.Contains("service=tiny", tokenRequest, StringComparison.Ordinal);
            Assert.Contains("scope=repository%3Aprivate%2Fapp%3Apull", tokenRequest, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Tls_ExpiryReported_StrictValidationFails_InsecureAccepts()
    {
        var notAfter = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(20).AddHours(12), TimeSpan.Zero);
        using var server = new TinyHttpServer(200, "OK", tlsNotAfter: notAfter);

        var strict = await RegistryChecker.CheckAsync(Options(server.BaseUri));
        Assert.False(strict.Targets[0].Up);
        Assert.NotNull(strict.Targets[0].Error);
        Assert.Equal(notAfter, strict.Targets[0].TlsExpires);

        var insecure = await RegistryChecker.CheckAsync(Options(server.BaseUri) with { Insecure = true });
        Assert.True(insecure.Targets[0].Up);
        Assert.Equal(notAfter, insecure.Targets[0].TlsExpires);
        Assert.Equal(0, insecure.ExitCode);

        var soon = await RegistryChecker.CheckAsync(Options(server.BaseUri) with { Insecure = true, TlsMinDays = 30 });
        Assert.True(soon.Targets[0].TlsExpiresSoon);
        Assert.Equal(1, soon.ExitCode);
    }

    [Theory]
    [InlineData("check")]
    [InlineData("check", "ftp://127.0.0.1:1")]
    [InlineData("check", "http://127.0.0.1:1", "--image", "UPPER:case")]
    [InlineData("check", "http://127.0.0.1:1", "--watch", "soon")]
    [InlineData("check", "http://127.0.0.1:1", "--format", "yaml")]
    [InlineData("check", "http://127.0.0.1:1", "--timeout")]
    public async Task Cli_BadUsage_ExitTwo(params string[] args)
    {
        var (exit, _, stderr) = await BerthCli.RunAsync(args);
        Assert.Equal(2, exit);
        Assert.Contains("berth check:", stderr, StringComparison.Ordinal);
    }
}
