using System.Globalization;
using System.Text.Json;
using NodaTime;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Sla;

/// <summary>
/// Tells the agents (the team address and the assignee, through the agent notifiers) that a ticket reached a
/// warning threshold or breached its target: an internal note on the ticket, mailed in the ticket's thread.
/// </summary>
public sealed class SlaEscalation(TicketStore tickets, MessageStore messages, OutboxStore outbox, IEnumerable<IAgentNotifier> notifiers)
{
    /// <summary>The subject line an agent notification uses for a system message instead of its default.</summary>
    public const string SubjectKey = "sg.subject";

    private readonly IAgentNotifier[] _notifiers = [.. notifiers];

    public async Task NotifyAsync(DbSession session, TicketRow ticket, SlaSnapshot snapshot, SlaEvent due, long now, CancellationToken cancellationToken)
    {
        var (subject, text) = Compose(ticket, snapshot, due, Instant.FromUnixTimeMilliseconds(now));
        var id = await messages.InsertAsync(session, new MessageRow
        {
            TicketId = ticket.Id, Direction = "out", AuthorKind = "system", Author = "system", Channel = ticket.Channel, Text = text,
            Internal = true, CreatedAt = now,
            TechnicalDetails = JsonSerializer.Serialize(new Dictionary<string, string> { [SubjectKey] = subject, ["sg.sla"] = due.Name }),
        }, cancellationToken);
        await tickets.AuditAsync(session, new AuditRow
        {
            TicketId = ticket.Id, At = now, Actor = "system", Action = due.Kind == SlaEventKind.Breach ? "sla_breached" : "sla_warning",
            NewValue = due.Kind == SlaEventKind.Breach ? CalendarOptions.Format(due.At, snapshot.Policy.Calendar.Zone) : Percent(due.Share),
        }, cancellationToken);
        foreach (var notifier in _notifiers)
        {
            foreach (var recipient in notifier.Recipients(ticket))
                await outbox.EnqueueAsync(session, id, ticket.Id, notifier.Channel, ticket.Account, recipient, now, cancellationToken);
        }
    }

    internal static (string Subject, string Text) Compose(TicketRow ticket, SlaSnapshot snapshot, SlaEvent due, Instant now)
    {
        var zone = snapshot.Policy.Calendar.Zone;
        var target = Hours(snapshot.Target);
        var dueAt = snapshot.Reading.DueAt is { } d ? CalendarOptions.Format(d, zone) : "—";
        if (due.Kind == SlaEventKind.Breach)
        {
            return ($"SLA breached / срок SLA истёк: {ticket.Subject}",
                $"SLA breached: the resolution target of {target} business hours ({ticket.Priority}, policy {snapshot.Policy.Name}) was used up at {CalendarOptions.Format(due.At, zone)}.\r\n" +
                $"Срок SLA истёк: {target} рабочих ч на решение (приоритет {ticket.Priority}, уровень {snapshot.Policy.Name}) исчерпаны в {CalendarOptions.Format(due.At, zone)}.\r\n");
        }
        var left = Left(snapshot.Reading.Target - snapshot.Reading.BusinessElapsed);
        return ($"SLA {Percent(due.Share)} / {Percent(due.Share)} срока SLA: {ticket.Subject}",
            $"SLA warning: {Percent(due.Share)} of the resolution target of {target} business hours ({ticket.Priority}, policy {snapshot.Policy.Name}) is used. Due {dueAt}; {left} of business time left.\r\n" +
            $"Предупреждение SLA: использовано {Percent(due.Share)} срока решения ({target} рабочих ч, приоритет {ticket.Priority}, уровень {snapshot.Policy.Name}). Срок {dueAt}; осталось {left} рабочего времени.\r\n");
    }

    /// <summary>"12 h 30 min".</summary>
    public static string Left(Duration left) => left <= Duration.Zero ? "0 min"
        : string.Create(CultureInfo.InvariantCulture, $"{(long)left.TotalHours} h {left.Minutes} min");

    private static string Hours(Duration target) => target.TotalHours.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";
}
