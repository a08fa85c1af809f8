using Berth.Configuration;
using Microsoft.Extensions.Logging;

namespace Berth.Tests;

public sealed class ConfigLoaderTests : IDisposable
{
    private static readonly Dictionary<string, string> NoEnvironment = [];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "berth-config-tests-" + Guid.NewGuid().ToString("N"));

    public ConfigLoaderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string yaml, string name = "config.yml")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private string Touch(string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "-----BEGIN NOTHING-----\n");
        return path;
    }

    private static LoadedConfig Load(string? path, Dictionary<string, string>? environment = null, ConfigOverrides? overrides = null) =>
        ConfigLoader.Load(path, environment ?? NoEnvironment, overrides ?? new ConfigOverrides());

    private static ConfigException Fails(string? path, Dictionary<string, string>? environment = null, ConfigOverrides? overrides = null) =>
        Assert.Throws<ConfigException>(() => Load(path, environment, overrides));

    /// <summary>A config.yml as CNCF Distribution's documentation and images ship it, with TLS.</summary>
    private string DistributionConfig(string? extra = null) => Write($"""
        version: 0.1
        log:
          level: debug
          formatter: text
          fields:
            service: registry
            environment: staging
        storage:
          filesystem:
            rootdirectory: {_dir}/registry
          delete:
            enabled: true
          maintenance:
            uploadpurging:
              enabled: true
              age: 168h
              interval: 24h
              dryrun: false
            readonly:
              enabled: false
          cache:
            blobdescriptor: inmemory
          redirect:
            disable: true
        http:
          addr: :5000
          secret: asecretforlocaldevelopment
          headers:
            X-Content-Type-Options: [nosniff]
          tls:
            certificate: {Touch("domain.crt")}
            key: {Touch("domain.key")}
        health:
          storagedriver:
            enabled: true
            interval: 10s
            threshold: 3
        {extra}
        """);

    [Fact]
    public void DistributionConfig_IsRead()
    {
        var config = Load(DistributionConfig());
        Assert.Equal("filesystem", config.Storage.Driver);
        Assert.Equal(Path.Combine(_dir, "registry"), config.Storage.RootDirectory);
        Assert.Equal("0.0.0.0:5000", config.Server.Listen);
        Assert.Equal(LogLevel.Debug, config.Server.LogLevel);
        Assert.Equal("text", config.Server.LogFormat);
        Assert.True(config.Server.Registry.DeleteEnabled);
        Assert.Equal(Path.Combine(_dir, "domain.crt"), config.Server.TlsCertificate);
        Assert.Equal(Path.Combine(_dir, "domain.key"), config.Server.TlsKey);
    }

    [Fact]
    public void DistributionConfig_WarnsAboutWhatBerthDoesNotDo()
    {
        var warnings = Load(DistributionConfig()).Warnings;
        Assert.Contains(warnings, w => w.Contains("log.fields", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("uploadpurging", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'http.headers", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'health.storagedriver.interval'", StringComparison.Ordinal));
        // Keys Berth reads are not reported.
        Assert.DoesNotContain(warnings, w => w.Contains("rootdirectory", StringComparison.Ordinal) || w.Contains("http.addr", StringComparison.Ordinal)
            || w.Contains("delete.enabled", StringComparison.Ordinal) || w.Contains("version", StringComparison.Ordinal));
    }

    [Fact]
    public void Defaults_WithoutAFile()
    {
        var config = Load(null);
        Assert.Equal("127.0.0.1:5000", config.Server.Listen);
        Assert.Equal("filesystem", config.Storage.Driver);
        Assert.Equal(Path.GetFullPath(ConfigLoader.DefaultDataDirectory), config.Storage.RootDirectory);
        Assert.True(config.Server.Registry.DeleteEnabled);
        Assert.Equal(4 * 1024 * 1024, config.Server.Registry.MaxManifestBytes);
        Assert.Equal("json", config.Server.LogFormat);
        Assert.Equal(LogLevel.Information, config.Server.LogLevel);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Server.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromHours(1), config.Server.CatalogReconcileInterval);
        Assert.Null(config.Server.TlsCertificate);
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void DeleteDisabled_AndInMemoryStorage()
    {
        var config = Load(Write("""
            version: 0.1
            storage:
              inmemory:
              delete:
                enabled: false
            """));
        Assert.Equal("inmemory", config.Storage.Driver);
        Assert.False(config.Server.Registry.DeleteEnabled);
    }

    [Fact]
    public void BerthSection_IsRead()
    {
        var config = Load(Write("""
            berth:
              maxmanifestbytes: 1048576
              shutdowntimeout: 1m30s
              metrics:
                enabled: false
            """));
        Assert.Equal(1048576, config.Server.Registry.MaxManifestBytes);
        Assert.Equal(TimeSpan.FromSeconds(90), config.Server.ShutdownTimeout);
        Assert.False(config.Server.MetricsEnabled);
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void CatalogReconcileInterval_FromFileOrEnvironment_ZeroMeansOnlyAtStartUp()
    {
        var file = Write("""
            berth:
              catalog:
                reconcileinterval: 15m
            """);
        Assert.Equal(TimeSpan.FromMinutes(15), Load(file).Server.CatalogReconcileInterval);
        Assert.Empty(Load(file).Warnings);
        Assert.Equal(TimeSpan.Zero, Load(file, new() { ["BERTH_CATALOG_RECONCILE_INTERVAL"] = "0s" }).Server.CatalogReconcileInterval);
        var error = Assert.Throws<ConfigException>(() => Load(Write("berth:\n  catalog:\n    reconcileinterval: soon\n")));
        Assert.Contains("berth.catalog.reconcileinterval", error.Message);
    }

    [Fact]
    public void Gen0Budget_DefaultsTo8MiB_FromFileOrEnvironment_ZeroTurnsItOff()
    {
        Assert.Equal(8L * 1024 * 1024, Load(Write("version: 0.1\n")).Server.Gen0BudgetBytes);
        var file = Write("""
            berth:
              gen0budgetmib: 64
            """);
        Assert.Equal(64L * 1024 * 1024, Load(file).Server.Gen0BudgetBytes);
        Assert.Empty(Load(file).Warnings);
        Assert.Equal(0, Load(file, new() { ["BERTH_GEN0_BUDGET_MIB"] = "0" }).Server.Gen0BudgetBytes);
        var error = Assert.Throws<ConfigException>(() => Load(Write("berth:\n  gen0budgetmib: lots\n")));
        Assert.Contains("berth.gen0budgetmib", error.Message);
    }

    [Theory]
    [InlineData("notifications:\n  endpoints:\n    - name: alistener\n      url: https://example.com/event\n", "notifications.endpoints")]
    [InlineData("storage:\n  filesystem:\n    rootdirectory: /tmp/x\n    maxthreads: 100\n", "storage.filesystem.maxthreads")]
    [InlineData("http:\n  addr: :5000\n  prefix: /registry\n", "http.prefix")]
    [InlineData("proxy:\n  remoteurl: https://registry-1.docker.io\n", "proxy.remoteurl")]
    [InlineData("redis:\n  addr: localhost:6379\n", "redis.addr")]
    [InlineData("somethingnew: 1\n", "somethingnew")]
    public void UnknownKeys_ProduceWarnings(string yaml, string key)
    {
        var config = Load(Write(yaml));
        Assert.Contains(config.Warnings, w => w.Contains($"'{key}'", StringComparison.Ordinal));
    }

    [Fact]
    public void OtherVersion_ProducesAWarning()
    {
        Assert.Contains(Load(Write("version: 0.2\n")).Warnings, w => w.Contains("version", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("auth:\n  htpasswd:\n    realm: basic-realm\n    path: /auth/htpasswd\n")]
    [InlineData("auth:\n  token:\n    realm: https://auth.example.com/token\n    service: registry\n    issuer: me\n    rootcertbundle: /certs/bundle\n")]
    [InlineData("auth:\n  silly:\n    realm: silly-realm\n    service: silly-service\n")]
    public void Auth_IsAClearError(string yaml)
    {
        var e = Fails(Write(yaml));
        Assert.StartsWith("auth:", e.Message, StringComparison.Ordinal);
        Assert.Contains("authentication", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gcs", "storage:\n  gcs:\n    bucket: registry\n")]
    [InlineData("azure", "storage:\n  azure:\n    accountname: a\n    accountkey: b\n    container: c\n")]
    public void UnavailableStorageDrivers_AreClearErrors(string driver, string yaml)
    {
        var e = Fails(Write(yaml));
        Assert.Contains($"storage.{driver}", e.Message, StringComparison.Ordinal);
        Assert.Contains("not available", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthAndS3_FromTheEnvironment_AreErrorsToo()
    {
        Assert.Contains("auth", Fails(null, new() { ["REGISTRY_AUTH_HTPASSWD_PATH"] = "/auth/htpasswd" }).Message, StringComparison.Ordinal);
        Assert.Contains("storage.s3", Fails(null, new() { ["REGISTRY_STORAGE_S3_BUCKET"] = "registry" }).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http:\n  tls:\n    certificate: CERT\n    key: KEY\n    clientcas:\n      - /certs/ca.pem\n", "http.tls.clientcas")]
    [InlineData("http:\n  tls:\n    letsencrypt:\n      cachefile: /cache\n      email: a@example.com\n      hosts: [registry.example.com]\n", "http.tls.letsencrypt")]
    public void TlsClientAuthAndLetsEncrypt_AreClearErrors_NotSilentlyWeakerSecurity(string yaml, string key)
    {
        var e = Fails(Write(yaml.Replace("CERT", Touch("c.crt"), StringComparison.Ordinal).Replace("KEY", Touch("c.key"), StringComparison.Ordinal)));
        Assert.StartsWith(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOnlyMode_IsAClearError()
    {
        var e = Fails(Write("storage:\n  maintenance:\n    readonly:\n      enabled: true\n"));
        Assert.Contains("readonly", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegistryEnvironment_OverridesTheFile()
    {
        var config = Load(DistributionConfig(), new()
        {
            ["REGISTRY_HTTP_ADDR"] = "127.0.0.1:6000",
            ["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"] = Path.Combine(_dir, "from-env"),
            ["REGISTRY_STORAGE_DELETE_ENABLED"] = "false",
            ["REGISTRY_LOG_LEVEL"] = "warn",
            ["REGISTRY_LOG_FORMATTER"] = "json",
        });
        Assert.Equal("127.0.0.1:6000", config.Server.Listen);
        Assert.Equal(Path.Combine(_dir, "from-env"), config.Storage.RootDirectory);
        Assert.False(config.Server.Registry.DeleteEnabled);
        Assert.Equal(LogLevel.Warning, config.Server.LogLevel);
        Assert.Equal("json", config.Server.LogFormat);
    }

    [Fact]
    public void RegistryEnvironment_WithoutAFile()
    {
        var config = Load(null, new() { ["REGISTRY_HTTP_ADDR"] = ":5001", ["REGISTRY_STORAGE_DELETE_ENABLED"] = "false" });
        Assert.Equal("0.0.0.0:5001", config.Server.Listen);
        Assert.False(config.Server.Registry.DeleteEnabled);
    }

    [Fact]
    public void UnknownRegistryEnvironment_ProducesAWarning()
    {
        var config = Load(null, new() { ["REGISTRY_HTTP_NOSUCHTHING"] = "1" });
        Assert.Contains(config.Warnings, w => w.Contains("'http.nosuchthing'", StringComparison.Ordinal));
    }

    [Fact]
    public void OtherEnvironment_IsIgnored()
    {
        var config = Load(null, new() { ["PATH"] = "/usr/bin", ["HOME"] = "/root", ["REGISTRY"] = "x" });
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void BerthEnvironment_OverridesRegistryEnvironmentAndTheFile()
    {
        var cert = Touch("env.crt");
        var key = Touch("env.key");
        var config = Load(DistributionConfig(), new()
        {
            ["REGISTRY_HTTP_ADDR"] = "127.0.0.1:6000",
            ["BERTH_LISTEN"] = "127.0.0.1:7000",
            ["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"] = Path.Combine(_dir, "registry-env"),
            ["BERTH_DATA"] = Path.Combine(_dir, "berth-env"),
            ["REGISTRY_LOG_LEVEL"] = "warn",
            ["BERTH_LOG_LEVEL"] = "error",
            ["BERTH_LOG_FORMAT"] = "json",
            ["REGISTRY_STORAGE_DELETE_ENABLED"] = "true",
            ["BERTH_DELETE_ENABLED"] = "false",
            ["BERTH_MAX_MANIFEST_BYTES"] = "2048",
            ["BERTH_SHUTDOWN_TIMEOUT"] = "250ms",
            ["BERTH_METRICS_ENABLED"] = "false",
            ["BERTH_TLS_CERTIFICATE"] = cert,
            ["BERTH_TLS_KEY"] = key,
        });
        Assert.Equal("127.0.0.1:7000", config.Server.Listen);
        Assert.Equal(Path.Combine(_dir, "berth-env"), config.Storage.RootDirectory);
        Assert.Equal(LogLevel.Error, config.Server.LogLevel);
        Assert.Equal("json", config.Server.LogFormat);
        Assert.False(config.Server.Registry.DeleteEnabled);
        Assert.Equal(2048, config.Server.Registry.MaxManifestBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(250), config.Server.ShutdownTimeout);
        Assert.False(config.Server.MetricsEnabled);
        Assert.Equal(cert, config.Server.TlsCertificate);
        Assert.Equal(key, config.Server.TlsKey);
    }

    [Fact]
    public void BerthData_SelectsTheFilesystemDriver()
    {
        var config = Load(Write("storage:\n  inmemory:\n"), new() { ["BERTH_DATA"] = Path.Combine(_dir, "data") });
        Assert.Equal("filesystem", config.Storage.Driver);
        Assert.Equal(Path.Combine(_dir, "data"), config.Storage.RootDirectory);
    }

    [Fact]
    public void Flags_OverrideTheEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            ["REGISTRY_HTTP_ADDR"] = "127.0.0.1:6000",
            ["BERTH_LISTEN"] = "127.0.0.1:7000",
            ["BERTH_DATA"] = Path.Combine(_dir, "env"),
            ["BERTH_LOG_LEVEL"] = "error",
            ["BERTH_LOG_FORMAT"] = "json",
        };
        var config = Load(DistributionConfig(), environment, new ConfigOverrides("127.0.0.1:8000", Path.Combine(_dir, "flag"), "debug", "text"));
        Assert.Equal("127.0.0.1:8000", config.Server.Listen);
        Assert.Equal(Path.Combine(_dir, "flag"), config.Storage.RootDirectory);
        Assert.Equal(LogLevel.Debug, config.Server.LogLevel);
        Assert.Equal("text", config.Server.LogFormat);
    }

    [Fact]
    public void DataFlag_SelectsTheFilesystemDriver()
    {
        var config = Load(Write("storage:\n  inmemory:\n"), overrides: new ConfigOverrides(Data: Path.Combine(_dir, "flag")));
        Assert.Equal("filesystem", config.Storage.Driver);
    }

    [Theory]
    [InlineData("localhost:5000", "localhost:5000")]
    [InlineData(":5000", "0.0.0.0:5000")]
    [InlineData("0.0.0.0:443", "0.0.0.0:443")]
    [InlineData("[::1]:5000", "[::1]:5000")]
    [InlineData("registry.example.com:5000", "registry.example.com:5000")]
    public void ValidListen_IsAccepted(string listen, string expected)
    {
        Assert.Equal(expected, Load(null, overrides: new ConfigOverrides(Listen: listen)).Server.Listen);
    }

    [Theory]
    [InlineData("5000")]
    [InlineData("localhost")]
    [InlineData("localhost:")]
    [InlineData("localhost:http")]
    [InlineData("localhost:65536")]
    [InlineData("localhost:-1")]
    [InlineData("http://localhost:5000")]
    [InlineData("local host:5000")]
    [InlineData("/var/run/registry.sock")]
    public void BadListen_IsAClearError(string listen)
    {
        foreach (var (environment, overrides) in new (Dictionary<string, string>?, ConfigOverrides?)[]
        {
            (null, new ConfigOverrides(Listen: listen)),
            (new() { ["BERTH_LISTEN"] = listen }, null),
            (new() { ["REGISTRY_HTTP_ADDR"] = listen }, null),
        })
        {
            var e = Fails(null, environment, overrides);
            Assert.Contains(listen, e.Message, StringComparison.Ordinal);
            Assert.Contains("HOST:PORT", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("10")]
    [InlineData("5 m")]
    [InlineData("-5s")]
    [InlineData("1h30")]
    [InlineData("1d")]
    [InlineData("s")]
    [InlineData("1.2.3s")]
    [InlineData("99999999999h")]
    [InlineData("9999999999999999999999999s")]
    public void BadDuration_IsAClearError(string value)
    {
        var fromFile = Fails(Write($"berth:\n  shutdowntimeout: \"{value}\"\n"));
        Assert.Contains("berth.shutdowntimeout", fromFile.Message, StringComparison.Ordinal);
        Assert.Contains(value, fromFile.Message, StringComparison.Ordinal);
        var fromEnvironment = Fails(null, new() { ["BERTH_SHUTDOWN_TIMEOUT"] = value });
        Assert.Contains(value, fromEnvironment.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5m", 90_000)]
    [InlineData("250ms", 250)]
    [InlineData("0s", 0)]
    public void Durations_AreGoStyle(string value, long milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), ConfigLoader.ParseDuration(value, "key"));
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("enabled")]
    [InlineData("2")]
    public void BadBool_IsAClearError(string value)
    {
        var e = Fails(Write($"storage:\n  delete:\n    enabled: {value}\n"));
        Assert.Contains("storage.delete.enabled", e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
        var fromEnvironment = Fails(null, new() { ["REGISTRY_STORAGE_DELETE_ENABLED"] = value });
        Assert.Contains("storage.delete.enabled", fromEnvironment.Message, StringComparison.Ordinal);
        Assert.Contains(value, Fails(null, new() { ["BERTH_METRICS_ENABLED"] = value }).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("false", false)]
    [InlineData("FALSE", false)]
    public void Bools_AcceptYamlSpellings(string value, bool expected)
    {
        Assert.Equal(expected, Load(Write($"storage:\n  delete:\n    enabled: {value}\n")).Server.Registry.DeleteEnabled);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("10")]
    [InlineData("99999999999")]
    public void BadManifestLimit_IsAClearError(string value)
    {
        Assert.Contains("berth.maxmanifestbytes", Fails(Write($"berth:\n  maxmanifestbytes: {value}\n")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("loud")]
    [InlineData("verbose")]
    public void BadLogLevel_IsAClearError(string value)
    {
        Assert.Contains(value, Fails(Write($"log:\n  level: {value}\n")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadLogFormat_IsAClearError()
    {
        Assert.Contains("xml", Fails(Write("log:\n  formatter: xml\n")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_NeedsBothFiles_AndTheyMustExist()
    {
        Assert.Contains("both", Fails(Write($"http:\n  tls:\n    certificate: {Touch("only.crt")}\n")).Message, StringComparison.Ordinal);
        var missing = Path.Combine(_dir, "missing.key");
        Assert.Contains(missing, Fails(Write($"http:\n  tls:\n    certificate: {Touch("a.crt")}\n    key: {missing}\n")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsAClearError()
    {
        var path = Path.Combine(_dir, "nope.yml");
        Assert.Contains(path, Fails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidYaml_NamesTheLine()
    {
        var e = Fails(Write("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: [unclosed\nhttp:\n  addr: :5000\n"));
        Assert.Contains("line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadStorage_NamesWhatServeWouldOpen_EvenWhereServingIsRefused()
    {
        var s3 = Write("""
            version: 0.1
            storage:
              s3:
                regionendpoint: http://127.0.0.1:7480
                bucket: registry
                accesskey: AK
                secretkey: SK
                rootdirectory: /gitlab/registry
              maintenance:
                readonly:
                  enabled: true
            auth:
              htpasswd:
                realm: r
                path: /nowhere
            """, "s3.yml");
        Fails(s3); // serve refuses auth it cannot do; the storage is still named
        var storage = ConfigLoader.LoadStorage(s3, NoEnvironment);
        Assert.Equal("s3", storage.Driver);
        Assert.Equal("registry", storage.S3!.Bucket);
        Assert.Equal("/gitlab/registry", storage.RootDirectory);
        Assert.Equal(storage.S3, ConfigLoader.LoadStorage(s3, NoEnvironment).S3);

        // REGISTRY_* variables apply as for serve.
        Assert.Equal("other", ConfigLoader.LoadStorage(s3, new Dictionary<string, string> { ["REGISTRY_STORAGE_S3_BUCKET"] = "other" }).S3!.Bucket);
        Assert.Equal(Path.Combine(_dir, "fs"), ConfigLoader.LoadStorage(Write("storage:\n  filesystem:\n    rootdirectory: x\n", "fs.yml"),
            new Dictionary<string, string> { ["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"] = Path.Combine(_dir, "fs") }).RootDirectory);
    }

    [Fact]
    public void LoadStorage_FilesystemWithoutRoot_IsDistributionsDefault()
    {
        var storage = ConfigLoader.LoadStorage(Write("storage:\n  filesystem: {}\n"), NoEnvironment);
        Assert.Equal(("filesystem", "/var/lib/registry"), (storage.Driver, storage.RootDirectory));
    }

    [Theory]
    [InlineData("version: 0.1\nhttp:\n  addr: :5000\n", "names no storage")]
    [InlineData("", "names no storage")]
    [InlineData("storage:\n  delete:\n    enabled: true\n", "names no storage")]
    [InlineData("storage:\n  inmemory:\n", "storage.inmemory")]
    [InlineData("storage:\n  gcs:\n    bucket: b\n", "storage.gcs")]
    [InlineData("storage:\n  s3:\n    region: us-east-1\n", "storage.s3.bucket is required")]
    [InlineData("storage:\n  s3:\n    bucket: b\n  filesystem:\n    rootdirectory: /x\n", "exactly one driver")]
    public void LoadStorage_NoUsableStorage_SaysWhy(string yaml, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.LoadStorage(Write(yaml), NoEnvironment));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}

public sealed class ConfigLoaderMalformedYamlTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "berth-config-yaml-" + Guid.NewGuid().ToString("N"));

    public ConfigLoaderMalformedYamlTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: [unclosed\n")]
    [InlineData("version: 0.1\nversion: 0.1\n")]
    [InlineData("storage:\n  delete:\n    enabled: true\n  delete:\n    enabled: false\n")]
    [InlineData("? [a, b]\n: 1\n")]
    [InlineData("http:\n  addr: :5000\n    tls: x\n")]
    [InlineData("a: *unknown\n")]
    [InlineData("version: \"0.1\n")]
    public void MalformedYaml_IsAClearError(string yaml)
    {
        var path = Path.Combine(_dir, "config.yml");
        File.WriteAllText(path, yaml);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, new Dictionary<string, string>(), new ConfigOverrides()));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    public void EmptyConfig_MeansDefaults(string yaml)
    {
        var path = Path.Combine(_dir, "config.yml");
        File.WriteAllText(path, yaml);
        var config = ConfigLoader.Load(path, new Dictionary<string, string>(), new ConfigOverrides());
        Assert.Equal("127.0.0.1:5000", config.Server.Listen);
    }

    [Fact]
    public void ConfigThatIsNotAMapping_IsAClearError()
    {
        var path = Path.Combine(_dir, "config.yml");
        File.WriteAllText(path, "- just\n- a list\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, new Dictionary<string, string>(), new ConfigOverrides()));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

}
