using System.Globalization;
using System.Text.Json.Serialization;
using SupportGateway.Core.Pipeline;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;

namespace SupportGateway.Host.Channels.Telegram;

/// <summary>A file a message carries, as the normaliser found it: enough to fetch it later with getFile.</summary>
internal sealed record TelegramFileRef(
    [property: JsonPropertyName("id")] string FileId,
    [property: JsonPropertyName("size")] long? Size,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string ContentType);

/// <summary>
/// Files in and out. In: the largest photo size, documents, voice, video, audio and video notes, fetched with getFile
/// up to the Bot API's 20 MB download limit; a bigger one is named in the text and the customer is told. Files are
/// fetched before the ingest transaction (<see cref="PrefetchAsync"/>) and kept here until the filter takes them, so
/// the database writer never waits on Telegram; what was not prefetched is fetched by the filter. Out: pictures go
/// as sendPhoto (shown inline), everything else as sendDocument.
/// </summary>
internal sealed class TelegramMedia(PacedBotClient bot, TimeProvider time, ILogger<TelegramMedia> logger)
{
    private const long CacheLimit = 256L * 1024 * 1024;
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(10);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (byte[] Content, DateTimeOffset At)> _fetched = new();
    private long _cached;

    public static IReadOnlyList<TelegramFileRef> Describe(Message message)
    {
        var id = message.MessageId.ToString(CultureInfo.InvariantCulture);
        var files = new List<TelegramFileRef>();
        if (message.Photo?.Where(s => s is not null).ToArray() is { Length: > 0 } sizes)
        {
            var largest = sizes.MaxBy(s => ((long)s.Width * s.Height, s.FileSize ?? 0))!;
            files.Add(new(largest.FileId, largest.FileSize, $"photo-{id}.jpg", "image/jpeg"));
        }
        if (message.Document is { } document)
            files.Add(new(document.FileId, document.FileSize, document.FileName ?? $"document-{id}", document.MimeType ?? "application/octet-stream"));
        if (message.Voice is { } voice)
            files.Add(new(voice.FileId, voice.FileSize, $"voice-{id}.ogg", voice.MimeType ?? "audio/ogg"));
        if (message.Video is { } video)
            files.Add(new(video.FileId, video.FileSize, video.FileName ?? $"video-{id}.mp4", video.MimeType ?? "video/mp4"));
        if (message.VideoNote is { } note)
            files.Add(new(note.FileId, note.FileSize, $"video-note-{id}.mp4", "video/mp4"));
        if (message.Audio is { } audio)
            files.Add(new(audio.FileId, audio.FileSize, audio.FileName ?? $"audio-{id}.mp3", audio.MimeType ?? "audio/mpeg"));
        // A file without its file_id (damaged: the Bot API always sends one) cannot be fetched; the text still names it.
        files.RemoveAll(f => string.IsNullOrEmpty(f.FileId));
        return files;
    }

    /// <summary>Fetches what fits into the cache ahead of processing; failures are left for the filter to meet.</summary>
    public async Task PrefetchAsync(IReadOnlyList<TelegramFileRef> files, CancellationToken cancellationToken)
    {
        foreach (var (key, entry) in _fetched.Where(e => time.GetUtcNow() - e.Value.At > CacheLifetime))
        {
            if (_fetched.TryRemove(key, out _))
                Interlocked.Add(ref _cached, -entry.Content.LongLength);
        }
        foreach (var file in files.Where(f => f.Size is null or <= PacedBotClient.MaxDownload && !_fetched.ContainsKey(f.FileId)))
        {
            if (Interlocked.Read(ref _cached) + (file.Size ?? PacedBotClient.MaxDownload) > CacheLimit)
                return;
            var content = await FetchAsync(file, cancellationToken);
            if (_fetched.TryAdd(file.FileId, (content, time.GetUtcNow())))
                Interlocked.Add(ref _cached, content.LongLength);
        }
    }

    /// <summary>
    /// The files as attachments, lines for the text about files that could not be fetched, and the names of those
    /// over the limit (the customer is told to send them another way).
    /// </summary>
    public async Task<(List<InboundAttachment> Attachments, List<string> Notes, List<string> TooBig)> DownloadAsync(
        IReadOnlyList<TelegramFileRef> files, CancellationToken cancellationToken)
    {
        var (attachments, notes, tooBig) = (new List<InboundAttachment>(), new List<string>(), new List<string>());
        foreach (var file in files)
        {
            if (file.Size > PacedBotClient.MaxDownload)
            {
                tooBig.Add(file.Name);
                notes.Add($"[{file.Name}, {file.Size / (1024 * 1024)} MB: over Telegram's 20 MB limit for bots, not received]");
                continue;
            }
            try
            {
                byte[] content;
                if (_fetched.TryRemove(file.FileId, out var prefetched))
                {
                    Interlocked.Add(ref _cached, -prefetched.Content.LongLength);
                    content = prefetched.Content;
                }
                else
                {
                    content = await FetchAsync(file, cancellationToken);
                }
                attachments.Add(new InboundAttachment { FileName = file.Name, ContentType = file.ContentType, Content = content });
            }
            catch (ApiRequestException ex) when (ex.Message.Contains("too big", StringComparison.OrdinalIgnoreCase))
            {
                tooBig.Add(file.Name);
                notes.Add($"[{file.Name}: over Telegram's 20 MB limit for bots, not received]");
            }
            catch (Exception ex) when (ex is RequestException or IOException or HttpRequestException)
            {
                // The message still counts; the agent sees which file is missing (its file_id stays in the stored update).
                logger.LogWarning("Telegram file {FileName} could not be downloaded: {Error}", file.Name, ex.Message);
                notes.Add($"[{file.Name}: could not be downloaded ({ex.Message})]");
            }
        }
        return (attachments, notes, tooBig);
    }

    private async Task<byte[]> FetchAsync(TelegramFileRef file, CancellationToken cancellationToken)
    {
        var described = await bot.GetFile(file.FileId, cancellationToken);
        return described.FilePath is { } path ? await bot.DownloadAsync(path, cancellationToken) : throw new IOException("getFile gave no file_path");
    }

    /// <summary>Pictures Telegram shows inline; others (and anything over sendPhoto's 10 MB) go as documents.</summary>
    public static bool IsPhoto(string contentType, long size) =>
        contentType is "image/jpeg" or "image/png" or "image/webp" && size <= 10 * 1024 * 1024;
}
