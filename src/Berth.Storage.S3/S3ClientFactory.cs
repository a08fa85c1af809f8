using System.Net.Security;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace Berth.Storage.S3;

/// <summary>Builds the AWS SDK client for <see cref="S3DriverOptions"/>.</summary>
public static class S3ClientFactory
{
    /// <summary>
    /// The client. Request checksums and response validation are "when required" (the SDK v4 default sends
    /// aws-chunked bodies with trailing CRCs that Ceph RGW 16 and other S3 implementations reject with
    /// XAmzContentSHA256Mismatch); a custom endpoint is signed for <see cref="S3DriverOptions.Region"/>.
    /// </summary>
    /// <param name="environment">Variables to read AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
    /// from when the options carry no keys; the process environment when null.</param>
    public static AmazonS3Client Create(S3DriverOptions options, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var config = new AmazonS3Config
        {
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            ForcePathStyle = options.ForcePathStyle ?? options.RegionEndpoint is { Length: > 0 },
            UseDualstackEndpoint = options.UseDualStack,
            UseAccelerateEndpoint = options.Accelerate,
            MaxErrorRetry = 4,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (EndpointUrl(options) is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
            config.UseHttp = !options.Secure;
        }
        if (options.SkipVerify)
        {
            config.HttpClientFactory = new UnverifiedTlsHttpClientFactory();
        }
        var credentials = Credentials(options, environment);
        return credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    /// <summary>The endpoint with its scheme, or null for AWS's own endpoints.</summary>
    public static Uri? EndpointUrl(S3DriverOptions options)
    {
        if (options.RegionEndpoint is not { Length: > 0 } value)
        {
            return null;
        }
        if (!value.Contains("://", StringComparison.Ordinal))
        {
            value = (options.Secure ? "https://" : "http://") + value;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"storage.s3.regionendpoint '{options.RegionEndpoint}' is not an http(s) URL or host:port");
    }

    private static AWSCredentials? Credentials(S3DriverOptions options, IReadOnlyDictionary<string, string>? environment)
    {
        if (options.AccessKey is { Length: > 0 } key && options.SecretKey is { Length: > 0 } secret)
        {
            return options.SessionToken is { Length: > 0 } token ? new SessionAWSCredentials(key, secret, token) : new BasicAWSCredentials(key, secret);
        }
        string? Env(string name) => environment is null
            ? Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null
            : environment.TryGetValue(name, out var e) && e.Length > 0 ? e : null;
        if (Env("AWS_ACCESS_KEY_ID") is { } envKey && Env("AWS_SECRET_ACCESS_KEY") is { } envSecret)
        {
            return Env("AWS_SESSION_TOKEN") is { } envToken ? new SessionAWSCredentials(envKey, envSecret, envToken) : new BasicAWSCredentials(envKey, envSecret);
        }
        // The SDK's default chain: shared profile, web identity, container and instance roles.
        return null;
    }

    /// <summary>For <c>skipverify</c>: accepts any server certificate.</summary>
    private sealed class UnverifiedTlsHttpClientFactory : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            var handler = new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            };
            return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        }
    }
}
