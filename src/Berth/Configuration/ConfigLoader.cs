using System.Globalization;
using Berth.Api;
using Berth.Core;
using Berth.Storage.S3;
using Microsoft.Extensions.Logging;
using YamlDotNet.RepresentationModel;

namespace Berth.Configuration;

/// <summary>The storage a configuration names: <see cref="Driver"/> is "filesystem" (files under
/// <see cref="RootDirectory"/>), "inmemory" or "s3" (<see cref="S3"/> holds the bucket settings and
/// <see cref="RootDirectory"/> the key prefix). <see cref="StorageFactory"/> builds the driver.</summary>
public sealed record StorageSettings(string Driver, string RootDirectory)
{
    /// <summary>The settings of the "s3" driver (Distribution's storage.s3 keys); null for the others.</summary>
    public S3DriverOptions? S3 { get; init; }

    /// <summary>Where the storage is, for logs and messages (never shows credentials).</summary>
    public string Describe() => Driver switch
    {
        "s3" when S3 is not null => S3.Describe(),
        "inmemory" => "memory",
        _ => RootDirectory,
    };
}

/// <summary>A loaded configuration: server options, storage, and what the operator should know.</summary>
public sealed record LoadedConfig(ServerOptions Server, StorageSettings Storage, IReadOnlyList<string> Warnings);

/// <summary>Thrown for a configuration that cannot be used; the message says what to change.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>Command-line values that override the file and the environment.</summary>
public sealed record ConfigOverrides(string? Listen = null, string? Data = null, string? LogLevel = null, string? LogFormat = null);

/// <summary>
/// Reads CNCF Distribution's config.yml (so <c>berth serve /etc/docker/registry/config.yml</c> works on
/// the same storage), Berth's own keys under <c>berth:</c>, then environment variables
/// (<c>REGISTRY_SECTION_KEY</c> as Distribution reads them, and <c>BERTH_*</c>) and last the command line.
/// Keys Berth does not implement are reported as warnings; keys that would change security
/// (auth) or storage Berth cannot use are errors.
/// </summary>
public static class ConfigLoader
{
    public const string DefaultDataDirectory = "./data";

