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
public sealed class OutboxDispatcher(
    Database database,
    OutboxStore outbox,
    TicketStore tickets,
    MessageStore messages,
    IEnumerable<IOutboundSender> senders,
    OutboxSignal signal,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private readonly OutboxOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await ReleaseAbandonedAsync(stoppingToken);
        await Task.WhenAll(senders.Select(sender => Task.Run(() => RunChannelAsync(sender, stoppingToken), stoppingToken)));
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
                if (delivered == 0)
                    await signal.WaitAsync(sender.Channel, _options.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
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

    /// <summary>Claims and delivers one batch; returns how many rows it handled.</summary>
    public async Task<int> DispatchDueAsync(IOutboundSender sender, ResiliencePipeline pipeline, CancellationToken cancellationToken)
    {
        IReadOnlyList<OutboxRow> batch;
        await using (var session = await database.BeginAsync(cancellationToken))
        {
            batch = await outbox.ClaimAsync(session, sender.Channel, Now(), (long)_options.Lease.TotalMilliseconds, 20, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        foreach (var row in batch)
            await DeliverAsync(sender, pipeline, row, cancellationToken);
        return batch.Count;
    }

    private async Task DeliverAsync(IOutboundSender sender, ResiliencePipeline pipeline, OutboxRow row, CancellationToken cancellationToken)
    {
        DeliveryReceipt? receipt = null;
        Exception? error = null;
        try
        {
            var message = await LoadAsync(row, cancellationToken);
            receipt = await pipeline.ExecuteAsync(async ct => await sender.SendAsync(message, ct), cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            error = ex;
        }

        await using var session = await database.BeginAsync(cancellationToken);
        if (error is null)
        {
            await outbox.MarkSentAsync(session, row.Id, receipt?.ExternalId, Now(), cancellationToken);
        }
        else
        {
            var attempts = row.Attempts + 1;
            var giveUp = error is PermanentDeliveryException || attempts >= _options.MaxAttempts;
            var next = Now() + (long)Backoff(attempts, _options.FirstRetryDelay, _options.MaxRetryDelay).TotalMilliseconds;
            await outbox.MarkRetryAsync(session, row.Id, $"{error.GetType().Name}: {error.Message}", next, giveUp, cancellationToken);
            logger.LogWarning("Delivery {OutboxId} on {Channel} failed (attempt {Attempt}{Final}): {Error}",
                row.Id, row.Channel, attempts, giveUp ? ", giving up" : "", error.Message);
        }
        await session.CommitAsync(cancellationToken);
    }

    private async Task<OutboundMessage> LoadAsync(OutboxRow row, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var db = new SqlScope(connection);
        var ticket = await tickets.GetAsync(db, row.TicketId, cancellationToken) ?? throw new PermanentDeliveryException("The ticket is gone.");
        var message = await messages.GetAsync(db, row.MessageId, cancellationToken) ?? throw new PermanentDeliveryException("The message is gone.");
        var attachments = await messages.AttachmentsOfMessageAsync(db, row.MessageId, cancellationToken);
        var lastInbound = await messages.LastInboundAsync(db, row.TicketId, cancellationToken);
        return new OutboundMessage(row.Id, $"sg-outbox-{row.Id}", ticket, message, row.Recipient, row.Account, attachments, lastInbound);
    }

    internal ResiliencePipeline BuildPipeline(string channel) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not PermanentDeliveryException and not OperationCanceledException),
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
