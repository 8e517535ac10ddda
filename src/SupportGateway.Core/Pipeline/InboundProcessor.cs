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
public sealed partial class InboundProcessor(
    Database database,
    InboundStore inbound,
    TicketStore tickets,
    IEnumerable<IInboundNormalizer> normalizers,
    IEnumerable<IInboundFilter> filters,
    TicketWriter writer,
    OutboxSignal outboxSignal,
    InboundSignal inboundSignal,
    StorageAvailability availability,
    CommitCheck commitCheck,
    TimeProvider time,
    ILogger<InboundProcessor> logger)
{
    private readonly Dictionary<string, IInboundNormalizer> _normalizers = normalizers.ToDictionary(n => n.Format, StringComparer.Ordinal);
    private readonly IInboundFilter[] _filters = [.. filters.OrderBy(f => f.Order)];

    public Task<IngestResult> IngestAsync(InboundMessage message, CancellationToken cancellationToken) =>
        IngestAsync(InboundJsonNormalizer.ToRaw(message), cancellationToken);

    /// <summary>
    /// Stores and processes one payload. Payloads that arrive while the writer is busy are
    /// committed together by whichever caller gets the writer next (group commit): each keeps its
    /// own savepoint, so one failure parks only its own payload.
    /// </summary>
    public async Task<IngestResult> IngestAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        availability.ThrowIfUnavailable();
        await PrepareAsync(raw, cancellationToken);
        return await EnqueueAsync(new Work(raw, false, cancellationToken));
    }

    /// <summary>
    /// Stores and processes payloads in the order given (a follow-up after the mail it answers), committed together:
    /// all of them are decoded first, in parallel, then they go through the writer as one group.
    /// </summary>
    public async Task<IReadOnlyList<IngestResult>> IngestManyAsync(IReadOnlyList<RawInbound> raws, CancellationToken cancellationToken)
    {
        availability.ThrowIfUnavailable();
        await Parallel.ForEachAsync(raws, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            async (raw, token) => await PrepareAsync(raw, token));
        var works = raws.Select(raw => new Work(raw, false, cancellationToken)).ToList();
        foreach (var work in works)
            Enqueue(work);
        return await Task.WhenAll(works.Select(DriveAsync));
    }

    private async Task PrepareAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        if (!_normalizers.TryGetValue(raw.Format, out var normalizer))
            return;
        try
        {
            await normalizer.PrepareAsync(raw, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Preparing inbound {ExternalId} from {Channel} failed; it is processed without: {Error}", raw.ExternalId, raw.Channel, ex.Message);
        }
    }

    /// <summary>
    /// Stores the payload as pending and returns once it is committed (group commit, like ingestion); the pending
    /// worker processes it soon after, in arrival order. For webhooks that must answer at once.
    /// </summary>
    public Task<IngestResult> StoreAsync(RawInbound raw, CancellationToken cancellationToken)
    {
        availability.ThrowIfUnavailable();
        return EnqueueAsync(new Work(raw, true, cancellationToken));
    }

    /// <summary>Processes a parked (or pending) payload again.</summary>
    public async Task<IngestResult?> ReplayAsync(long inboundId, CancellationToken cancellationToken)
    {
        // The payload never changes once stored: read and prepared before the transaction, which only checks the state.
        RawInbound? raw;
        await using (var connection = await database.OpenAsync(cancellationToken))
            raw = await inbound.PayloadAsync(new SqlScope(connection), inboundId, cancellationToken);
        if (raw is null)
            return null;
        await PrepareAsync(raw, cancellationToken);
        IngestResult result;
        await using (var session = await database.BeginAsync(cancellationToken))
        {
            var row = await inbound.GetAsync(session, inboundId, cancellationToken);
            if (row is null || row.State == InboundStore.Processed)
                return null;
            result = await ProcessAsync(session, inboundId, raw, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        if (result.AfterCommit is not null)
            await RunAfterCommitAsync(result);
        return result;
    }

    /// <summary>
    /// Processes stored pending payloads in their order, several to a transaction: a transaction takes rows until
    /// <see cref="SliceBudget"/> has passed, so the writer is never held long from the webhooks storing new payloads, and
    /// it waits for the writer to be free before it starts (webhooks answer first). Each row keeps its own savepoint, as
    /// in ingestion. Files are fetched before the transaction, a few rows ahead. Returns how many rows were looked at.
    /// </summary>
    public async Task<int> ProcessPendingAsync(IReadOnlyList<(long Id, RawInbound Raw)> rows, CancellationToken cancellationToken)
    {
        var (done, prepared) = (0, 0);
        while (done < rows.Count)
        {
            for (; prepared < Math.Min(rows.Count, done + PrepareAhead); prepared++)
                await PrepareAsync(rows[prepared].Raw, cancellationToken);
            var results = new List<IngestResult>();
            var sliceStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            await using (var session = await database.BeginBackgroundAsync(TimeSpan.FromMilliseconds(5), cancellationToken))
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                while (done < prepared && (results.Count == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(started) < SliceBudget))
                {
                    var (id, raw) = rows[done++];
                    // Another worker (a replay from the CLI) may have finished it since the list was read.
                    if (await inbound.GetAsync(session, id, cancellationToken) is { State: InboundStore.Pending })
                        results.Add(await ProcessAsync(session, id, raw, cancellationToken));
                }
                await session.CommitAsync(cancellationToken);
            }
            foreach (var result in results.Where(r => r.AfterCommit is not null))
                await RunAfterCommitAsync(result);
            // While payloads keep arriving, the worker takes at most half of the time: the cores are shared with the
            // requests that must be answered now, and what it leaves is done as soon as they pause.
            var slice = System.Diagnostics.Stopwatch.GetElapsedTime(sliceStarted);
            if (done < rows.Count && Volatile.Read(ref _lastArrival) > sliceStarted)
                await Task.Delay(slice, cancellationToken);
        }
        return done;
    }

    private long _lastArrival;

    /// <summary>How long one transaction of the pending worker may go on taking rows.</summary>
    private static readonly TimeSpan SliceBudget = TimeSpan.FromMilliseconds(2);

    private const int PrepareAhead = 16;

    private async Task<IngestResult> ProcessAsync(DbSession session, long id, RawInbound raw, CancellationToken cancellationToken)
    {
        const string savepoint = "ingest";
        await session.SaveAsync(savepoint, cancellationToken);
        try
        {
            var result = await RunPipelineAsync(session, id, raw, cancellationToken);
            await session.ReleaseAsync(savepoint, cancellationToken);
            return result;
        }
        // A full disk or a lock is not the payload's fault: the whole transaction fails and nothing is parked.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && database.Dialect.Unavailable(ex) is null)
        {
            await session.RollbackToAsync(savepoint, cancellationToken);
            var error = $"{ex.GetType().Name}: {ex.Message}";
            await inbound.MarkDeadAsync(session, id, error, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
            // A payload its normaliser cannot read is the sender's fault, not ours: kept with the reason, without a stack trace.
            if (ex is UnreadablePayloadException)
                logger.LogWarning("Inbound {InboundId} from {Channel} cannot be read and is parked as a dead letter: {Error}", id, raw.Channel, ex.Message);
            else
                logger.LogError(ex, "Inbound {InboundId} from {Channel} parked as a dead letter", id, raw.Channel);
            return new IngestResult(IngestOutcome.Parked, id, Error: error);
        }
    }

    private async Task<IngestResult> RunPipelineAsync(DbSession session, long id, RawInbound raw, CancellationToken cancellationToken)
    {
        if (!_normalizers.TryGetValue(raw.Format, out var normalizer))
            throw new InvalidOperationException($"No normaliser is registered for payload format '{raw.Format}'.");
        var context = new InboundContext(Read(normalizer, raw), id, session);
        foreach (var filter in _filters)
        {
            await filter.RunAsync(context, cancellationToken);
            if (context.DroppedBecause is { } reason)
            {
                await inbound.MarkProcessedAsync(session, id, context.Ticket?.Id, null, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
                return new IngestResult(IngestOutcome.Dropped, id, context.Ticket?.Id, context.Ticket?.Number, Error: reason) { AfterCommit = context.AfterCommit };
            }
        }
        var (ticket, messageId, created) = await writer.WriteAsync(context, cancellationToken);
        await inbound.MarkProcessedAsync(session, id, ticket.Id, messageId, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        return new IngestResult(created ? IngestOutcome.Created : IngestOutcome.Appended, id, ticket.Id, ticket.Number, messageId, TicketStatus: ticket.Status)
        {
            AfterCommit = context.AfterCommit,
        };
    }

    /// <summary>
    /// The normaliser's reading; a payload it cannot read (wrong JSON types, a required field missing, bytes that are no
    /// form) comes out as <see cref="UnreadablePayloadException"/>, so that it is parked as what it is.
    /// </summary>
    private static InboundMessage Read(IInboundNormalizer normalizer, RawInbound raw)
    {
        try
        {
            return normalizer.Normalize(raw);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidDataException or FormatException or OverflowException)
        {
            throw new UnreadablePayloadException($"{ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    private async Task<IngestResult> DuplicateAsync(DbSession session, RawInbound raw, CancellationToken cancellationToken)
    {
        var row = await inbound.FindAsync(session, raw.Channel, raw.ExternalId, cancellationToken)
            ?? throw new InvalidOperationException("A duplicate inbound row vanished.");
        var ticket = row.TicketId is { } ticketId ? await tickets.GetAsync(session, ticketId, cancellationToken) : null;
        return row.State == InboundStore.Dead
            ? new IngestResult(IngestOutcome.Parked, row.Id, Error: row.LastError)
            : row.State == InboundStore.Pending ? new IngestResult(IngestOutcome.Duplicate, row.Id)
            : new IngestResult(IngestOutcome.Duplicate, row.Id, ticket?.Id, ticket?.Number, row.MessageId, TicketStatus: ticket?.Status);
    }

    private async Task RunAfterCommitAsync(IngestResult result)
    {
        try
        {
            await result.AfterCommit!(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex)
        {
            logger.LogWarning("The reply to inbound {InboundId} after its commit failed: {Error}", result.InboundId, ex.Message);
        }
    }
}
