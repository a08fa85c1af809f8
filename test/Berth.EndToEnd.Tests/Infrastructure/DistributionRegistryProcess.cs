using System.Diagnostics;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>CNCF Distribution (/usr/bin/docker-registry serve) with its own config file: filesystem
/// storage at a given root, deletes enabled, 127.0.0.1:PORT, log level warn, and a drain timeout (without one it
/// does not handle SIGTERM and dies of it, exit code 143).</summary>
public sealed class DistributionRegistryProcess : ServerProcess
{
    private DistributionRegistryProcess(ProcessStartInfo start, int port, string dataDirectory, string configPath)
        : base("docker-registry", start, port)
    {
        DataDirectory = dataDirectory;
        ConfigPath = configPath;
    }

    public string DataDirectory { get; }

    public string ConfigPath { get; }

    /// <summary>Starts docker-registry over <paramref name="dataDirectory"/>; its config file goes to <paramref name="configDirectory"/>.</summary>
    public static Task<DistributionRegistryProcess> StartAsync(string dataDirectory, string configDirectory)
    {
        var binary = ExternalTools.DockerRegistry;
        return StartOnFreePortAsync(port =>
        {
            var configPath = Path.Combine(configDirectory, $"docker-registry-{port}.yml");
            File.WriteAllText(configPath, $"""
                version: 0.1
                log:
                  level: warn
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: {dataDirectory}
                  delete:
                    enabled: true
                  maintenance:
                    uploadpurging:
                      enabled: false
                http:
                  addr: 127.0.0.1:{port}
                  secret: berth-end-to-end-tests
                  draintimeout: 5s
                """);
            var start = new ProcessStartInfo(binary);
            start.ArgumentList.Add("serve");
            start.ArgumentList.Add(configPath);
            return new DistributionRegistryProcess(start, port, dataDirectory, configPath);
        }, TimeSpan.FromSeconds(20));
    }
}
