using System.Net;
using System.Net.Sockets;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>Hands out loopback ports the kernel reports free, never the same one twice in this process
/// (test classes run in parallel and each needs its own).</summary>
public static class FreePort
{
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port) || attempt > 1000)
                {
                    return port;
                }
            }
        }
    }
}
