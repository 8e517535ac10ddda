using Microsoft.Extensions.Options;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Health;
using SupportGateway.Mail.Imap;

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
    TimeProvider time,
    ILogger<MailboxReader> logger) : BackgroundService
{
    public static string HealthName(MailboxOptions mailbox) => $"{EmailNormalizer.Channel}:{mailbox.Name}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(options.Value.Mailboxes.Select(mailbox => Task.Run(() => RunAsync(mailbox, stoppingToken), stoppingToken)));

    private async Task RunAsync(MailboxOptions mailbox, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReadAsync(mailbox, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                health.Report(HealthName(mailbox), ChannelState.Down, $"{ex.GetType().Name}: {ex.Message}; retrying in {delay.TotalSeconds:0} s");
                logger.LogWarning("Mailbox {Mailbox}: {Error}; reconnecting in {Delay}", mailbox.Name, ex.Message, delay);
                try
                {
                    await Task.Delay(delay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.Value.MaxReconnectDelay.Ticks));
                continue;
            }
        }
    }

    private async Task ReadAsync(MailboxOptions mailbox, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        await using var client = new ImapClient(mailbox.Imap.ToClient(null));
        await client.ConnectAsync(stoppingToken);
        if (mailbox.Imap.ProcessedFolder is { } processed)
            await client.CreateFolderAsync(processed, stoppingToken);
        var folder = await client.SelectAsync(mailbox.Imap.Folder, stoppingToken);
        var idle = client.Capabilities.Contains("IDLE");
        health.Report(HealthName(mailbox), ChannelState.Up,
            $"{mailbox.Address}: {mailbox.Imap.Folder} on {mailbox.Imap.Host}, {(idle ? "IDLE" : $"polled every {settings.PollInterval.TotalSeconds:0.#} s")}");
        logger.LogInformation("Mailbox {Mailbox} reads {Folder} on {Host} ({Mode})", mailbox.Name, mailbox.Imap.Folder, mailbox.Imap.Host, idle ? "IDLE" : "polling");

        // Mail that arrives while a batch is handled is announced (EXISTS) during those commands, not in the IDLE after.
        var arrived = false;
        client.MailboxChanged += (_, change) => arrived |= change.Kind == "EXISTS";
        while (!stoppingToken.IsCancellationRequested)
        {
            arrived = false;
            await DrainAsync(client, mailbox, folder, stoppingToken);
            if (arrived)
                continue;
            if (idle)
            {
                await client.WaitForChangeAsync(settings.IdleRefresh, stoppingToken);
            }
            else
            {
                await Task.Delay(settings.PollInterval, time, stoppingToken);
                await client.NoopAsync(stoppingToken);
            }
        }
    }

    /// <summary>Handles every message above the cursor, in UID order, a batch at a time.</summary>
    private async Task DrainAsync(ImapClient client, MailboxOptions mailbox, ImapMailbox folder, CancellationToken cancellationToken)
    {
        var cursorKey = $"{mailbox.Name}/{mailbox.Imap.Folder}";
        var cursor = await ReadCursorAsync(cursorKey, cancellationToken);
        var lastUid = cursor?.UidValidity == folder.UidValidity ? cursor.LastUid : 0;
        if (cursor is not null && cursor.UidValidity != folder.UidValidity)
            logger.LogWarning("Mailbox {Mailbox}: UIDVALIDITY changed from {Old} to {New}; reading the folder again (Message-IDs keep it from doubling tickets)",
                mailbox.Name, cursor.UidValidity, folder.UidValidity);

        // "UID n:*" always matches the highest UID, even one below n.
        var uids = (await client.UidSearchAsync($"UID {lastUid + 1}:* UNDELETED", cancellationToken)).Where(uid => uid > lastUid).Order().ToList();
        foreach (var batch in uids.Chunk(options.Value.FetchBatch))
        {
            var messages = await client.UidFetchAsync(batch, ImapFetchItems.Body, cancellationToken);
            var handled = new List<uint>();
            foreach (var message in messages)
            {
                if (message.Body is not { } body)
                    continue;
                var result = await processor.IngestAsync(EmailNormalizer.ToRaw(mailbox.Name, body), cancellationToken);
                logger.LogInformation("Mailbox {Mailbox} UID {Uid}: {Outcome} {Ticket}", mailbox.Name, message.Uid, result.Outcome, result.TicketNumber);
                handled.Add(message.Uid);
            }
            // Committed: now the server may forget the message.
            if (mailbox.Imap.ProcessedFolder is { } processed)
                await client.UidMoveAsync(handled, processed, cancellationToken);
            else
                await client.UidStoreAsync(handled, ImapStoreMode.Add, ["\\Seen"], cancellationToken);
            // The cursor passes only what was handled: a UID the server did not return this time is asked for again.
            var through = batch.TakeWhile(handled.Contains).DefaultIfEmpty(lastUid == 0 ? 0u : (uint)lastUid).Max();
            if (through > lastUid)
                await WriteCursorAsync(cursorKey, folder.UidValidity, through, cancellationToken);
            if (handled.Count < batch.Length)
                break;
            lastUid = through;
        }
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
