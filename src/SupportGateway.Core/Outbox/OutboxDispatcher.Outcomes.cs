using Microsoft.Extensions.Logging;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Outbox;

/// <summary>
/// What the dispatcher writes after a send: sent, retried by time, held for the channel, or given up with the agents
/// told. Outcomes of sends already made are never dropped for a storage outage; they wait for it.
/// </summary>
public sealed partial class OutboxDispatcher
{
    /// <summary>
    /// Records outcomes of sends already made. While the storage is unavailable they are kept here and written once a
    /// write succeeds again: a row left in flight would be claimed and sent a second time. Only a stop during the
    /// outage loses them (logged); those rows are sent again at the next start.
    /// </summary>
    private async Task SaveAsync(List<Outcome> outcomes, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await WriteOutcomesAsync(outcomes, CancellationToken.None);
                return;
            }
            catch (Exception ex) when (availability.Observe(ex))
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Stopping while the storage is unavailable: {Count} deliveries made are not recorded and go out again at the next start",
                        outcomes.Count(o => o.Error is null && !o.Deferred));
                    throw;
                }
                logger.LogWarning("{Count} delivery outcomes wait for the storage: {Reason}", outcomes.Count, availability.Outage?.Reason);
                try
                {
                    await availability.WaitAvailableAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                }
            }
        }
    }

    private async Task WriteOutcomesAsync(List<Outcome> outcomes, CancellationToken cancellationToken)
    {
        if (outcomes.Count == 0)
            return;
        await using var session = await database.BeginAsync(cancellationToken);
        var noticed = false;
        foreach (var (row, receipt, error, message, deferred) in outcomes)
        {
            var ticket = message?.Ticket;
            if (deferred)
                await outbox.ReleaseAsync(session, row.Id, cancellationToken);
            else if (error is null)
            {
                await outbox.MarkSentAsync(session, row.Id, receipt?.ExternalId, Now(), cancellationToken);
                if (receipt?.AgentsNote is { } note && ticket is not null)
                {
                    await notice.PostAsync(session, ticket, new AgentNoticeText(row.Channel, note, "delivery_partial", row.Channel, row.Recipient), Now(), cancellationToken);
                    noticed = true;
                }
            }
            else if (error is DeliveryHeldException held)
                noticed |= await HoldAsync(session, row, ticket, held, cancellationToken);
            else
                noticed |= await RetryOrGiveUpAsync(session, row, message, error, cancellationToken);
        }
        // The agents' notices were queued on other channels: the commit wakes their senders.
        await session.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Retried by time, as mail servers do: backoff doubling up to <see cref="OutboxOptions.MaxRetryDelay"/> (never
    /// sooner than a provider's Retry-After), the last try at the deadline, then given up. A refusal fails at once.
    /// </summary>
    /// <returns>True when it was given up (and the agents told).</returns>
    private async Task<bool> RetryOrGiveUpAsync(DbSession session, OutboxRow row, OutboundMessage? message, Exception error, CancellationToken cancellationToken)
    {
        var now = Now();
        var attempts = row.Attempts + 1;
        var reason = FailedDeliveries.Describe(error, _options.SendTimeout);
        var deadline = row.QueuedAt + (long)_options.GiveUpAfter.TotalMilliseconds;
        if (error is PermanentDeliveryException || now >= deadline)
        {
            logger.LogWarning("Delivery {OutboxId} on {Channel} failed (attempt {Attempt}), giving up: {Error}", row.Id, row.Channel, attempts, reason);
            await failed.GiveUpAsync(session, row, message?.Ticket, message?.Message, error, reason, now, cancellationToken);
            return true;
        }
        var next = error is DeliveryThrottledException throttled
            ? now + Math.Max(1000, (long)throttled.RetryAfter.TotalMilliseconds)
            : Math.Min(deadline, now + (long)Backoff(attempts, _options.FirstRetryDelay, _options.MaxRetryDelay).TotalMilliseconds);
        await outbox.MarkRetryAsync(session, row.Id, reason, next, cancellationToken);
        logger.LogWarning("Delivery {OutboxId} on {Channel} failed (attempt {Attempt}): {Error}", row.Id, row.Channel, attempts, reason);
        return false;
    }

    /// <summary>The row waits for the channel to release it; the agents read why on the ticket and in their mail.</summary>
    private async Task<bool> HoldAsync(DbSession session, OutboxRow row, TicketRow? ticket, DeliveryHeldException held, CancellationToken cancellationToken)
    {
        await outbox.HoldAsync(session, row.Id, held.Message, cancellationToken);
        logger.LogInformation("Delivery {OutboxId} on {Channel} is held: {Reason}", row.Id, row.Channel, held.Message);
        if (ticket is null)
            return false;
        await notice.PostAsync(session, ticket, new AgentNoticeText(row.Channel, held.AgentsNote, "window_closed", row.Channel, row.Recipient), Now(),
            cancellationToken);
        return true;
    }
}
