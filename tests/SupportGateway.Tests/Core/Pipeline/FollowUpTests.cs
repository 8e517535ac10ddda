using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Pipeline;

/// <summary>Who may continue a ticket, and what a follow-up does to a closed one.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class FollowUpTests(StorageEngine engine)
{
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));
    private CoreHarness _core = null!;
    private InboundProcessor _processor = null!;
    private TicketService _service = null!;

    [SetUp]
    public async Task SetUp()
    {
        _core = await CoreHarness.StartAsync(engine, services => services.AddSingleton<TimeProvider>(_time), new Dictionary<string, string?>
        {
            ["SupportGateway:Organisations:0:AccountNumber"] = "ACME-001",
            ["SupportGateway:Organisations:0:Domains:0"] = "acme.ru",
        });
        _processor = _core.Get<InboundProcessor>();
        _service = _core.Get<TicketService>();
    }

    [TearDown]
    public async Task TearDown()
    {
        // Null when SetUp failed (no PostgreSQL cluster): its message is the one to read.
        if (_core is not null)
            await _core.DisposeAsync();
        _core = null!;
    }

    [Test]
    public async Task People_in_copy_may_follow_up_and_strangers_get_a_new_ticket()
    {
        var opened = await IngestAsync(Messages.From("ivan@example.ru", "VPN is down", channel: "email") with { CopiedTo = ["olga@example.ru"] });
        var byColleague = await IngestAsync(Messages.From("olga@example.ru", $"Re: [{opened.TicketNumber}] still down", channel: "email", subject: $"Re: [{opened.TicketNumber}] VPN"));
        var byStranger = await IngestAsync(Messages.From("eve@example.com", "me too", channel: "email", subject: $"Re: [{opened.TicketNumber}] VPN"));

        Assert.That((byColleague.Outcome, byColleague.TicketNumber), Is.EqualTo((IngestOutcome.Appended, opened.TicketNumber)));
        Assert.That(byStranger.Outcome, Is.EqualTo(IngestOutcome.Created));
    }

    [Test]
    public async Task Colleagues_from_an_organisation_domain_may_follow_up_on_its_tickets()
    {
        var opened = await IngestAsync(Messages.From("ivan@acme.ru", "1C is slow", channel: "email") with
        {
            Sender = new SenderIdentity { Identity = "ivan@acme.ru", Email = "ivan@acme.ru" },
        });
        var colleague = await IngestAsync(Messages.From("olga@acme.ru", "same here", channel: "email", subject: $"Re: [{opened.TicketNumber}]") with
        {
            Sender = new SenderIdentity { Identity = "olga@acme.ru", Email = "olga@acme.ru" },
        });
        var outsider = await IngestAsync(Messages.From("olga@acme.com", "same here", channel: "email", subject: $"Re: [{opened.TicketNumber}]") with
        {
            Sender = new SenderIdentity { Identity = "olga@acme.com", Email = "olga@acme.com" },
        });

        Assert.That((colleague.Outcome, colleague.TicketNumber), Is.EqualTo((IngestOutcome.Appended, opened.TicketNumber)));
        Assert.That(outsider.Outcome, Is.EqualTo(IngestOutcome.Created));
    }

    [Test]
    public async Task A_follow_up_reopens_a_recently_closed_ticket_and_a_late_one_opens_a_linked_ticket()
    {
        var first = await IngestAsync(Messages.From("ivan@example.ru", "Printer is broken", channel: "email"));
        await CloseAsync(first.TicketNumber!);
        _time.Advance(TimeSpan.FromDays(6));
        var reopened = await IngestAsync(Messages.From("ivan@example.ru", "It broke again", channel: "email", subject: $"[{first.TicketNumber}]"));
        Assert.That((reopened.Outcome, reopened.TicketNumber), Is.EqualTo((IngestOutcome.Appended, first.TicketNumber)));
        Assert.That((await ViewAsync(first.TicketNumber!)).Ticket.Status, Is.EqualTo("in_progress"));

        await CloseAsync(first.TicketNumber!);
        _time.Advance(TimeSpan.FromDays(8));
        var late = await IngestAsync(Messages.From("ivan@example.ru", "And again", channel: "email", subject: $"[{first.TicketNumber}]"));
        Assert.That(late.Outcome, Is.EqualTo(IngestOutcome.Created));
        Assert.That((await ViewAsync(first.TicketNumber!)).Ticket.Status, Is.EqualTo("closed"));
        var linked = await ViewAsync(late.TicketNumber!);
        Assert.That(linked.Audit.Select(a => (a.Action, a.NewValue)), Does.Contain(("linked", first.TicketNumber)));
        Assert.That((await ViewAsync(first.TicketNumber!)).Audit.Select(a => (a.Action, a.NewValue)), Does.Contain(("linked", late.TicketNumber)));
    }

    private Task<IngestResult> IngestAsync(InboundMessage message) => _processor.IngestAsync(message, CancellationToken.None);

    private async Task<TicketView> ViewAsync(string number) => (await _service.GetViewAsync(number, true, CancellationToken.None))!;

    private async Task CloseAsync(string number) =>
        Assert.That((await _service.UpdateAsync(number, "agent:anna", new TicketChanges(Status: TicketStatus.Closed), CancellationToken.None)).Status,
            Is.EqualTo(CommandStatus.Ok));
}
