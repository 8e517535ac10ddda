using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Reports;

/// <summary>
/// Tickets with known lives on the built-in policy (24x7 in Europe/Moscow; targets emergency 12, high 24, medium 48,
/// low 96 business hours), moved through the agent API under a hand-driven clock. The expected figures in the
/// tests are worked out by hand from <see cref="Steps"/>: on a 24x7 calendar business time is real time outside
/// clarification and resolved.
/// </summary>
internal static class SlaReportScenario
{
    public const string Organisation = "ACME-1";

    /// <summary>The clock after the last step: Wednesday 25 November 2026, 01:00 in Moscow.</summary>
    public static readonly DateTimeOffset End = Msk(11, 25, 1);

    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?>
    {
        ["SupportGateway:Organisations:0:AccountNumber"] = Organisation,
        ["SupportGateway:Organisations:0:Name"] = "Acme <Ltd> & Co",
        ["SupportGateway:Organisations:0:Domains:0"] = "acme.ru",
    };

    /// <summary>A step files a ticket (with its priority) when <c>Status</c> is null, else moves it.</summary>
    private sealed record Step(DateTimeOffset At, string Ticket, string? Status, string? Priority = null, string? Domain = null);

    private static readonly Step[] Steps =
    [
        // G: closed before the period (medium, 2 h).
        new(Msk(10, 26, 10), "G", null, "medium"), new(Msk(10, 26, 12), "G", "closed"),
        // A: emergency, 2 h running, 3 h in clarification, 4 h running, resolved: 6 h to resolution and closure, met.
        new(Msk(11, 2, 9), "A", null, "emergency"),
        new(Msk(11, 2, 10), "B", null, "emergency"),
        new(Msk(11, 2, 11), "A", "clarification"), new(Msk(11, 2, 14), "A", "in_progress"), new(Msk(11, 2, 18), "A", "resolved"),
        new(Msk(11, 2, 19), "A", "closed"),
        // B: emergency, 14 h to resolution: breached (12).
        new(Msk(11, 3, 0), "B", "resolved"), new(Msk(11, 3, 2), "B", "closed"),
        // C: high, the organisation's one ticket, 10 h, then 24 h waiting for the customer's confirmation.
        new(Msk(11, 3, 9), "C", null, "high", "acme.ru"), new(Msk(11, 3, 19), "C", "resolved"), new(Msk(11, 4, 19), "C", "closed"),
        // D: high, 20 h, 10 h in clarification, 8 h, closed without a resolution: 28 h, breached (24).
        new(Msk(11, 4, 9), "D", null, "high"), new(Msk(11, 5, 5), "D", "clarification"), new(Msk(11, 5, 15), "D", "in_progress"),
        new(Msk(11, 5, 23), "D", "closed"),
        // E: medium, resolved after 30 h, rejected 5 h later, 10 h more, closed: 30 h to resolution, 40 h to closure, met.
        new(Msk(11, 9, 9), "E", null, "medium"),
        new(Msk(11, 9, 10), "F", null, "low"),
        new(Msk(11, 10, 9), "H", null, "low"),
        new(Msk(11, 10, 15), "E", "resolved"), new(Msk(11, 10, 20), "E", "in_progress"),
        // H: low, resolved after 20 h, reopened for 2 h of waiting, 6 h more, resolved again: 26 h, met.
        new(Msk(11, 11, 5), "H", "resolved"), new(Msk(11, 11, 6), "E", "closed"), new(Msk(11, 11, 7), "H", "in_progress"),
        // F: low, 50 h, met.
        new(Msk(11, 11, 12), "F", "resolved"), new(Msk(11, 11, 13), "F", "closed"),
        new(Msk(11, 11, 13), "H", "resolved"), new(Msk(11, 11, 14), "H", "closed"),
        // K: low, 100 h without a pause, breached (96).
        new(Msk(11, 16, 9), "K", null, "low"),
        // O: still open, never in the report.
        new(Msk(11, 17, 9), "O", null, "medium"), new(Msk(11, 17, 10), "O", "in_progress"),
        new(Msk(11, 20, 13), "K", "closed"),
        // I: medium, 24 h, met; J: high, 12 h, met.
        new(Msk(11, 23, 9), "I", null, "medium"), new(Msk(11, 24, 9), "I", "resolved"), new(Msk(11, 24, 10), "I", "closed"),
        new(Msk(11, 24, 12), "J", null, "high"), new(Msk(11, 25, 0), "J", "resolved"), new(Msk(11, 25, 1), "J", "closed"),
    ];

    public static DateTimeOffset Msk(int month, int day, int hour) => new(2026, month, day, hour, 0, 0, TimeSpan.FromHours(3));

    public static ManualTime NewClock() => new(Steps[0].At);

    public static GatewayFactory NewGateway(ManualTime clock, bool kestrel = false, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        return new GatewayFactory(all, kestrel, time: clock);
    }

    /// <summary>Plays the steps; returns the ticket numbers by the letters above.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> SeedAsync(GatewayFactory gateway, ManualTime clock)
    {
        using var intake = gateway.Intake();
        using var agent = gateway.Agent();
        var numbers = new Dictionary<string, string>();
        foreach (var step in Steps.OrderBy(s => s.At))
        {
            var wait = step.At - clock.GetUtcNow();
            Assert.That(wait, Is.GreaterThanOrEqualTo(TimeSpan.Zero), "the steps are in time order");
            clock.Advance(wait);
            if (step.Status is null)
            {
                numbers[step.Ticket] = await gateway.FileRequestAsync(intake, $"Request {step.Ticket}", $"{step.Ticket.ToLowerInvariant()}@{step.Domain ?? "example.ru"}");
                await PatchAsync(agent, numbers[step.Ticket], new { priority = step.Priority });
            }
            else
            {
                await PatchAsync(agent, numbers[step.Ticket], step.Status == "resolved" ? new { status = step.Status, resolution = "solved" } : (object)new { status = step.Status });
            }
        }
        return numbers;
    }

    private static async Task PatchAsync(HttpClient agent, string number, object body)
    {
        var response = await agent.PatchAsJsonAsync($"/api/v1/tickets/{number}", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }
}
