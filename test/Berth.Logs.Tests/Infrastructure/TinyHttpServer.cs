using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Berth.Logs.Tests.Infrastructure;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 that answers every request with one fixed response
/// (optionally over TLS with a fresh self-signed certificate): the "unhealthy" and "auth" targets of
/// the check tests.
/// </summary>
internal sealed class TinyHttpServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly int _status;
    private readonly string _reason;
    private readonly IReadOnlyDictionary<string, string> _headers;
    private readonly X509Certificate2? _certificate;
    private readonly Task _loop;
    private readonly Func<TinyRequest, TinyResponse>? _handler;

    /// <summary>A server routing each request through <paramref name="handler"/>.</summary>
    public TinyHttpServer(Func<TinyRequest, TinyResponse> handler)
        : this(200, "OK")
    {
        _handler = handler;
    }

    public TinyHttpServer(int status, string reason, IReadOnlyDictionary<string, string>? headers = null, DateTimeOffset? tlsNotAfter = null)
    {
        _status = status;
        _reason = reason;
        _headers = headers ?? new Dictionary<string, string>();
        if (tlsNotAfter is { } notAfter)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), notAfter);
            _certificate = X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
        }

        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri BaseUri => new($"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}");

    public X509Certificate2? Certificate => _certificate;

    public int Requests;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                Stream stream = client.GetStream();
                if (_certificate is not null)
                {
                    var ssl = new SslStream(stream);
                    await ssl.AuthenticateAsServerAsync(_certificate).ConfigureAwait(false);
                    stream = ssl;
                }

                await using (stream.ConfigureAwait(false))
                {
                    // Read the request head (these probes have no body).
                    var buffer = new byte[8192];
                    var total = 0;
                    while (total < buffer.Length)
                    {
                        var n = await stream.ReadAsync(buffer.AsMemory(total), _stop.Token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }

                        total += n;
                        if (Encoding.ASCII.GetString(buffer, 0, total).Contains("\r\n\r\n", StringComparison.Ordinal))
                        {
                            break;
                        }
                    }

                    Interlocked.Increment(ref Requests);
                    var requestHead = Encoding.ASCII.GetString(buffer, 0, total).Split("\r\n");
                    var requestLine = requestHead[0].Split(' ');
                    var requestHeaders = requestHead.Skip(1).TakeWhile(l => l.Length > 0)
                        .Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
                        .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
                    var response = _handler?.Invoke(new TinyRequest(requestLine[0], requestLine.Length > 1 ? requestLine[1] : "/", requestHeaders))
                        ?? new TinyResponse(_status, _reason, _headers, Encoding.UTF8.GetBytes($$"""{"errors":[{"code":"TEST","message":"status {{_status}}"}]}"""));
                    var body = requestLine[0] == "HEAD" ? Array.Empty<byte>() : response.Body;
                    var head = new StringBuilder($"HTTP/1.1 {response.Status} {response.Reason}\r\nContent-Length: {response.Body.Length}\r\nConnection: close\r\n");
                    if (!response.Headers.ContainsKey("Content-Type"))
                    {
                        head.Append("Content-Type: application/json\r\n");
                    }

                    foreach (var (k, v) in response.Headers)
                    {
                        head.Append(k).Append(": ").Append(v).Append("\r\n");
                    }

                    head.Append("\r\n");
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), _stop.Token).ConfigureAwait(false);
                    await stream.WriteAsync(body, _stop.Token).ConfigureAwait(false);
                    await stream.FlushAsync(_stop.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
                // the client went away (or refused our certificate)
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _certificate?.Dispose();
        _stop.Dispose();
    }
}

internal sealed record TinyRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers);

internal sealed record TinyResponse(int Status, string Reason, IReadOnlyDictionary<string, string> Headers, byte[] Body);
