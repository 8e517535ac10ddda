using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Outbox;

/// <summary>
/// One delivery loop per registered channel sender. Polly retries a short blip inside one attempt;
/// anything longer is rescheduled in the database with exponential backoff, so retries survive restarts.
/// </summary>
public sealed partial class OutboxDispatcher(
    Database database,
    OutboxStore outbox,
    TicketStore tickets,
    MessageStore messages,
    AgentNotice notice,
    FailedDeliveries failed,
    IEnumerable<IOutboundSender> senders,
    OutboxSignal signal,
    StorageAvailability availability,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private readonly OutboxOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await ReleaseAbandonedAsync(stoppingToken);
        await Task.WhenAll(senders.SelectMany(sender => Enumerable.Range(0, Math.Max(1, sender.Concurrency))
            .Select(_ => Task.Run(() => RunChannelAsync(sender, stoppingToken), stoppingToken))));
    }

    /// <summary>
    /// An embedded database has exactly one dispatcher, so rows in flight at start were left by a
    /// crash and are retried now (their send may have happened: channels dedupe by idempotency key
    /// where they can). A shared database relies on the lease instead.
    /// </summary>
    private async Task ReleaseAbandonedAsync(CancellationToken cancellationToken)
    {
        if (!database.Dialect.SingleWriter)
            return;
        await using var session = await database.BeginAsync(cancellationToken);
        var released = await outbox.ReleaseInFlightAsync(session, cancellationToken);
        await session.CommitAsync(cancellationToken);
        if (released > 0)
            logger.LogWarning("{Count} deliveries were in flight when the gateway last stopped; sending them again", released);
    }

    private async Task RunChannelAsync(IOutboundSender sender, CancellationToken stoppingToken)
    {
        var pipeline = BuildPipeline(sender.Channel);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var delivered = await DispatchDueAsync(sender, pipeline, stoppingToken);
                failures = 0;
                if (delivered < _options.BatchSize)
                {
                    await signal.WaitAsync(sender.Channel, _options.PollInterval, time, stoppingToken);
                    await Task.Delay(_options.Linger, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (availability.Observe(ex))
            {
                // Nothing can be claimed or recorded: the loop goes on once the storage probe's write succeeds.
                logger.LogWarning("Outbox loop for {Channel} waits for the storage: {Reason}", sender.Channel, availability.Outage?.Reason);
                await availability.WaitAvailableAsync(stoppingToken);
                failures = 0;
            }
            catch (Exception ex)
            {
                // The loop never dies: a broken database or sender backs off and tries again.
                failures++;
                logger.LogError(ex, "Outbox loop for {Channel} failed ({Failures} in a row)", sender.Channel, failures);
                await Task.Delay(Backoff(failures, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)), time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Claims and delivers one batch; returns how many rows it handled. Told to stop, it finishes the send in hand
    /// (within <see cref="OutboxOptions.SendTimeout"/>), records what was sent, and hands the rest of its claim back as
    /// pending at once, for another instance, instead of leaving it to the lease.
    /// </summary>
    public async Task<int> DispatchDueAsync(IOutboundSender sender, ResiliencePipeline pipeline, CancellationToken cancellationToken)
    {
        IReadOnlyList<OutboxRow> batch;
        await using (var session = await database.BeginAsync(cancellationToken))
        {
            batch = await outbox.ClaimAsync(session, sender.Channel, Now(), (long)_options.Lease.TotalMilliseconds, _options.BatchSize, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        if (batch.Count == 0)
            return 0;
        // More may be due than one claim takes: another loop of the channel, if it has one, claims the next batch meanwhile.
        if (batch.Count == _options.BatchSize && sender.Concurrency > 1)
            signal.Wake(sender.Channel);

        // Told to stop: the send in hand may finish (up to SendTimeout); the rest of the claim is handed back.
        using var grace = new CancellationTokenSource();
        using var stopping = cancellationToken.Register(() => grace.CancelAfter(_options.SendTimeout));
        var outcomes = new List<Outcome>(batch.Count);
        var (handled, handedBack) = (0, false);
        try
        {
            var loaded = await LoadAsync(batch, cancellationToken);
            // Recipients of a ticket whose earlier message in this batch will be retried: their later ones wait behind it.
            var waiting = new HashSet<(long Ticket, string Recipient)>();
            var firstUnsaved = 0L;
            foreach (var (row, message, loadError) in loaded)
            {
                if (cancellationToken.IsCancellationRequested)
                    break;
                // An earlier message to this recipient is saved first: its channel id is what this one threads under
                // (e-mail's In-Reply-To), as when they went out minutes apart.
                if (outcomes.Any(o => o.Row.TicketId == row.TicketId && o.Row.Recipient == row.Recipient))
                {
                    await SaveAsync(outcomes, cancellationToken);
                    outcomes.Clear();
                }
                var outcome = waiting.Contains((row.TicketId, row.Recipient)) ? new Outcome(row, null, null, Deferred: true)
                    : loadError is null ? await SendAsync(sender, pipeline, row, message!, grace.Token)
                    : new Outcome(row, null, loadError);
                if (outcome.Error is not (null or PermanentDeliveryException or DeliveryHeldException))
                    waiting.Add((row.TicketId, row.Recipient));
                outcomes.Add(outcome);
                handled++;
                if (outcomes.Count == 1)
                    firstUnsaved = time.GetTimestamp();
                // Outcomes are saved at most ReceiptDelay after the send: slow external sends are marked
                // one by one (a crash repeats at most the one in flight), instant ones share a commit.
                if (time.GetElapsedTime(firstUnsaved) >= ReceiptDelay)
                {
                    await SaveAsync(outcomes, cancellationToken);
                    outcomes.Clear();
                }
            }
            await SaveAsync(outcomes, cancellationToken);
            outcomes.Clear();
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && availability.Observe(ex))
        {
            // The claim committed, then the storage went (what the rows deliver could not be read): left claimed, they
            // would wait out their lease (2 minutes by default) after the storage is back. They are handed back as
            // soon as it takes writes again, and this loop claims them at once.
            await HandBackWhenAvailableAsync([.. batch.Skip(handled)], outcomes, cancellationToken);
            handedBack = true;
            signal.Wake(sender.Channel);
        }
        finally
        {
            if (handled < batch.Count && cancellationToken.IsCancellationRequested && !handedBack)
                await HandBackAsync(batch.Skip(handled), outcomes, cancellationToken);
        }
        return batch.Count;
    }

    /// <summary>Waits for the storage and hands <paramref name="unsent"/> back, again if it goes away in between.</summary>
    private async Task HandBackWhenAvailableAsync(IReadOnlyList<OutboxRow> unsent, List<Outcome> outcomes, CancellationToken stoppingToken)
    {
        logger.LogWarning("{Count} claimed deliveries wait for the storage to be handed back: {Reason}", unsent.Count, availability.Outage?.Reason);
        while (true)
        {
            await availability.WaitAvailableAsync(stoppingToken);
            try
            {
                await HandBackAsync(unsent, outcomes, stoppingToken);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && availability.Observe(ex))
            {
                // Gone again before the write: the next recovery hands them back.
            }
        }
    }

    /// <summary>Records the outcomes not yet saved and makes the rows never sent pending again.</summary>
    private async Task HandBackAsync(IEnumerable<OutboxRow> unsent, List<Outcome> outcomes, CancellationToken stoppingToken)
    {
        var ids = unsent.Select(r => r.Id).ToList();
        await SaveAsync(outcomes, stoppingToken);
        outcomes.Clear();
        await using var session = await database.BeginAsync(CancellationToken.None);
        var released = await outbox.HandBackAsync(session, ids, CancellationToken.None);
        await session.CommitAsync(CancellationToken.None);
        if (released > 0)
            logger.LogInformation("Handed {Count} claimed deliveries back as pending", released);
    }

    private static readonly TimeSpan ReceiptDelay = TimeSpan.FromMilliseconds(50);

    private sealed record Outcome(OutboxRow Row, DeliveryReceipt? Receipt, Exception? Error, OutboundMessage? Message = null, bool Deferred = false);

    private async Task<Outcome> SendAsync(IOutboundSender sender, ResiliencePipeline pipeline, OutboxRow row, OutboundMessage message,
        CancellationToken cancellationToken)
    {
        try
        {
            return new Outcome(row, await pipeline.ExecuteAsync(async ct => await sender.SendAsync(message, ct), cancellationToken), null, message);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The send needed the storage (a file to attach, the signal to the other instances) and it went away: not the
            // recipient's failure, so no attempt is counted and no backoff waits; the row is due again when it is back.
            return new Outcome(row, null, ex, message, Deferred: availability.Observe(ex));
        }
    }

    /// <summary>Reads what the claimed rows deliver: four queries for the whole batch.</summary>
    private async Task<List<(OutboxRow Row, OutboundMessage? Message, Exception? Error)>> LoadAsync(IReadOnlyList<OutboxRow> rows,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        var ticketIds = rows.Select(r => r.TicketId).Distinct().ToList();
        var messageIds = rows.Select(r => r.MessageId).ToList();
        var ticketsById = (await tickets.GetManyAsync(db, ticketIds, cancellationToken)).ToDictionary(t => t.Id);
        var messagesById = (await messages.GetManyAsync(db, messageIds, cancellationToken)).ToDictionary(m => m.Id);
        var lastInbound = (await messages.LastInboundOfAsync(db, ticketIds, cancellationToken)).ToDictionary(m => m.TicketId);
        var attachments = (await messages.AttachmentsOfMessagesAsync(db, messageIds, cancellationToken)).ToLookup(a => a.MessageId);

        var result = new List<(OutboxRow, OutboundMessage?, Exception?)>(rows.Count);
        foreach (var row in rows)
        {
            if (!ticketsById.TryGetValue(row.TicketId, out var ticket) || !messagesById.TryGetValue(row.MessageId, out var message))
            {
                result.Add((row, null, new PermanentDeliveryException("the ticket or message is gone")));
                continue;
            }
            // Stable across attempts of one row, and unlike any row of another database (a reinstall restarts the ids).
            result.Add((row, new OutboundMessage(row.Id, $"sg-outbox-{row.Id}.{row.CreatedAt:x}", ticket, message, row.Recipient, row.Account,
                [.. attachments[row.MessageId]], lastInbound.GetValueOrDefault(row.TicketId), row.Payload), null));
        }
        return result;
    }

    internal ResiliencePipeline BuildPipeline(string channel) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            // A throttled send waits for the provider's Retry-After in the outbox, not here.
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ex =>
                ex is not (PermanentDeliveryException or DeliveryHeldException or DeliveryThrottledException or OperationCanceledException)),
            OnRetry = args =>
            {
                logger.LogDebug("Retrying a {Channel} delivery after {Error}", channel, args.Outcome.Exception?.Message);
                return default;
            },
        })
        .AddTimeout(new TimeoutStrategyOptions { Timeout = _options.SendTimeout })
        .Build();

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Exponential backoff with ±20% jitter, capped.</summary>
    internal static TimeSpan Backoff(int attempt, TimeSpan first, TimeSpan max)
    {
        var exponential = first.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var jitter = 0.8 + Random.Shared.NextDouble() * 0.4;
        return TimeSpan.FromMilliseconds(Math.Min(max.TotalMilliseconds, exponential * jitter));
    }
}
