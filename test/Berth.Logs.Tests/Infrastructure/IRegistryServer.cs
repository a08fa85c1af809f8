namespace Berth.Logs.Tests.Infrastructure;

/// <summary>
/// A registry the tests run on 127.0.0.1: Distribution's docker-registry today; a
/// <c>BerthServer : IRegistryServer</c> (starting <c>berth serve</c> with a config pointing at a temp
/// dir, logging JSON to a file) plugs in beside it once <c>berth serve</c> exists, and every test written
/// against this interface runs against both.
/// </summary>
internal interface IRegistryServer : IDisposable
{
    /// <summary>Human name for messages ("docker-registry", "berth").</summary>
    string Name { get; }

    /// <summary><c>http://127.0.0.1:PORT</c>.</summary>
    Uri BaseUri { get; }

    int Port { get; }

    /// <summary>The file the server writes its logs to (JSON lines, maybe mixed with access lines).</summary>
    string LogPath { get; }

    /// <summary>The storage root in Distribution's layout (<c>docker/registry/v2/...</c> below it).</summary>
    string StorageRoot { get; }
}
