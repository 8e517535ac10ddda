using Microsoft.Extensions.Logging;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline;

/// <summary>
/// Stores a raw payload and processes it in the same transaction. Processing runs behind a
/// savepoint: when it fails, only its work is rolled back and the payload is committed as a dead
/// letter. So a payload is either fully processed or parked, and the commit is the moment of acceptance.
/// </summary>
public sealed class InboundProcessor(
    Database database,
    InboundStore inbound,
    TicketStore tickets,
    IEnumerable<IInboundNormalizer> normalizers,
    IEnumerable<IInboundFilter> filters,
    TicketWriter writer,
    OutboxSignal outboxSignal,
    TimeProvider time,
    ILogger<InboundProcessor> logger)
{
    private readonly Dictionary<string, IInboundNormalizer> _normalizers = normalizers.ToDictionary(n => n.Format, StringComparer.Ordinal);
    private readonly IInboundFilter[] _filters = [.. filters.OrderBy(f => f.Order)];

    public Task<IngestResult> IngestAsync(InboundMessage message, CancellationToken cancellationToken) =>
        IngestAsync(InboundJsonNormalizer.ToRaw(message), cancellationToken);

    public async Task<IngestResult> IngestAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        IngestResult result;
        await using (var session = await database.BeginAsync(cancellationToken))
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (await inbound.TryInsertAsync(session, raw, now, cancellationToken) is not { } id)
                return await DuplicateAsync(session, raw, cancellationToken);
            result = await ProcessAsync(session, id, raw, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        AfterCommit(result);
        return result;
    }

    /// <summary>Processes a parked (or pending) payload again.</summary>
    public async Task<IngestResult?> ReplayAsync(long inboundId, CancellationToken cancellationToken)
    {
        IngestResult result;
        await using (var session = await database.BeginAsync(cancellationToken))
        {
            var row = await inbound.GetAsync(session, inboundId, cancellationToken);
            if (row is null || row.State == InboundStore.Processed || await inbound.PayloadAsync(session, inboundId, cancellationToken) is not { } raw)
                return null;
            result = await ProcessAsync(session, inboundId, raw, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        AfterCommit(result);
        return result;
    }

    private async Task<IngestResult> ProcessAsync(DbSession session, long id, RawInbound raw, CancellationToken cancellationToken)
    {
        const string savepoint = "ingest";
        await session.Transaction.SaveAsync(savepoint, cancellationToken);
        try
        {
            var result = await RunPipelineAsync(session, id, raw, cancellationToken);
            await session.Transaction.ReleaseAsync(savepoint, cancellationToken);
            return result;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            await session.Transaction.RollbackAsync(savepoint, cancellationToken);
            var error = $"{ex.GetType().Name}: {ex.Message}";
            await inbound.MarkDeadAsync(session, id, error, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
            logger.LogError(ex, "Inbound {InboundId} from {Channel} parked as a dead letter", id, raw.Channel);
            return new IngestResult(IngestOutcome.Parked, id, Error: error);
        }
    }

    private async Task<IngestResult> RunPipelineAsync(DbSession session, long id, RawInbound raw, CancellationToken cancellationToken)
    {
        if (!_normalizers.TryGetValue(raw.Format, out var normalizer))
            throw new InvalidOperationException($"No normaliser is registered for payload format '{raw.Format}'.");
        var context = new InboundContext(normalizer.Normalize(raw), id, session);
        foreach (var filter in _filters)
        {
            await filter.RunAsync(context, cancellationToken);
            if (context.DroppedBecause is { } reason)
            {
                await inbound.MarkProcessedAsync(session, id, context.Ticket?.Id, null, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
                return new IngestResult(IngestOutcome.Dropped, id, context.Ticket?.Id, context.Ticket?.Number, Error: reason);
            }
        }
        var (ticket, messageId, created) = await writer.WriteAsync(context, cancellationToken);
        await inbound.MarkProcessedAsync(session, id, ticket.Id, messageId, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        return new IngestResult(created ? IngestOutcome.Created : IngestOutcome.Appended, id, ticket.Id, ticket.Number, messageId, TicketStatus: ticket.Status);
    }

    private async Task<IngestResult> DuplicateAsync(DbSession session, RawInbound raw, CancellationToken cancellationToken)
    {
        var row = await inbound.FindAsync(session, raw.Channel, raw.ExternalId, cancellationToken)
            ?? throw new InvalidOperationException("A duplicate inbound row vanished.");
        var ticket = row.TicketId is { } ticketId ? await tickets.GetAsync(session, ticketId, cancellationToken) : null;
        return row.State == InboundStore.Dead
            ? new IngestResult(IngestOutcome.Parked, row.Id, Error: row.LastError)
            : new IngestResult(IngestOutcome.Duplicate, row.Id, ticket?.Id, ticket?.Number, row.MessageId, TicketStatus: ticket?.Status);
    }

    private void AfterCommit(IngestResult result)
    {
        if (result.Outcome is IngestOutcome.Created or IngestOutcome.Appended)
            outboxSignal.NotifyAll();
    }
}
