using Berth.Api.Routing;

namespace Berth.Api;

/// <summary>What the request is about, filled in once by the dispatcher and read by logging and metrics.</summary>
public interface IRegistryRequestFeature
{
    OciRoute Route { get; set; }

    string? ErrorCode { get; }

    void SetError(string code);
}

internal sealed class RegistryRequestFeature : IRegistryRequestFeature
{
    public OciRoute Route { get; set; }

    public string? ErrorCode { get; private set; }

    public void SetError(string code) => ErrorCode = code;
}
