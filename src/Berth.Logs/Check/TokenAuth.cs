using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Logs.Check;

/// <summary>
/// Anonymous pull tokens for registries that answer 401 with a Bearer challenge (the Docker token
/// protocol: <c>GET realm?service=...&amp;scope=repository:NAME:pull</c> → <c>{"token": ...}</c>).
/// Registries that want credentials keep answering 401, which the canary reports.
/// </summary>
internal static class TokenAuth
{
    public static async Task<AuthenticationHeaderValue?> TryGetAsync(HttpClient client, AuthenticationHeaderValue challenge, string repository, CancellationToken cancellationToken)
    {
        if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase) || challenge.Parameter is null)
        {
            return null;
        }

        var parameters = ParseChallenge(challenge.Parameter);
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            return null;
        }

        var query = new List<string>();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        query.Add("scope=" + Uri.EscapeDataString($"repository:{repository}:pull"));
        var url = realmUri + (realmUri.Query.Length > 0 ? "&" : "?") + string.Join("&", query);
        try
        {
            using var response = await client.GetAsync(url, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            var root = doc.RootElement;
            var token = root.TryGetProperty("token", out var t) ? t.GetString()
                : root.TryGetProperty("access_token", out var a) ? a.GetString() : null;
            return token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Parses <c>realm="https://auth",service="registry",scope="..."</c>.</summary>
    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || parameter[i] == ' '))
            {
                i++;
            }

            var eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = parameter[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameter.Length && parameter[i] == '"')
            {
                var close = parameter.IndexOf('"', i + 1);
                if (close < 0)
                {
                    close = parameter.Length;
                }

                value = parameter[(i + 1)..close];
                i = close + 1;
            }
            else
            {
                var comma = parameter.IndexOf(',', i);
                if (comma < 0)
                {
                    comma = parameter.Length;
                }

                value = parameter[i..comma].Trim();
                i = comma;
            }

            result[key] = value;
        }

        return result;
    }
}
