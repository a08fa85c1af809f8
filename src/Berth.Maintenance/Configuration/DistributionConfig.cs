using YamlDotNet.RepresentationModel;

namespace Berth.Maintenance.Configuration;

/// <summary>Reads the little doctor needs from a CNCF Distribution config.yml: the filesystem storage root.</summary>
public static class DistributionConfig
{
    /// <summary>Distribution's default when storage.filesystem.rootdirectory is not set.</summary>
    public const string DefaultRootDirectory = "/var/lib/registry";

    /// <summary>Returns storage.filesystem.rootdirectory (or Distribution's default when the filesystem driver is
    /// configured without one). Throws <see cref="FormatException"/> when the file is not YAML, or names another driver.</summary>
    public static string ReadFilesystemRoot(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new FormatException($"not valid YAML: {e.Message}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new FormatException("the config is empty or not a mapping");
        }
        if (Child(root, "storage") is not YamlMappingNode storage)
        {
            throw new FormatException("the config has no 'storage' section");
        }
        var filesystem = Child(storage, "filesystem");
        if (filesystem is null)
        {
            var drivers = storage.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value)
                .Where(k => k is not ("delete" or "cache" or "maintenance" or "redirect" or "tag")).ToList();
            throw new FormatException($"storage driver '{string.Join(",", drivers)}' is not supported here; only storage.filesystem can be read from a config (use --data for a local copy)");
        }
        return filesystem is YamlMappingNode fs && Child(fs, "rootdirectory") is YamlScalarNode { Value: { Length: > 0 } dir }
            ? dir
            : DefaultRootDirectory;
    }

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
}
