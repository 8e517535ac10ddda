using System.Globalization;
using System.Text.Json;
using SupportGateway.Core;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Agents;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>
/// Live push across instances on one database: the instance that delivers a web chat message pushes it to its own
/// streams and signals the others with the outbox row's id and the visitor (<see cref="InstanceSignals"/>); an
/// instance with a stream of that visitor reads the message from the database and pushes it, so a message of any size
/// arrives and a NOTIFY stays small. When its listener comes back after a break, an instance pushes to its open
/// streams what was delivered meanwhile. Each instance pushes one outbox row once. On SQLite nothing is signalled.
/// </summary>
internal sealed class WebChatRelay
{
    public const string Topic = "webchat";

    /// <summary>How far back, before the listener was last known to be listening, a resumed listener looks: the instances' clocks differ a little.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromSeconds(10);

    private const int Remembered = 4096;

    private readonly WebChatHub _hub;
    private readonly InstanceSignals _signals;
    private readonly Database _database;
    private readonly OutboxStore _outbox;
    private readonly TicketStore _tickets;
    private readonly MessageStore _messages;
    private readonly ILogger<WebChatRelay> _logger;
    private readonly HashSet<long> _pushed = [];
    private readonly Queue<long> _pushedOrder = new();

    public WebChatRelay(WebChatHub hub, InstanceSignals signals, Database database, OutboxStore outbox, TicketStore tickets, MessageStore messages,
        ILogger<WebChatRelay> logger)
    {
        (_hub, _signals, _database, _outbox, _tickets, _messages, _logger) = (hub, signals, database, outbox, tickets, messages, logger);
        signals.On(Topic, HeardAsync);
        signals.OnResumed(CatchUpAsync);
    }

    /// <summary>
    /// A stream of the visitor's events. Streams subscribe here rather than on the hub, so that an instance hears the
    /// others from its first open stream on, whether or not it delivers anything itself.
    /// </summary>
    public WebChatHub.Subscription Subscribe(string visitor) => _hub.Subscribe(visitor);

    /// <summary>Pushes a delivered message to this instance's streams and tells the other instances.</summary>
    public async Task DeliverAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        Push(message.OutboxId, message.Recipient, Event(message.Ticket, message.Message, message.Attachments));
        await _signals.SendAsync(Topic, $"{message.OutboxId.ToString(CultureInfo.InvariantCulture)} {message.Recipient}", cancellationToken);
    }

    private async Task HeardAsync(string detail, CancellationToken cancellationToken)
    {
        var parts = detail.Split(' ', 2);
        if (parts.Length != 2 || !long.TryParse(parts[0], CultureInfo.InvariantCulture, out var outboxId))
            return;
        if (!_hub.HasStreams(parts[1]) || WasPushed(outboxId))
            return;
        await using var connection = await _database.OpenAsync(cancellationToken);
        await PushRowsAsync(new SqlScope(connection), await _outbox.GetManyAsync(new SqlScope(connection), [outboxId], cancellationToken), cancellationToken);
    }

    /// <summary>After a break of the listener: what reached web chat since it was last listening, for the visitors with a stream here.</summary>
    private async Task CatchUpAsync(long lastListening, CancellationToken cancellationToken)
    {
        var visitors = _hub.Visitors();
        if (visitors.Count == 0)
            return;
        await using var connection = await _database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        var rows = await _outbox.DeliveredSinceAsync(db, WebChatNormalizer.Channel, lastListening - (long)ClockSlack.TotalMilliseconds, cancellationToken);
        var missed = rows.Where(r => visitors.Contains(r.Recipient) && !WasPushed(r.Id)).ToList();
        if (missed.Count > 0)
            _logger.LogInformation("Pushing {Count} web chat messages delivered while the signal listener was away", missed.Count);
        await PushRowsAsync(db, missed, cancellationToken);
    }

    private async Task PushRowsAsync(SqlScope db, IReadOnlyList<OutboxRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
            return;
        var ticketIds = rows.Select(r => r.TicketId).Distinct().ToList();
        var messageIds = rows.Select(r => r.MessageId).Distinct().ToList();
        var tickets = (await _tickets.GetManyAsync(db, ticketIds, cancellationToken)).ToDictionary(t => t.Id);
        var messages = (await _messages.GetManyAsync(db, messageIds, cancellationToken)).ToDictionary(m => m.Id);
        var attachments = await _messages.AttachmentsOfMessagesAsync(db, messageIds, cancellationToken);
        foreach (var row in rows.OrderBy(r => r.Id))
        {
            if (tickets.TryGetValue(row.TicketId, out var ticket) && messages.TryGetValue(row.MessageId, out var message))
                Push(row.Id, row.Recipient, Event(ticket, message, attachments));
        }
    }

    private static string Event(TicketRow ticket, MessageRow message, IEnumerable<AttachmentRow> attachments) =>
        JsonSerializer.Serialize(new WebChatEvent(ticket.Number, ticket.Status, MessageDto.From(message, attachments, WebChatEndpoints.Download)), CoreJson.Options);

    private void Push(long outboxId, string visitor, string json)
    {
        if (!_signals.Shared)
        {
            _hub.Publish(visitor, json);
            return;
        }
        lock (_pushed)
        {
            if (!_pushed.Add(outboxId))
                return;
            _pushedOrder.Enqueue(outboxId);
            if (_pushedOrder.Count > Remembered)
                _pushed.Remove(_pushedOrder.Dequeue());
        }
        _hub.Publish(visitor, json);
    }

    private bool WasPushed(long outboxId)
    {
        lock (_pushed)
            return _pushed.Contains(outboxId);
    }
}
