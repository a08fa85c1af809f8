using System.Collections;

namespace Berth.Telemetry;

/// <summary>A log state made of named fields (names may contain dots, like "http.request.method"),
/// which the JSON formatter writes as top-level properties.</summary>
public sealed class LogFields(string message) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly List<KeyValuePair<string, object?>> _fields = [];

    public string Message { get; } = message;

    public void Add(string name, object? value) => _fields.Add(new(name, value));

    public KeyValuePair<string, object?> this[int index] => index < _fields.Count ? _fields[index] : new("{OriginalFormat}", Message);

    public int Count => _fields.Count + 1;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Message;
}
