using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Berth.Core;
using Berth.Storage.Layout;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Tests.Infrastructure;

/// <summary>An image the tests pushed: config, one layer and the manifest.</summary>
public sealed record PushedImage(string Repository, string? Tag, string Digest, byte[] Manifest, Desc Config, Desc Layer, byte[] LayerContent);

/// <summary>
/// One registry per test, through the ASP.NET test host, on the storage <typeparamref name="TDriver"/>
/// creates. Every response passes through <see cref="ConformanceCheckingHandler"/>.
/// </summary>
public abstract class RegistryTestBase<TDriver> : IAsyncLifetime where TDriver : IDriverFactory, new()
{
    /// <summary>Nested names, as the brief asks: every workflow runs on these.</summary>
    public const string Repo = "group/sub/project/image";
    public const string DeepRepo = "a0/b1/c2/d3/e4/f5/g6/h7/i8/deep-name_x.y";

    private readonly TDriver _factory = new();
    private WebApplication? _app;

    protected RecordingStorageDriver Storage { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    /// <summary>The filesystem root, for tests that look at the files themselves.</summary>
    protected string? RootDirectory => _factory.RootDirectory;

    protected virtual RegistryOptions Options => new();

    /// <summary>Serve through Kestrel on a loopback port instead of the in-process test server, for the
    /// HTTP framing (HEAD, 204, sendfile) that only a real server enforces.</summary>
    protected virtual bool UseKestrel => false;

    /// <summary>With <see cref="UseKestrel"/>: serve HTTPS with a self-signed certificate made for the test (the
    /// configuration's <c>http.tls.certificate</c> and <c>http.tls.key</c> PEM files).</summary>
    protected virtual bool UseTls => false;

    private string? _tlsDirectory;
    private X509Certificate2? _certificate;

    /// <summary>Reconcile the catalog index in the background at start-up, as <c>berth serve</c> does. Tests of the
    /// index turn it off and reconcile when they mean to.</summary>
    protected virtual bool ReconcileCatalogAtStart => true;

    /// <summary>The server's services (its <c>RepositoryIndex</c>, <c>TagService</c>, ...).</summary>
    protected IServiceProvider Services => _app!.Services;

    public async Task InitializeAsync()
    {
        Storage = new RecordingStorageDriver(_factory.Create());
        var (certificateFile, keyFile) = UseTls ? CreateCertificate() : default;
        var options = new ServerOptions
        {
            Registry = Options, MetricsEnabled = false, LogLevel = LogLevel.None, Listen = "127.0.0.1:0", CatalogReconcileAtStart = ReconcileCatalogAtStart,
            TlsCertificate = certificateFile, TlsKey = keyFile,
        };
        _app = RegistryServer.Build(options, Storage, b =>
        {
            if (!UseKestrel)
            {
                b.WebHost.UseTestServer();
            }
            b.Logging.ClearProviders();
        });
        await _app.StartAsync();
        if (UseKestrel)
        {
            var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
            var sockets = new SocketsHttpHandler { UseProxy = false };
            if (_certificate is { } certificate)
            {
                // Trust exactly the certificate this test made.
                sockets.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
            }
            Client = new HttpClient(new ConformanceCheckingHandler { InnerHandler = sockets }) { BaseAddress = new Uri(address) };
            return;
        }
        var server = _app.GetTestServer();
        Client = new HttpClient(new ConformanceCheckingHandler { InnerHandler = server.CreateHandler() }) { BaseAddress = server.BaseAddress };
    }

    private (string? CertificateFile, string? KeyFile) CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _tlsDirectory = Directory.CreateTempSubdirectory("berth-tls-").FullName;
        var certificateFile = Path.Combine(_tlsDirectory, "cert.pem");
        var keyFile = Path.Combine(_tlsDirectory, "key.pem");
        File.WriteAllText(certificateFile, _certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile);
    }

