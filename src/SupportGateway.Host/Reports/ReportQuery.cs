using NodaTime;
using SupportGateway.Core.Sla;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Reports;

/// <summary>The report as the API, the page and the CLI ask for it: parsed, checked, run on a read connection.</summary>
internal static class ReportQuery
{
    public static async Task<(SlaReportResult? Result, string? Field, string? Error)> RunAsync(SlaReport report, Database database,
        string? from, string? to, string? organisation, Instant now, CancellationToken cancellationToken)
    {
        // Weeks and plain dates are read on the default policy's calendar: the one most tickets are measured on.
        var parse = SlaReportRequest.Parse(from, to, organisation, report.Catalog.Default.Calendar.Zone, now);
        if (parse.Request is not { } request)
            return (null, parse.Field, parse.Error);
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        // An unknown account number is a typo more often than an organisation without closed tickets.
        if (request.Organisation is { } account && !await report.OrganisationExistsAsync(db, account, cancellationToken))
            return (null, "organisation", $"No organisation has the account number '{account}'.");
        return (await report.RunAsync(db, request, cancellationToken), null, null);
    }
}
