using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SupportGateway.Core.Storage;

/// <summary>
/// Work that must run on one instance at a time (a mailbox's reader, Telegram polling, the SLA scheduler): it runs
/// while this instance holds the work's lock (<see cref="SqlDialect.TryLockWorkAsync"/>), and the other instances try
/// again every <see cref="RetryInterval"/>, so it moves to one of them within seconds when its holder stops or dies.
/// On SQLite the lock is always granted: one process owns the file.
/// </summary>
public sealed class ExclusiveWork(Database database, ILogger<ExclusiveWork> logger, StorageAvailability? availability = null)
{
    private readonly ConcurrentDictionary<string, bool> _held = new(StringComparer.Ordinal);

    /// <summary>How often an instance that waits asks for the lock again; a dead holder's work moves within this.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The work this instance runs (true) or waits for (false), by name, for <c>/healthz</c>.</summary>
    public IReadOnlyList<(string Name, bool Held)> Snapshot() =>
        [.. _held.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => (w.Key, w.Value))];

    /// <summary>
    /// Runs <paramref name="work"/> whenever this instance holds <paramref name="name"/>'s lock, until
    /// <paramref name="stoppingToken"/> fires or the work returns by itself. The token the work gets is cancelled when
    /// the lock is lost; the lock is released when the work ends. <paramref name="waiting"/> is called each time this
    /// instance finds the lock held elsewhere.
    /// </summary>
    public async Task RunAsync(string name, Func<CancellationToken, Task> work, CancellationToken stoppingToken, Action? waiting = null)
    {
        var reported = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            WorkLock? held;
            try
            {
                held = await database.Dialect.TryLockWorkAsync(name, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The server out of reach is an outage of the storage: the probe starts, and the lock is asked for again when it ends.
                availability?.Observe(ex);
                logger.LogWarning("Work {Work}: its lock could not be asked for ({Error}); trying again", name, ex.Message);
                held = null;
            }
            if (held is null)
            {
                _held[name] = false;
                if (!reported)
                    logger.LogInformation("Work {Work} runs on another instance; this one takes it over when it stops", name);
                reported = true;
                waiting?.Invoke();
                if (!await DelayAsync(stoppingToken))
                    break;
                continue;
            }
            reported = false;
            if (await RunHeldAsync(name, held, work, stoppingToken))
                break;
        }
        _held.TryRemove(name, out _);
    }

    /// <summary>Runs the work under the held lock; true when it is over for good (stopped, or it returned).</summary>
    private async Task<bool> RunHeldAsync(string name, WorkLock held, Func<CancellationToken, Task> work, CancellationToken stoppingToken)
    {
        bool lost;
        await using (held)
        {
            _held[name] = true;
            logger.LogInformation("Work {Work} runs on this instance", name);
            using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, held.Lost);
            try
            {
                await work(running.Token);
            }
            catch (OperationCanceledException) when (running.IsCancellationRequested)
            {
                // Stopped, or the lock is gone: told apart below.
            }
            finally
            {
                _held[name] = false;
            }
            lost = held.Lost.IsCancellationRequested && !stoppingToken.IsCancellationRequested;
        }
        if (lost)
            logger.LogWarning("Work {Work}: the lock's connection broke; stopped it here, another instance may hold it now", name);
        return !lost;
    }

    private async Task<bool> DelayAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Wall-clock time, not the gateway's TimeProvider: the holder is another process. During an outage of the
            // storage the lock is asked for again as soon as the storage is back: the work resumes with it.
            var retry = Task.Delay(RetryInterval, stoppingToken);
            if (availability is { IsAvailable: false })
                await Task.WhenAny(retry, availability.WaitAvailableAsync(stoppingToken));
            else
                await retry;
            stoppingToken.ThrowIfCancellationRequested();
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
