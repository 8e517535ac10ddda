using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Outbox;

/// <summary>A channel whose sender may make several deliveries at once (a mailbox's SMTP connections): one loop each.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class OutboxConcurrencyTests(StorageEngine engine)
{
    [Test]
    public async Task A_sender_of_three_gets_three_deliveries_at_once_and_each_ticket_keeps_its_order()
    {
        var sender = new OverlappingSender(concurrency: 3);
        // Claims of two rows: the backlog below is several claims, and each loop must be woken for the next one.
        await using var core = await CoreHarness.StartAsync(engine, s => s.AddSingleton<IOutboundSender>(sender),
            new Dictionary<string, string?> { ["SupportGateway:Outbox:BatchSize"] = "2" });
        var processor = core.Get<InboundProcessor>();
        var first = (await processor.IngestAsync(Messages.From("ext:loops-0", "Request 0"), CancellationToken.None)).TicketId!.Value;
        for (var i = 1; i < 6; i++)
            await processor.IngestAsync(Messages.From($"ext:loops-{i}", $"Request {i}"), CancellationToken.None);
        var service = core.Get<TicketService>();
        var db = await core.ReadAsync();
        string number;
        await using (db.Connection)
            number = (await core.Get<TicketStore>().GetManyAsync(db, [first], CancellationToken.None)).Single().Number;
        await service.ReplyAsync(number, "anna@support.example", "Anna", "first answer", false, [], CancellationToken.None);
        await service.ReplyAsync(number, "anna@support.example", "Anna", "second answer", false, [], CancellationToken.None);

        var dispatcher = core.Get<OutboxDispatcher>();
        await dispatcher.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (sender.Sent.Count < 8 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        await dispatcher.StopAsync(CancellationToken.None);

        Assert.That(sender.Sent.Select(s => s.Key).Distinct().Count(), Is.EqualTo(8), "six acknowledgements and two answers, each once");
        Assert.That(sender.Sent, Has.Count.EqualTo(8));
        Assert.That(sender.MostAtOnce, Is.EqualTo(3), "as many at once as the sender takes, never more");
        Assert.That(sender.Sent.Where(s => s.Ticket == first).Select(s => s.Text), Is.EqualTo(new[] { "ack", "first answer", "second answer" }),
            "one recipient's messages of a ticket go out in the order written, whichever loop sends them");
    }

    /// <summary>Holds each delivery until as many are in hand as it takes at once (or a while has passed), and counts the overlap.</summary>
    private sealed class OverlappingSender(int concurrency) : IOutboundSender
    {
        private int _inFlight;
        private int _mostAtOnce;
        private TaskCompletionSource _full = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<(string Key, long Ticket, string Text)> Sent { get; } = new();

        public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

        public string Channel => "api";

        public int Concurrency => concurrency;

        public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _inFlight);
            int most;
            while (now > (most = Volatile.Read(ref _mostAtOnce)) && Interlocked.CompareExchange(ref _mostAtOnce, now, most) != most)
            {
            }
            var full = Volatile.Read(ref _full);
            if (now >= concurrency)
                full.TrySetResult();
            // The last rows of the backlog never fill every loop: they go on after a moment.
            await Task.WhenAny(full.Task, Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken));
            if (Interlocked.Decrement(ref _inFlight) == 0)
                Interlocked.CompareExchange(ref _full, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), full);
            Sent.Enqueue((message.IdempotencyKey, message.Ticket.Id,
                message.Message.Text.StartsWith("Thank you!", StringComparison.Ordinal) ? "ack" : message.Message.Text));
            return new DeliveryReceipt(null);
        }
    }
}
