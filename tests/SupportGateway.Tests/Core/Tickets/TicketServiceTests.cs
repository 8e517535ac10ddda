using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Tickets;

[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class TicketServiceTests(StorageEngine engine)
{
    private CoreHarness _core = null!;
    private TicketService _service = null!;
    private string _number = "";

    [SetUp]
    public async Task SetUp()
    {
        _core = await CoreHarness.StartAsync(engine);
        _service = _core.Get<TicketService>();
        _number = (await _core.Get<InboundProcessor>().IngestAsync(Messages.From("ext:1", "VPN is down"), CancellationToken.None)).TicketNumber!;
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
    public async Task First_public_reply_takes_the_ticket_in_progress_and_queues_delivery()
    {
        var result = await _service.ReplyAsync(_number, "anna@support", "Anna", "Restart the router", false, [], CancellationToken.None);

        Assert.That(result.Status, Is.EqualTo(CommandStatus.Ok));
        Assert.That(result.Ticket!.StatusValue, Is.EqualTo(TicketStatus.InProgress));
        Assert.That(await _core.CountAsync("outbox"), Is.EqualTo(2), "the ack and the reply");
        var view = await _service.GetViewAsync(_number, true, CancellationToken.None);
        Assert.That(view!.Audit.Select(a => $"{a.Actor} {a.Action}"),
            Is.SupersetOf(new[] { "agent:anna@support message_added", "agent:anna@support status_changed" }));
    }

    [Test]
    public async Task Internal_note_is_not_delivered_and_not_shown_to_the_customer()
    {
        await _service.ReplyAsync(_number, "anna@support", "Anna", "customer seems confused", true, [], CancellationToken.None);

        Assert.That(await _core.CountAsync("outbox"), Is.EqualTo(1), "only the ack");
        var customerView = await _service.GetViewAsync(_number, includeInternal: false, CancellationToken.None);
        Assert.That(customerView!.Messages.Select(m => m.Text), Has.None.Contains("confused"));
        Assert.That(customerView.Ticket.StatusValue, Is.EqualTo(TicketStatus.New));
    }

    [Test]
    public async Task Resolving_needs_a_resolution_and_records_both_changes()
    {
        var missing = await _service.UpdateAsync(_number, "agent:a", new TicketChanges(Status: TicketStatus.Resolved), CancellationToken.None);
        Assert.That(missing.Status, Is.EqualTo(CommandStatus.Invalid));
        Assert.That(missing.Field, Is.EqualTo("resolution"));

        var ok = await _service.UpdateAsync(_number, "agent:a",
            new TicketChanges(Status: TicketStatus.Resolved, Resolution: TicketResolution.UserError), CancellationToken.None);
        Assert.That(ok.Ticket!.Resolution, Is.EqualTo("user_error"));
        Assert.That(ok.Ticket.ResolvedAt, Is.Not.Null);
        var audit = (await _service.GetViewAsync(_number, true, CancellationToken.None))!.Audit;
        Assert.That(audit.Select(a => (a.Action, a.NewValue)), Is.SupersetOf(new[] { ("status_changed", "resolved"), ("resolution_changed", "user_error") }));
    }

    [Test]
    public async Task Disallowed_transition_is_a_conflict_that_changes_nothing()
    {
        await _service.UpdateAsync(_number, "agent:a", new TicketChanges(Status: TicketStatus.Closed), CancellationToken.None);
        var result = await _service.UpdateAsync(_number, "agent:a",
            new TicketChanges(Status: TicketStatus.Resolved, Resolution: TicketResolution.Solved, Priority: TicketPriority.High), CancellationToken.None);

        Assert.That(result.Status, Is.EqualTo(CommandStatus.Conflict));
        Assert.That(result.Error, Does.Contain("in_progress"));
        var ticket = (await _service.GetViewAsync(_number, true, CancellationToken.None))!.Ticket;
        Assert.That((ticket.Status, ticket.Priority), Is.EqualTo(("closed", "medium")));
    }

    [Test]
    public async Task Reopening_clears_the_resolution()
    {
        await _service.UpdateAsync(_number, "agent:a", new TicketChanges(Status: TicketStatus.Resolved, Resolution: TicketResolution.Solved), CancellationToken.None);
        var reopened = await _service.UpdateAsync(_number, "agent:a", new TicketChanges(Status: TicketStatus.InProgress), CancellationToken.None);
        Assert.That((reopened.Ticket!.Resolution, reopened.Ticket.ResolvedAt), Is.EqualTo(((string?)null, (long?)null)));
    }

    [Test]
    public async Task Priority_type_and_assignee_changes_are_audited_with_old_and_new_values()
    {
        await _service.UpdateAsync(_number, "agent:boss", new TicketChanges(Priority: TicketPriority.Emergency, Type: TicketType.MassIncident,
            Assignee: "anna@support"), CancellationToken.None);
        await _service.UpdateAsync(_number, "agent:boss", new TicketChanges(Assignee: ""), CancellationToken.None);

        var audit = (await _service.GetViewAsync(_number, true, CancellationToken.None))!.Audit;
        Assert.That(audit.Select(a => (a.Action, a.OldValue, a.NewValue)), Is.SupersetOf(new (string, string?, string?)[]
        {
            ("priority_changed", "medium", "emergency"),
            ("type_changed", "incident", "mass_incident"),
            ("assignee_changed", null, "anna@support"),
            ("assignee_changed", "anna@support", null),
        }));
    }

    [Test]
    public async Task Unknown_number_is_not_found() =>
        Assert.That((await _service.ReplyAsync("SG-99999", "a@b", "A", "hi", false, [], CancellationToken.None)).Status, Is.EqualTo(CommandStatus.NotFound));
}