    /// <summary>Every key Berth reads, with what it does. Anything else is reported.</summary>
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "version",
        "log", "log.level", "log.formatter", "log.accesslog", "log.accesslog.disabled",
        "storage", "storage.filesystem", "storage.filesystem.rootdirectory",
        "storage.inmemory",
        "storage.delete", "storage.delete.enabled",
        "storage.maintenance", "storage.maintenance.uploadpurging", "storage.maintenance.uploadpurging.enabled",
        "storage.maintenance.uploadpurging.age", "storage.maintenance.uploadpurging.interval", "storage.maintenance.uploadpurging.dryrun",
        "storage.maintenance.readonly", "storage.maintenance.readonly.enabled",
        "storage.cache", "storage.cache.blobdescriptor",
        "storage.redirect", "storage.redirect.disable",
        "storage.s3", "storage.s3.accesskey", "storage.s3.secretkey", "storage.s3.sessiontoken", "storage.s3.region",
        "storage.s3.regionendpoint", "storage.s3.bucket", "storage.s3.rootdirectory", "storage.s3.forcepathstyle",
        "storage.s3.pathstyle", "storage.s3.secure", "storage.s3.skipverify", "storage.s3.chunksize", "storage.s3.v4auth",
        "storage.s3.encrypt", "storage.s3.keyid", "storage.s3.storageclass", "storage.s3.objectacl",
        "storage.s3.multipartcopychunksize", "storage.s3.multipartcopymaxconcurrency", "storage.s3.multipartcopythresholdsize",
        "storage.s3.usedualstack", "storage.s3.accelerate",
        "http", "http.addr", "http.net", "http.secret", "http.tls", "http.tls.certificate", "http.tls.key",
        "berth", "berth.maxmanifestbytes", "berth.shutdowntimeout", "berth.metrics", "berth.metrics.enabled",
        "berth.catalog", "berth.catalog.reconcileinterval", "berth.gen0budgetmib",
    };

    public static LoadedConfig Load(string? path, IReadOnlyDictionary<string, string> environment, ConfigOverrides overrides)
    {
        var warnings = new List<string>();
        var values = ReadValues(path, environment);
        if (values.TryGetValue("version", out var version) && version != "0.1")
        {
            warnings.Add($"version '{version}': Berth reads Distribution's configuration version 0.1");
        }

        string? Env(string name) => environment.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
        string? Value(string key) => values.TryGetValue(key, out var v) && v.Length > 0 ? v : null;

        if (values.Keys.Any(k => k == "auth" || k.StartsWith("auth.", StringComparison.Ordinal)))
        {
            throw new ConfigException("auth: this Berth version does not implement authentication yet; refusing to serve without the auth the configuration asks for (remove the auth section to serve without authentication)");
        }
        if (values.Keys.Any(k => k.StartsWith("http.tls.client", StringComparison.Ordinal)))
        {
            throw new ConfigException("http.tls.clientcas: client certificate authentication is not implemented in this Berth version; refusing to serve without it (remove it to serve without client certificates)");
        }
        if (values.Keys.Any(k => k == "http.tls.letsencrypt" || k.StartsWith("http.tls.letsencrypt.", StringComparison.Ordinal)))
        {
            throw new ConfigException("http.tls.letsencrypt: Let's Encrypt is not implemented in this Berth version; refusing to serve without the TLS it asks for (give http.tls.certificate and key instead)");
        }
        var configured = ConfiguredDrivers(values);
        foreach (var key in values.Keys.Order(StringComparer.Ordinal))
        {
            if (!Known.Contains(key) && !key.StartsWith("log.fields", StringComparison.Ordinal))
            {
                warnings.Add($"'{key}' is not implemented by Berth and is ignored");
            }
            else if (key.StartsWith("log.fields", StringComparison.Ordinal))
            {
                warnings.Add($"'{key}' is ignored: Berth's log lines carry their own fields");
            }
        }
        if (Value("storage.maintenance.uploadpurging.enabled") is "true")
        {
            warnings.Add("storage.maintenance.uploadpurging: Berth does not purge uploads in the background; run `berth doctor --repair` (upload-stale) instead");
        }
        if (Value("storage.maintenance.readonly.enabled") is "true")
        {
            throw new ConfigException("storage.maintenance.readonly: read-only mode is not implemented in this Berth version");
        }

        var driverName = configured.Count == 1 ? configured[0] : "filesystem";
        var root = overrides.Data ?? Env("BERTH_DATA") ?? Value("storage.filesystem.rootdirectory") ?? DefaultDataDirectory;
        if (overrides.Data is not null || Env("BERTH_DATA") is not null)
        {
            driverName = "filesystem";
        }
        var s3 = driverName == "s3" ? LoadS3(Value, Env, warnings) : null;
        // Distribution redirects blob GETs to the object store unless storage.redirect.disable is true; Berth
        // serves them itself unless the configuration says disable: false.
        var redirect = driverName == "s3" && !ParseBool(Env("BERTH_REDIRECT_DISABLE") ?? Value("storage.redirect.disable") ?? "true", "storage.redirect.disable");

        var listen = overrides.Listen ?? Env("BERTH_LISTEN") ?? Value("http.addr") ?? "127.0.0.1:5000";
        if (listen.StartsWith(':'))
        {
            listen = "0.0.0.0" + listen;
        }
        var logLevel = ParseLogLevel(overrides.LogLevel ?? Env("BERTH_LOG_LEVEL") ?? Value("log.level") ?? "info");
        var logFormat = (overrides.LogFormat ?? Env("BERTH_LOG_FORMAT") ?? Value("log.formatter") ?? "json") switch
        {
            "json" or "logstash" => "json",
            "text" or "console" => "text",
            var other => throw new ConfigException($"log format '{other}' is not one of json, text"),
        };
        var deleteEnabled = ParseBool(Env("BERTH_DELETE_ENABLED") ?? Value("storage.delete.enabled") ?? "true", "storage.delete.enabled");
        var maxManifest = ParseInt(Env("BERTH_MAX_MANIFEST_BYTES") ?? Value("berth.maxmanifestbytes") ?? (4 * 1024 * 1024).ToString(CultureInfo.InvariantCulture), "berth.maxmanifestbytes", 1024);
        var shutdown = ParseDuration(Env("BERTH_SHUTDOWN_TIMEOUT") ?? Value("berth.shutdowntimeout") ?? "30s", "berth.shutdowntimeout");
        var accessLog = !ParseBool(Env("BERTH_ACCESSLOG_DISABLED") ?? Value("log.accesslog.disabled") ?? "false", "log.accesslog.disabled");
        var reconcileInterval = ParseDuration(Env("BERTH_CATALOG_RECONCILE_INTERVAL") ?? Value("berth.catalog.reconcileinterval") ?? "1h", "berth.catalog.reconcileinterval");
        var gen0Budget = ParseInt(Env("BERTH_GEN0_BUDGET_MIB") ?? Value("berth.gen0budgetmib") ?? "8", "berth.gen0budgetmib", 0);
        var metrics = ParseBool(Env("BERTH_METRICS_ENABLED") ?? Value("berth.metrics.enabled") ?? "true", "berth.metrics.enabled");
        var certificate = Env("BERTH_TLS_CERTIFICATE") ?? Value("http.tls.certificate");
        var tlsKey = Env("BERTH_TLS_KEY") ?? Value("http.tls.key");
        if ((certificate is null) != (tlsKey is null))
        {
            throw new ConfigException("http.tls needs both certificate and key");
        }
        foreach (var file in new[] { certificate, tlsKey })
        {
            if (file is not null && !File.Exists(file))
            {
                throw new ConfigException($"http.tls: file '{file}' does not exist");
            }
        }

        var server = new ServerOptions
        {
            Listen = listen,
            LogLevel = logLevel,
            LogFormat = logFormat,
            TlsCertificate = certificate,
            TlsKey = tlsKey,
            ShutdownTimeout = shutdown,
            MetricsEnabled = metrics,
            AccessLogEnabled = accessLog,
            CatalogReconcileInterval = reconcileInterval,
            Gen0BudgetBytes = gen0Budget * 1024L * 1024L,
            Registry = new RegistryOptions { DeleteEnabled = deleteEnabled, MaxManifestBytes = maxManifest, RedirectBlobs = redirect },
        };
        try
        {
            server.ParseListen();
        }
        catch (FormatException e)
        {
            throw new ConfigException(e.Message);
        }
        var storage = s3 is null
            ? new StorageSettings(driverName, Path.GetFullPath(root))
            : new StorageSettings(driverName, s3.RootDirectory) { S3 = s3 };
        return new LoadedConfig(server, storage, warnings);
    }

    /// <summary>Distribution's default storage root when storage.filesystem names no rootdirectory.</summary>
    public const string DistributionDefaultRootDirectory = "/var/lib/registry";

    /// <summary>
    /// The storage a configuration names, for the commands that work on a registry's storage without serving it
    /// (<c>berth doctor --config</c>, <c>berth gc --config</c>, <c>berth logs --doctor --config</c>). It reads the file
    /// and the <c>REGISTRY_*</c> environment exactly as <see cref="Load"/> does, and builds the same
    /// <see cref="StorageSettings"/> (<see cref="StorageFactory"/> turns them into the driver <c>berth serve</c> would use),
    /// but only the storage section matters: a configuration that serving would refuse (auth, read-only mode,
    /// TLS files that are not here) still names its storage. Unlike <see cref="Load"/> it does not fall back to
    /// <see cref="DefaultDataDirectory"/>: a configuration without storage.filesystem or storage.s3 is an error, and
    /// storage.filesystem without a rootdirectory means Distribution's <see cref="DistributionDefaultRootDirectory"/>.
    /// </summary>
    public static StorageSettings LoadStorage(string path, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(environment);
        var values = ReadValues(path, environment);
        string? Env(string name) => environment.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
        string? Value(string key) => values.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        var configured = ConfiguredDrivers(values);
        switch (configured.FirstOrDefault())
        {
            case null:
                throw new ConfigException($"{path} names no storage: it needs a storage.filesystem (rootdirectory) or storage.s3 section");
            case "inmemory":
                throw new ConfigException($"{path}: storage.inmemory keeps nothing outside the serving process; there is no storage to open");
            case "s3":
                var s3 = LoadS3(Value, Env, []);
                return new StorageSettings("s3", s3.RootDirectory) { S3 = s3 };
            default:
                return new StorageSettings("filesystem", Path.GetFullPath(Value("storage.filesystem.rootdirectory") ?? DistributionDefaultRootDirectory));
        }
    }

    /// <summary>The file's keys, flattened and lower-cased ("storage.s3.bucket"), then REGISTRY_SECTION_KEY variables over them.</summary>
    private static Dictionary<string, string> ReadValues(string? path, IReadOnlyDictionary<string, string> environment)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (path is not null)
        {
            if (!File.Exists(path))
            {
                throw new ConfigException($"configuration file '{path}' does not exist");
            }
            YamlStream yaml = [];
            using var reader = new StreamReader(path);
            var parser = new YamlDotNet.Core.Parser(reader);
            try
            {
                yaml.Load(parser);
            }
            catch (YamlDotNet.Core.YamlException e)
            {
                throw new ConfigException($"{path}: line {e.Start.Line}: {e.Message}");
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException)
            {
                // YamlDotNet's scanner throws these for some malformed input (an unclosed flow sequence).
                throw new ConfigException($"{path}: line {parser.Current?.End.Line ?? 1}: not valid YAML after this point");
            }
            if (yaml.Documents.Count > 0)
            {
                switch (yaml.Documents[0].RootNode)
                {
                    case YamlMappingNode document:
                        Flatten(document, "", values, path);
                        break;
                    case YamlScalarNode { Value: null or "" }:
                        break;
                    case var other:
                        throw new ConfigException($"{path}: line {other.Start.Line}: the configuration must be a mapping of sections (version, log, storage, http, ...)");
                }
            }
        }
        foreach (var (name, value) in environment)
        {
            if (name.StartsWith("REGISTRY_", StringComparison.Ordinal))
            {
                var envKey = name["REGISTRY_".Length..].ToLowerInvariant().Replace('_', '.');
                values[envKey] = value;
            }
        }
        return values;
    }

    /// <summary>The storage drivers the values configure (at most one); throws for drivers Berth does not have.</summary>
    private static List<string> ConfiguredDrivers(Dictionary<string, string> values)
    {
        bool HasSection(string section) => values.Keys.Any(k => k == section || k.StartsWith(section + ".", StringComparison.Ordinal));
        foreach (var driver in new[] { "gcs", "azure", "swift", "oss" })
        {
            if (HasSection("storage." + driver))
            {
                throw new ConfigException($"storage.{driver}: this storage driver is not available in this Berth version (filesystem, s3 and inmemory are)");
            }
        }
        var configured = new[] { "filesystem", "s3", "inmemory" }.Where(d => HasSection("storage." + d)).ToList();
        if (configured.Count > 1)
        {
            throw new ConfigException($"storage: exactly one driver may be configured, found {string.Join(", ", configured)}");
        }
        return configured;
    }

    /// <summary>Distribution's storage.s3 keys (GitLab's pathstyle too). Keys and the region may also come from
    /// the AWS environment variables; without any keys the AWS SDK's default chain is used.</summary>
    private static S3DriverOptions LoadS3(Func<string, string?> value, Func<string, string?> env, List<string> warnings)
    {
        string? S3(string key) => value("storage.s3." + key);
        bool? Bool(string key) => S3(key) is { } v ? ParseBool(v, "storage.s3." + key) : null;
        long? Size(string key) => S3(key) is { } v ? ParseSize(v, "storage.s3." + key) : null;

        var bucket = S3("bucket") ?? throw new ConfigException("storage.s3.bucket is required");
        var endpoint = S3("regionendpoint");
        var region = S3("region") ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION")
            ?? (endpoint is not null ? "us-east-1" : throw new ConfigException("storage.s3.region is required (or AWS_REGION)"));
        var accessKey = S3("accesskey");
        var secretKey = S3("secretkey");
        var sessionToken = S3("sessiontoken");
        if (accessKey is null && secretKey is null)
        {
            accessKey = env("AWS_ACCESS_KEY_ID");
            secretKey = env("AWS_SECRET_ACCESS_KEY");
            sessionToken ??= env("AWS_SESSION_TOKEN");
            if (accessKey is null || secretKey is null)
            {
                (accessKey, secretKey) = (null, null);
            }
        }
        if (Bool("v4auth") is false)
        {
            warnings.Add("storage.s3.v4auth: false is ignored; Berth always signs requests with AWS Signature Version 4");
        }
        var options = new S3DriverOptions
        {
            Bucket = bucket,
            Region = region,
            RegionEndpoint = endpoint,
            AccessKey = accessKey,
            SecretKey = secretKey,
            SessionToken = sessionToken,
            RootDirectory = S3("rootdirectory") ?? "",
            ForcePathStyle = Bool("forcepathstyle") ?? Bool("pathstyle"),
            Secure = Bool("secure") ?? true,
            SkipVerify = Bool("skipverify") ?? false,
            ChunkSize = Size("chunksize") ?? 10L * 1024 * 1024,
            MultipartCopyChunkSize = Size("multipartcopychunksize") ?? 32L * 1024 * 1024,
            MultipartCopyThresholdSize = Size("multipartcopythresholdsize") ?? S3DriverOptions.MaximumCopyObjectSize,
            MultipartCopyMaxConcurrency = S3("multipartcopymaxconcurrency") is { } c ? ParseInt(c, "storage.s3.multipartcopymaxconcurrency", 1) : 100,
            Encrypt = Bool("encrypt") ?? false,
            KeyId = S3("keyid"),
            StorageClass = S3("storageclass") ?? "STANDARD",
            ObjectAcl = S3("objectacl") ?? "private",
            UseDualStack = Bool("usedualstack") ?? false,
            Accelerate = Bool("accelerate") ?? false,
        };
        try
        {
            options.Validate();
            S3ClientFactory.EndpointUrl(options);
        }
        catch (ArgumentException e)
        {
            throw new ConfigException(e.Message);
        }
        return options;
    }

    /// <summary>Bytes as a whole number, or with a unit: 10MB, 10MiB, 5M, 1G (powers of 1024, as Distribution reads them).</summary>
    private static long ParseSize(string value, string key)
    {
        var v = value.Trim();
        var digits = 0;
        while (digits < v.Length && char.IsAsciiDigit(v[digits]))
        {
            digits++;
        }
        if (digits == 0 || !long.TryParse(v.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            throw new ConfigException($"{key}: '{value}' is not a size in bytes like 10485760 or 10MiB");
        }
        long factor = v[digits..].Trim().ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" or "kb" or "kib" => 1024,
            "m" or "mb" or "mib" => 1024 * 1024,
            "g" or "gb" or "gib" => 1024L * 1024 * 1024,
            _ => throw new ConfigException($"{key}: '{value}' is not a size in bytes like 10485760 or 10MiB"),
        };
        return checked(number * factor);
    }

    private static void Flatten(YamlMappingNode node, string prefix, Dictionary<string, string> values, string file)
    {
        foreach (var (k, v) in node.Children)
        {
            if (k is not YamlScalarNode { Value: { } name })
            {
                throw new ConfigException($"{file}: line {k.Start.Line}: keys must be plain names");
            }
            var key = prefix + name.ToLowerInvariant();
            switch (v)
            {
                case YamlMappingNode child:
                    values[key] = "";
                    Flatten(child, key + ".", values, file);
                    break;
                case YamlScalarNode scalar:
                    values[key] = scalar.Value ?? "";
                    break;
                case YamlSequenceNode:
                    values[key] = "";
                    break;
            }
        }
    }

    private static LogLevel ParseLogLevel(string value) => value.ToLowerInvariant() switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "trace" => LogLevel.Trace,
        _ => throw new ConfigException($"log level '{value}' is not one of error, warn, info, debug"),
    };

    private static bool ParseBool(string value, string key) => value.ToLowerInvariant() switch
    {
        "true" or "yes" or "1" => true,
        "false" or "no" or "0" => false,
        _ => throw new ConfigException($"{key}: '{value}' is not true or false"),
    };

    private static int ParseInt(string value, string key, int min) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n
            : throw new ConfigException($"{key}: '{value}' is not a whole number of at least {min}");

    /// <summary>Go-style durations: "30s", "5m", "1h30m", "250ms".</summary>
    public static TimeSpan ParseDuration(string value, string key)
    {
        var total = TimeSpan.Zero;
        var i = 0;
        var any = false;
        while (i < value.Length)
        {
            var start = i;
            while (i < value.Length && (char.IsAsciiDigit(value[i]) || value[i] == '.'))
            {
                i++;
            }
            if (start == i || !double.TryParse(value.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                throw new ConfigException($"{key}: '{value}' is not a duration like 30s, 5m or 1h");
            }
            var unitStart = i;
            while (i < value.Length && char.IsAsciiLetter(value[i]))
            {
                i++;
            }
            var unit = value[unitStart..i] switch
            {
                "ms" => TimeSpan.FromMilliseconds(1),
                "s" => TimeSpan.FromSeconds(1),
                "m" => TimeSpan.FromMinutes(1),
                "h" => TimeSpan.FromHours(1),
                _ => throw new ConfigException($"{key}: '{value}' is not a duration like 30s, 5m or 1h"),
            };
            try
            {
                total += unit * number;
            }
            catch (OverflowException)
            {
                throw new ConfigException($"{key}: '{value}' is too long a duration");
            }
            any = true;
        }
        return any ? total : throw new ConfigException($"{key}: empty duration");
    }
}
