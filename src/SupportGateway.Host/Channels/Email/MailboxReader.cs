using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Health;
using MailKit;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Reads every configured mailbox, one loop each: IDLE when the server has it, polling otherwise. A message is
/// stored and processed (one commit) before it is marked \Seen or moved on the server, and the folder's cursor
/// (UIDVALIDITY, last UID) advances after that; a crash in between fetches it again and the Message-ID dedupes it.
/// Errors never stop the host: the mailbox reports itself down and reconnects with backoff.
/// </summary>
internal sealed class MailboxReader(
    IOptions<EmailOptions> options,
    InboundProcessor processor,
    Database database,
    ChannelHealth health,
    MailLogin login,
    ExclusiveWork exclusive,
    StorageAvailability availability,
    TimeProvider time,
    ILogger<MailboxReader> logger) : BackgroundService
{
    public static string HealthName(MailboxOptions mailbox) => $"{EmailNormalizer.Channel}:{mailbox.Name}";

    /// <summary>The name of a mailbox folder's work and of its cursor: one reader per folder across instances.</summary>
    public static string WorkName(MailboxOptions mailbox) => $"mailbox:{CursorKey(mailbox)}";

    private static string CursorKey(MailboxOptions mailbox) => $"{mailbox.Name}/{mailbox.Imap.Folder}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(options.Value.Mailboxes.Select(mailbox => Task.Run(() => exclusive.RunAsync(WorkName(mailbox), ct => RunAsync(mailbox, ct), stoppingToken,
            () => health.Report(HealthName(mailbox), ChannelState.Up, $"{mailbox.Address}: read by another instance")), stoppingToken)));

    private async Task RunAsync(MailboxOptions mailbox, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        string? lastError = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReadAsync(mailbox, () => (delay, lastError) = (TimeSpan.FromSeconds(1), null), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var error = ex is MailTokenRejectedException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                health.Report(HealthName(mailbox), ChannelState.Down, $"{error}; retrying in {delay.TotalSeconds:0} s");
                // The same failure again (a rejected token, a server that is down) is one log line, not one per attempt.
                if (error != lastError)
                    logger.LogWarning("Mailbox {Mailbox}: {Error}; reconnecting with backoff (up to {MaxDelay})", mailbox.Name, error, options.Value.MaxReconnectDelay);
                else
                    logger.LogDebug("Mailbox {Mailbox}: {Error} again; next attempt in {Delay}", mailbox.Name, error, delay);
                lastError = error;
                try
                {
                    await Task.Delay(Jitter(delay), time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.Value.MaxReconnectDelay.Ticks));
            }
        }
    }

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + (Random.Shared.NextDouble() * 0.4));

    private async Task ReadAsync(MailboxOptions mailbox, Action connected, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        await using var session = await MailboxSession.OpenAsync(mailbox, login, MailLogin.ProtocolLog(settings, mailbox, "imap"), stoppingToken);
        connected();
        var idle = session.CanIdle;
        health.Report(HealthName(mailbox), ChannelState.Up,
            $"{mailbox.Address}: {mailbox.Imap.Folder} on {mailbox.Imap.Host}, {(idle ? "IDLE" : $"polled every {settings.PollInterval.TotalSeconds:0.#} s")}");
        logger.LogInformation("Mailbox {Mailbox} reads {Folder} on {Host} ({Mode})", mailbox.Name, mailbox.Imap.Folder, mailbox.Imap.Host, idle ? "IDLE" : "polling");
        var burstUntil = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            // While the storage takes no writes the mail stays on the server, unseen, and is read when it is back.
            if (!availability.IsAvailable)
            {
                health.Report(HealthName(mailbox), ChannelState.Degraded, $"{mailbox.Address}: waiting for the storage; mail stays on the server");
                await availability.WaitAvailableAsync(stoppingToken);
                health.Report(HealthName(mailbox), ChannelState.Up, $"{mailbox.Address}: {mailbox.Imap.Folder} on {mailbox.Imap.Host}");
            }
            if (await DrainAsync(session, mailbox, stoppingToken) > 0)
                burstUntil = time.GetUtcNow() + settings.BurstLinger;
            // Mail announced while the batch was handled is drained at once; otherwise IDLE (or a poll) until some
            // arrives, and NOOP every BurstPollInterval for a while after mail came: IDLE's news comes late.
            while (!await session.WaitAsync(settings.IdleRefresh, settings.PollInterval,
                time.GetUtcNow() < burstUntil ? settings.BurstPollInterval : null, time, stoppingToken))
            {
            }
        }
    }

    /// <summary>Handles every message above the cursor, in UID order, a batch at a time; returns how many were handled.</summary>
    private async Task<int> DrainAsync(MailboxSession session, MailboxOptions mailbox, CancellationToken cancellationToken)
    {
        var cursorKey = CursorKey(mailbox);
        var cursor = await ReadCursorAsync(cursorKey, cancellationToken);
        var uidValidity = session.UidValidity;
        var lastUid = cursor?.UidValidity == uidValidity ? (uint)cursor.LastUid : 0;
        if (cursor is not null && cursor.UidValidity != uidValidity)
            logger.LogWarning("Mailbox {Mailbox}: UIDVALIDITY changed from {Old} to {New}; reading the folder again (Message-IDs keep it from doubling tickets)",
                mailbox.Name, cursor.UidValidity, uidValidity);

        var uids = await session.NewAsync(lastUid, cancellationToken);
        // One new mail is fetched as it is; a backlog in batches of a bounded count and size, so that a run of large mails
        // is not held in memory at once.
        var sizes = uids.Count > 1 ? await session.SizesAsync([.. uids], cancellationToken) : new Dictionary<UniqueId, long>();
        var total = 0;
        foreach (var batch in Batches(uids, sizes, options.Value.FetchBatch, options.Value.FetchBatchBytes))
        {
            var fetched = await session.FetchAsync(batch, cancellationToken);
            var results = await processor.IngestManyAsync([.. fetched.Select(m => EmailNormalizer.ToRaw(mailbox.Name, m.Raw))], cancellationToken);
            var handled = new List<UniqueId>(fetched.Count);
            for (var i = 0; i < fetched.Count; i++)
            {
                logger.LogInformation("Mailbox {Mailbox} UID {Uid}: {Outcome} {Ticket}", mailbox.Name, fetched[i].Uid.Id, results[i].Outcome, results[i].TicketNumber);
                handled.Add(fetched[i].Uid);
            }
            total += handled.Count;
            // Committed: now the server may forget the message.
            await session.ReleaseAsync(handled, cancellationToken);
            // The cursor passes only what was handled: a UID the server did not return this time is asked for again.
            var through = batch.TakeWhile(handled.Contains).Select(uid => uid.Id).DefaultIfEmpty(lastUid).Max();
            if (through > lastUid)
                await WriteCursorAsync(cursorKey, uidValidity, through, cancellationToken);
            if (handled.Count < batch.Length)
                break;
            lastUid = through;
        }
        return total;
    }

    /// <summary>
    /// Consecutive UIDs, at most <paramref name="count"/> and <paramref name="bytes"/> (by RFC822.SIZE) a batch; a mail
    /// larger than that alone is a batch of its own.
    /// </summary>
    internal static IEnumerable<UniqueId[]> Batches(IReadOnlyList<UniqueId> uids, IReadOnlyDictionary<UniqueId, long> sizes, int count, long bytes)
    {
        var batch = new List<UniqueId>(Math.Min(count, uids.Count));
        var size = 0L;
        foreach (var uid in uids)
        {
            var next = sizes.GetValueOrDefault(uid);
            if (batch.Count > 0 && (batch.Count == count || size + next > bytes))
            {
                yield return [.. batch];
                batch.Clear();
                size = 0;
            }
            batch.Add(uid);
            size += next;
        }
        if (batch.Count > 0)
            yield return [.. batch];
    }

    private sealed record Cursor
    {
        public long UidValidity { get; init; }
        public long LastUid { get; init; }
    }

    private async Task<Cursor?> ReadCursorAsync(string mailbox, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await new SqlScope(connection).SingleOrDefaultAsync<Cursor>(
            "SELECT uid_validity, last_uid FROM mail_cursors WHERE mailbox = @mailbox", new { mailbox }, cancellationToken);
    }

    private async Task WriteCursorAsync(string mailbox, long uidValidity, long lastUid, CancellationToken cancellationToken)
    {
        await using var session = await database.BeginAsync(cancellationToken);
        SqlScope db = session;
        await db.ExecuteAsync("""
            INSERT INTO mail_cursors (mailbox, uid_validity, last_uid, updated_at) VALUES (@mailbox, @uidValidity, @lastUid, @at)
            ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, updated_at = excluded.updated_at
            """, new { mailbox, uidValidity, lastUid, at = time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken);
        await session.CommitAsync(cancellationToken);
    }
}
