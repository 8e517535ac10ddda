using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Agents;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Reports;

/// <summary>
/// The SLA report: <c>GET /api/v1/reports/sla</c> (JSON or CSV, agent key), <c>POST /api/v1/reports/sla/link</c> (a
/// signed link valid 24 h), and the page <c>/reports/sla</c> behind a sign-in with the agent key or such a link.
/// </summary>
internal static class ReportEndpoints
{
    /// <summary>The query parameters a page, its sign-in and its links carry along; a token never is one of them.</summary>
    private static readonly string[] Carried = ["from", "to", "organisation", "lang"];

    private static readonly string[] Period = ["from", "to", "organisation"];

    public static IEndpointRouteBuilder MapSlaReports(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/reports/sla").WithTags("Reports").AddEndpointFilter(AgentEndpoints.RequireAgent).RequiresScheme(Http.ApiSecurity.Bearer)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized);
        api.MapGet("", ReportAsync).WithSummary("The SLA report for a period (from, to, organisation), as JSON or format=csv")
            .Reads(ParameterLocation.Query, Period).Produces<SlaReportDto>().ProducesText(StatusCodes.Status200OK, "text/csv");
        api.MapPost("/link", LinkAsync).WithSummary("A signed link to the report page, valid 24 hours").TakesNoBody().Reads(ParameterLocation.Query, Period).Produces<ReportLinkDto>();
        // The page answers a person: its refusals and errors are pages too, not problem details.
        app.MapGet("/reports/sla", PageAsync).WithTags("Reports").WithSummary("The report page, behind a sign-in or a signed link")
            .Reads(ParameterLocation.Query, [.. Carried, "token"])
            .ProducesText(StatusCodes.Status200OK, "text/html").ProducesText(StatusCodes.Status400BadRequest, "text/html")
            .ProducesText(StatusCodes.Status403Forbidden, "text/html");
        app.MapPost("/reports/sla/login", LoginAsync).WithTags("Reports").WithSummary("Signs in to the report page with an agent key")
            .Accepts<ReportLoginForm>("application/x-www-form-urlencoded").Produces(StatusCodes.Status303SeeOther)
            .ProducesText(StatusCodes.Status403Forbidden, "text/html");
        return app;
    }

    private static async Task<IResult> ReportAsync(HttpRequest request, string? format, SlaReport report, Database database, TimeProvider time,
        CancellationToken ct)
    {
        var csv = format?.Trim().ToLowerInvariant() switch
        {
            null or "" or "json" => false,
            "csv" => true,
            _ => (bool?)null,
        };
        if (csv is null)
            return Problems.BadRequest($"Unknown format '{format}'; use json or csv.", "format");
        var (result, field, error) = await RunAsync(request, report, database, time, ct);
        if (result is null)
            return Problems.BadRequest(error!, field);
        return csv.Value
            ? TypedResults.Text(ReportFormats.Csv(result), "text/csv", Encoding.UTF8)
            : TypedResults.Ok(SlaReportDto.Create(result));
    }

    private static async Task<IResult> LinkAsync(HttpContext http, SlaReport report, Database database, TimeProvider time, CancellationToken ct)
    {
        // The period is checked now, so the link does not carry a mistake to whoever opens it.
        var (result, field, error) = await RunAsync(http.Request, report, database, time, ct);
        if (result is null)
            return Problems.BadRequest(error!, field);
        var expires = Now(time) + ReportAccess.LinkLifetime;
        var token = ReportAccess.Issue(AgentEndpoints.CurrentAgent(http), expires);
        var query = CarriedQuery(http.Request.Query, null).Add("token", token);
        var url = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/reports/sla{query}";
        return TypedResults.Ok(new ReportLinkDto(url, CalendarOptions.Format(expires, result.Request.Zone)));
    }

    private static async Task<IResult> PageAsync(HttpContext http, SlaReport report, Database database, AgentDirectory agents, TimeProvider time,
        CancellationToken ct)
    {
        var strings = ReportStrings.For(http.Request);
        // A link's token decides on its own: a valid cookie does not rescue a bad link, so a forged one is always seen as refused.
        var token = http.Request.Query["token"].ToString();
        var presented = token.Length > 0 ? token : http.Request.Cookies[ReportAccess.CookieName];
        if (ReportAccess.Verify(agents, presented, Now(time)) is null)
        {
            var refused = !string.IsNullOrEmpty(presented);
            return Html(http, ReportPage.Login(strings, CarriedQuery(http.Request.Query, null).ToString(), refused ? strings.SessionRefused : null),
                refused ? StatusCodes.Status403Forbidden : StatusCodes.Status200OK);
        }
        var (result, _, error) = await RunAsync(http.Request, report, database, time, ct);
        if (result is null)
            return Html(http, ReportPage.Error(strings, error!), StatusCodes.Status400BadRequest);
        var page = ReportPage.Render(result, strings, lang => "/reports/sla" + CarriedQuery(http.Request.Query, lang)
            .Add(token.Length > 0 ? QueryString.Create("token", token) : QueryString.Empty));
        return Html(http, page, StatusCodes.Status200OK);
    }

    private static async Task<IResult> LoginAsync(HttpContext http, AgentDirectory agents, TimeProvider time, CancellationToken ct)
    {
        var strings = ReportStrings.For(http.Request);
        var query = CarriedQuery(http.Request.Query, null);
        var key = http.Request.HasFormContentType ? (await http.Request.ReadFormAsync(ct))["key"].ToString().Trim() : null;
        if (agents.FindByKey(key) is not { } agent)
            return Html(http, ReportPage.Login(strings, query.ToString(), strings.KeyRefused), StatusCodes.Status403Forbidden);
        http.Response.Cookies.Append(ReportAccess.CookieName, ReportAccess.Issue(agent, Now(time) + ReportAccess.SessionLifetime),
            ReportAccess.Cookie(http.Request));
        // 303, so that a reload of the page that follows does not post the key again (RFC 9110 §15.4.4).
        http.Response.Headers.Location = "/reports/sla" + query;
        return TypedResults.StatusCode(StatusCodes.Status303SeeOther);
    }

    /// <summary>The sign-in form of the report page.</summary>
    internal sealed record ReportLoginForm(string Key);

    private static Task<(SlaReportResult? Result, string? Field, string? Error)> RunAsync(HttpRequest request, SlaReport report, Database database,
        TimeProvider time, CancellationToken ct) =>
        ReportQuery.RunAsync(report, database, request.Query["from"], request.Query["to"], request.Query["organisation"], Now(time), ct);

    private static Instant Now(TimeProvider time) => Instant.FromDateTimeOffset(time.GetUtcNow());

    private static QueryString CarriedQuery(IQueryCollection query, string? lang)
    {
        var pairs = Carried.Where(name => name != "lang" || lang is null)
            .Select(name => new KeyValuePair<string, string?>(name, query[name].ToString()))
            .Where(p => !string.IsNullOrEmpty(p.Value));
        return QueryString.Create(lang is null ? pairs : pairs.Append(new("lang", lang)));
    }

    /// <summary>
    /// The page is private and may carry a token in its address: never cached, never sent on as a referrer, never
    /// framed, and nothing runs but its own inline style.
    /// </summary>
    private static ContentHttpResult Html(HttpContext http, string html, int status)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
