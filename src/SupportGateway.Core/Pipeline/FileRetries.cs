using SupportGateway.Core.Storage;

namespace SupportGateway.Core.Pipeline;

/// <summary>
/// A file an inbound message names that the channel could not fetch when the message was stored: the channel's
/// <see cref="IFileSource"/> named by <see cref="Source"/> fetches it again later from <see cref="Reference"/> (its own
/// description: a media id, a URL).
/// </summary>
public sealed record MissingFile(string Source, string Reference, string FileName);

/// <summary>Fetches a channel's file again, for <see cref="FileRetryWorker"/>.</summary>
public interface IFileSource
{
    /// <summary>The <see cref="MissingFile.Source"/> it serves, e.g. <c>whatsapp.twilio</c>.</summary>
    string Name { get; }

    /// <summary>The file, or throws: <see cref="FileGoneException"/> when no later try can succeed, anything else to try again.</summary>
    Task<InboundAttachment> FetchAsync(string reference, CancellationToken cancellationToken);
}

/// <summary>The provider no longer has the file (its media id or URL expired, or it was deleted): no retry helps.</summary>
public sealed class FileGoneException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class FileRetryOptions
{
    public const string Section = "SupportGateway:FileRetries";

    /// <summary>Tries after the first failed download (the one while the message was stored) before the file is given up.</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Wait before the first retry; it doubles with each attempt (with jitter), up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the worker looks for files due again.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed record FileRetryRow
{
    public long Id { get; init; }
    public long MessageId { get; init; }
    public string Source { get; init; } = "";
    public string Reference { get; init; } = "";
    public string FileName { get; init; } = "";
    public int Attempts { get; init; }
}

/// <summary>The files to fetch again: written in the ingest transaction of their message, claimed with a lease by the worker.</summary>
public sealed class FileRetryStore(Database database)
{
    public const string Pending = "pending";
    public const string Done = "done";
    public const string Failed = "failed";

    public Task AddAsync(SqlScope db, long messageId, MissingFile file, long dueAt, long now, CancellationToken cancellationToken) =>
        db.WriteAsync("""
            INSERT INTO file_retries (message_id, source, reference, file_name, state, next_attempt_at, created_at)
            VALUES (@messageId, @Source, @Reference, @FileName, 'pending', @dueAt, @now)
            """, new { messageId, file.Source, file.Reference, file.FileName, dueAt, now }, cancellationToken);

    /// <summary>Due rows, their next attempt moved past the lease: a crash in the middle makes them due again then.</summary>
    public Task<IReadOnlyList<FileRetryRow>> ClaimAsync(SqlScope db, long now, long leaseMs, int batch, CancellationToken cancellationToken) =>
        db.ListAsync<FileRetryRow>($"""
            UPDATE file_retries SET next_attempt_at = @until
            WHERE id IN (
                SELECT id FROM file_retries WHERE state = 'pending' AND next_attempt_at <= @now
                ORDER BY id LIMIT @batch {database.Dialect.SkipLocked})
            RETURNING id, message_id, source, reference, file_name, attempts
            """, new { now, until = now + leaseMs, batch }, cancellationToken);

    public Task MarkDoneAsync(SqlScope db, long id, CancellationToken cancellationToken) =>
        db.ExecuteAsync("UPDATE file_retries SET state = 'done', attempts = attempts + 1, last_error = NULL WHERE id = @id", new { id }, cancellationToken);

    public Task MarkRetryAsync(SqlScope db, long id, string error, long nextAttemptAt, bool giveUp, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            UPDATE file_retries SET state = @state, attempts = attempts + 1, last_error = @error, next_attempt_at = @nextAttemptAt WHERE id = @id
            """, new { id, error, nextAttemptAt, state = giveUp ? Failed : Pending }, cancellationToken);
}
