namespace Berth.Testing;

/// <summary>Thrown by <see cref="FaultInjectingStorageDriver"/> where a real process would have died.</summary>
public sealed class SimulatedCrashException(string message) : IOException(message);
