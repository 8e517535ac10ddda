using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Pipeline;

/// <summary>
/// Group commit: payloads that arrive while the writer is busy wait in one queue, and whichever caller gets the writer
/// next commits them all in its transaction, each behind its own savepoint. A caller that gives up before its payload is
/// taken leaves the queue with its error; once taken, a payload is finished with the batch.
/// </summary>
public sealed partial class InboundProcessor
{
    private Task<IngestResult> EnqueueAsync(Work work)
    {
        Enqueue(work);
        return DriveAsync(work);
    }

    private void Enqueue(Work work)
    {
        Volatile.Write(ref _lastArrival, System.Diagnostics.Stopwatch.GetTimestamp());
        _queue.Enqueue(work);
    }

    /// <summary>Takes the writer until <paramref name="work"/> is committed, by this caller's batch or another's.</summary>
    private async Task<IngestResult> DriveAsync(Work work)
    {
        var cancellationToken = work.CancellationToken;
        while (!work.Result.Task.IsCompleted)
        {
            List<Work> batch;
            DbSession opened;
            try
            {
                opened = await database.BeginAsync(cancellationToken);
            }
            catch (Exception ex) when (Interlocked.CompareExchange(ref work.Taken, Work.Abandoned, Work.Queued) == Work.Queued)
            {
                // No writer (a lock held elsewhere, a full disk, the caller gone): the payload leaves the queue with its
                // caller's error, so no later batch commits what was answered as refused.
                availability.Observe(ex);
                throw;
            }
            catch (Exception) when (work.Taken == Work.TakenByBatch)
            {
                break; // another caller's batch has it: its outcome is this caller's
            }
            var results = new List<IngestResult>();
            var (committing, failure) = (false, (Exception?)null);
            await using (var session = opened)
            {
                batch = Drain();
                if (batch.Count == 0)
                    break; // another caller took ours and is finishing it
                try
                {
                    foreach (var item in batch)
                        results.Add(await IngestOneAsync(session, item));
                    committing = true;
                    await session.CommitAsync(CancellationToken.None);
                }
                catch (Exception ex)
                {
                    // A full disk or a lock held elsewhere starts an outage: the next payloads are refused at once until a write succeeds.
                    availability.Observe(ex);
                    failure = ex;
                }
            }
            await SettleAsync(batch, results, failure is null ? null : (failure, committing));
            foreach (var item in batch.Where(i => i.Result.Task.IsCompletedSuccessfully && i.Result.Task.Result.AfterCommit is not null))
                await RunAfterCommitAsync(item.Result.Task.Result);
            if (batch.Any(item => item.Result.Task.IsCompletedSuccessfully && item.Result.Task.Result.Outcome == IngestOutcome.Stored))
                inboundSignal.Notify();
        }
        return await work.Result.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Answers a batch: with its results once committed; with the error when the transaction failed as a whole, so that
    /// nothing in it was accepted; and when the commit's answer was lost with the connection, with what the server
    /// says it did (<see cref="CommitCheck"/>), or a 503 that says the outcome is unknown when it cannot be asked in time.
    /// </summary>
    private async Task SettleAsync(List<Work> batch, List<IngestResult> results, (Exception Error, bool Committing)? failure)
    {
        var committed = failure is null ? true : null as bool?;
        Exception? error = failure?.Error;
        // Every payload that did not write an inbound row is a duplicate of one committed before: any written one tells.
        if (failure is { Committing: true } && database.Dialect.CommitMayHaveHappened(failure.Value.Error)
            && results.FirstOrDefault(r => r.Outcome != IngestOutcome.Duplicate) is { } written)
        {
            committed = await commitCheck.CommittedAsync(written.InboundId);
            // The commit's own wake-ups did not run: what it queued is for every sender to look at.
            if (committed == true)
                outboxSignal.NotifyAll();
            if (committed is null)
                error = new StorageUnavailableException(database.Dialect.Unavailable(failure.Value.Error) ?? "the connection broke",
                    availability.Outage is { } outage ? availability.RetryAfter(outage) : TimeSpan.FromSeconds(1), outcomeUnknown: true);
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (committed == true)
                batch[i].Result.TrySetResult(results[i]);
            else
                batch[i].Result.TrySetException(error!);
        }
    }

    private List<Work> Drain()
    {
        var batch = new List<Work>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var item))
        {
            if (Interlocked.CompareExchange(ref item.Taken, Work.TakenByBatch, Work.Queued) != Work.Queued)
                continue; // abandoned by its caller
            if (item.CancellationToken.IsCancellationRequested)
                item.Result.TrySetCanceled(item.CancellationToken);
            else
                batch.Add(item);
        }
        return batch;
    }

    private async Task<IngestResult> IngestOneAsync(DbSession session, Work work)
    {
        // Once in a batch, a payload is finished even if its caller gives up: others share the commit.
        var (raw, now) = (work.Raw, time.GetUtcNow().ToUnixTimeMilliseconds());
        if (work.StoreOnly)
        {
            return await inbound.TryInsertAsync(session, raw, InboundStore.Pending, now, CancellationToken.None) is { } pending
                ? new IngestResult(IngestOutcome.Stored, pending)
                : await DuplicateAsync(session, raw, CancellationToken.None);
        }
        return await inbound.TryInsertAsync(session, raw, InboundStore.Processed, now, CancellationToken.None) is { } id
            ? await ProcessAsync(session, id, raw, CancellationToken.None)
            : await DuplicateAsync(session, raw, CancellationToken.None);
    }

    private const int MaxBatch = 32;

    private readonly System.Collections.Concurrent.ConcurrentQueue<Work> _queue = new();

    private sealed record Work(RawInbound Raw, bool StoreOnly, CancellationToken CancellationToken)
    {
        public const int Queued = 0, TakenByBatch = 1, Abandoned = 2;

        public TaskCompletionSource<IngestResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Who has it: still queued, in a batch (which finishes it), or given up by its caller (never committed).</summary>
        public int Taken;
    }
}
