using System.Text.Json.Serialization;

namespace Berth.Api.Endpoints;

public sealed record CatalogBody([property: JsonPropertyName("repositories")] IReadOnlyList<string> Repositories);

public sealed record TagsBody([property: JsonPropertyName("name")] string Name, [property: JsonPropertyName("tags")] IReadOnlyList<string> Tags);

[JsonSerializable(typeof(CatalogBody))]
[JsonSerializable(typeof(TagsBody))]
internal sealed partial class ApiJson : JsonSerializerContext;