    public virtual async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        _factory.Dispose();
        _certificate?.Dispose();
        if (_tlsDirectory is not null)
        {
            Directory.Delete(_tlsDirectory, recursive: true);
        }
    }

    // ---- requests ----

    protected Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, byte[]? body = null, string? contentType = null,
        params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        }
        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return Client.SendAsync(request);
    }

    protected Task<HttpResponseMessage> GetAsync(string url, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Get, url, headers: headers);

    protected Task<HttpResponseMessage> HeadAsync(string url, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Head, url, headers: headers);

    protected Task<HttpResponseMessage> DeleteAsync(string url) => SendAsync(HttpMethod.Delete, url);

    /// <summary>POST to start an upload; returns the Location.</summary>
    protected async Task<string> StartUploadAsync(string repository)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/", [], null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location?.OriginalString;
        Assert.NotNull(location);
        return location;
    }

    /// <summary>POST then PUT, monolithic. Returns the digest.</summary>
    protected async Task<string> PushBlobAsync(string repository, byte[] content)
    {
        var location = await StartUploadAsync(repository);
        var digest = Oci.Sha256(content);
        using var response = await SendAsync(HttpMethod.Put, WithDigest(location, digest), content, "application/octet-stream");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return digest;
    }

    protected static string WithDigest(string location, string digest) =>
        location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest);

    protected async Task<HttpResponseMessage> PutManifestAsync(string repository, string reference, byte[] manifest, string? mediaType = Oci.ImageManifest) =>
        await SendAsync(HttpMethod.Put, $"/v2/{repository}/manifests/{reference}", manifest, mediaType);

    /// <summary>Pushes a config, a layer and a manifest naming them; tags it when <paramref name="tag"/> is given.</summary>
    protected async Task<PushedImage> PushImageAsync(string repository, string? tag = "latest", Desc? subject = null, string? artifactType = null,
        IReadOnlyDictionary<string, string>? annotations = null, int layerSize = 1000)
    {
        var config = Oci.Config();
        var layer = Oci.RandomBytes(layerSize);
        await PushBlobAsync(repository, config);
        await PushBlobAsync(repository, layer);
        var configDesc = Oci.Describe(Oci.ImageConfig, config);
        var layerDesc = Oci.Describe(Oci.Layer, layer);
        var manifest = Oci.Manifest(configDesc, [layerDesc], subject, artifactType, annotations);
        var digest = Oci.Sha256(manifest);
        using var response = await PutManifestAsync(repository, tag ?? digest, manifest);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(digest, Header(response, "Docker-Content-Digest"));
        return new PushedImage(repository, tag, digest, manifest, configDesc, layerDesc, layer);
    }

    // ---- assertions ----

    protected static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.NonValidated.TryGetValues(name, out var content) ? content.ToString()
        : null;

    /// <summary>The raw Content-Length the server sent (not one HttpClient computed).</summary>
    protected static long? RawContentLength(HttpResponseMessage response) =>
        response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var v) ? long.Parse(v.ToString(), System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>Checks status and the first error's code; returns that error's detail.</summary>
    protected static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("errors")[0];
        Assert.Equal(code, error.GetProperty("code").GetString());
        return error.GetProperty("detail").Clone();
    }

    protected static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return doc.RootElement.Clone();
    }

    protected static void AssertStatus(HttpStatusCode expected, HttpResponseMessage response) =>
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode} for {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}");

    // ---- storage ----

    protected async Task<bool> ExistsAsync(string path)
    {
        try
        {
            await Storage.Inner.StatAsync(path);
            return true;
        }
        catch (PathNotFoundException)
        {
            return false;
        }
    }

    protected async Task<string> ReadTextAsync(string path) => Encoding.ASCII.GetString(await Storage.Inner.GetContentAsync(path));

    protected Task WriteRawAsync(string path, string content) => Storage.Inner.PutContentAsync(path, Encoding.ASCII.GetBytes(content));

    protected static Digest D(string digest) => Digest.Parse(digest);
}
