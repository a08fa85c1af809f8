using System.Diagnostics;
using Berth.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Middleware;

/// <summary>One structured log line and one metrics observation per request.</summary>
public sealed class RequestLoggingMiddleware(RequestDelegate next, ServerOptions options, ILogger<RequestLoggingMiddleware> logger)
{
    private static readonly EventId RequestEvent = new(1001, "Request");

    public async Task InvokeAsync(HttpContext context)
    {
        var feature = new RegistryRequestFeature();
        context.Features.Set<IRegistryRequestFeature>(feature);
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(start);
            var status = context.Response.StatusCode;
            var route = feature.Route.Template;
            if (feature.Route.Kind == Routing.OciRouteKind.None)
            {
                route = context.Request.Path.StartsWithSegments("/v2") ? "other" : context.Request.Path.Value switch
                {
                    "/metrics" or "/healthz" or "/readyz" or "/" => context.Request.Path.Value,
                    _ => "other",
                };
            }
            RegistryMetrics.ObserveRequest(context.Request.Method, route, status, elapsed.TotalSeconds);
            var level = status >= 500 ? LogLevel.Error : route is "/metrics" or "/healthz" or "/readyz" ? LogLevel.Debug : LogLevel.Information;
            if (options.AccessLogEnabled && logger.IsEnabled(level))
            {
                var fields = new LogFields("request")
                {
                    { "http.request.id", context.TraceIdentifier },
                    { "http.request.method", context.Request.Method },
                    { "http.request.uri", context.Request.Path.Value + context.Request.QueryString.Value },
                    { "http.request.route", route },
                    { "http.request.remoteaddr", context.Connection.RemoteIpAddress?.ToString() },
                    { "http.request.useragent", context.Request.Headers.UserAgent.ToString() },
                    { "http.request.contentlength", context.Request.ContentLength },
                    { "http.response.status", status },
                    { "http.response.contentlength", context.Response.ContentLength },
                    { "http.response.duration_ms", Math.Round(elapsed.TotalMilliseconds, 3) },
                };
                if (feature.Route.Name.Length > 0)
                {
                    fields.Add("repository", feature.Route.Name);
                }
                if (feature.Route.Reference.Length > 0)
                {
                    fields.Add("reference", feature.Route.Reference);
                }
                if (feature.ErrorCode is { } code)
                {
                    fields.Add("err.code", code);
                }
                logger.Log(level, RequestEvent, fields, null, static (f, _) => f.Message);
            }
        }
    }
}
