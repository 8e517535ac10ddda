using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Pipeline;

/// <summary>
/// Fetches customers' files again that could not be fetched when their message was stored, with exponential backoff
/// and a bounded number of attempts; a file that arrives is attached to the stored message (the agent API lists it,
/// audit <c>attachment_added</c>), one that never does is audited <c>attachment_lost</c>. The rows live in the
/// database, so a restart loses none of this work.
/// </summary>
public sealed class FileRetryWorker(Database database, FileRetryStore store, MessageStore messages, TicketStore tickets, IEnumerable<IFileSource> sources,
    IOptions<FileRetryOptions> options, TimeProvider time, ILogger<FileRetryWorker> logger) : BackgroundService
{
    private const int Batch = 20;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, IFileSource> _sources = sources.ToDictionary(s => s.Name, StringComparer.Ordinal);
    private readonly FileRetryOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await RunDueAsync(stoppingToken) < Batch)
                    await Task.Delay(_options.PollInterval, time, stoppingToken);
                failures = 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                logger.LogError(ex, "Fetching files again failed ({Failures} in a row)", failures);
                await Task.Delay(OutboxDispatcher.Backoff(failures, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)), time, stoppingToken);
            }
        }
    }

    /// <summary>Claims the due files and tries each once; returns how many it claimed.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<FileRetryRow> due;
        await using (var session = await database.BeginAsync(cancellationToken))
        {
            due = await store.ClaimAsync(session, Now(), (long)Lease.TotalMilliseconds, Batch, cancellationToken);
            await session.CommitAsync(cancellationToken);
        }
        foreach (var row in due)
        {
            // The download happens outside any transaction: the one writer never waits on a provider.
            InboundAttachment? file = null;
            Exception? error = null;
            try
            {
                file = _sources.TryGetValue(row.Source, out var source)
                    ? await source.FetchAsync(row.Reference, cancellationToken)
                    : throw new FileGoneException($"no file source '{row.Source}' is configured");
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                error = ex;
            }
            await SaveAsync(row, file, error, cancellationToken);
        }
        return due.Count;
    }

    private async Task SaveAsync(FileRetryRow row, InboundAttachment? file, Exception? error, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var session = await database.BeginAsync(cancellationToken);
        SqlScope db = session;
        var ticketId = await db.ScalarAsync<long>("SELECT ticket_id FROM messages WHERE id = @id", new { id = row.MessageId }, cancellationToken);
        if (file is not null)
        {
            await messages.InsertAttachmentAsync(session, row.MessageId, file.FileName, file.ContentType, file.Content, file.ContentId, file.Inline, cancellationToken);
            await store.MarkDoneAsync(session, row.Id, cancellationToken);
            await tickets.AuditAsync(session, Audit(ticketId, now, "attachment_added", row.FileName), cancellationToken);
            logger.LogInformation("File {FileName} of message {MessageId} arrived on attempt {Attempt}", row.FileName, row.MessageId, row.Attempts + 2);
        }
        else
        {
            var attempts = row.Attempts + 1;
            var giveUp = error is FileGoneException || attempts >= _options.MaxAttempts;
            var next = now + (long)OutboxDispatcher.Backoff(attempts + 1, _options.FirstRetryDelay, _options.MaxRetryDelay).TotalMilliseconds;
            await store.MarkRetryAsync(session, row.Id, $"{error!.GetType().Name}: {error.Message}", next, giveUp, cancellationToken);
            if (giveUp)
                await tickets.AuditAsync(session, Audit(ticketId, now, "attachment_lost", $"{row.FileName}: {error.Message}"), cancellationToken);
            logger.LogWarning("File {FileName} of message {MessageId} could not be fetched again (attempt {Attempt}{Final}): {Error}",
                row.FileName, row.MessageId, attempts, giveUp ? ", giving up" : "", error.Message);
        }
        await session.CommitAsync(cancellationToken);
    }

    private static AuditRow Audit(long ticketId, long at, string action, string value) =>
        new() { TicketId = ticketId, At = at, Actor = "system", Action = action, NewValue = value };

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
