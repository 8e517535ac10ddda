using System.Collections.Concurrent;
using System.Text.Json;
using SupportGateway.Core.Pipeline;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>A file a customer's message carries, as the normaliser found it: enough to fetch it by its media id.</summary>
internal sealed record CloudFileRef(string MediaId, string Name, string ContentType);

/// <summary>
/// Customers' files: <c>GET /{media-id}</c> for a URL, then that URL with the bearer token. They are fetched before
/// the ingest transaction (<see cref="PrefetchAsync"/>, from the normaliser's PrepareAsync) and kept here until the
/// normaliser takes them, so the database writer never waits on Meta. A file that could not be fetched is named in
/// the message by the normaliser and fetched again later through this class (<see cref="IFileSource"/>) until Meta
/// says its media id is gone.
/// </summary>
internal sealed class CloudMedia(CloudApiClient api, TimeProvider time, ILogger<CloudMedia> logger) : IFileSource
{
    public const string Source = "whatsapp.cloud";

    public string Name => Source;

    public static MissingFile Missing(CloudFileRef file) => new(Source, JsonSerializer.Serialize(file), file.Name);

    /// <summary>A retry; an id Meta no longer knows (error 100, or 404) is gone: media ids expire.</summary>
    public async Task<InboundAttachment> FetchAsync(string reference, CancellationToken cancellationToken)
    {
        var file = JsonSerializer.Deserialize<CloudFileRef>(reference) ?? throw new FileGoneException("an unreadable reference");
        try
        {
            return new InboundAttachment { FileName = file.Name, ContentType = file.ContentType, Content = await FetchAsync(file, cancellationToken) };
        }
        catch (CloudApiException ex) when (ex.Status == 404 || ex.Code == 100)
        {
            throw new FileGoneException($"WhatsApp no longer has media {file.MediaId}", ex);
        }
    }

    private const long CacheLimit = 256L * 1024 * 1024;
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, (byte[] Content, DateTimeOffset At)> _fetched = new();
    private long _cached;

    public async Task PrefetchAsync(IReadOnlyList<CloudFileRef> files, CancellationToken cancellationToken)
    {
        foreach (var (key, entry) in _fetched.Where(e => time.GetUtcNow() - e.Value.At > CacheLifetime))
        {
            if (_fetched.TryRemove(key, out _))
                Interlocked.Add(ref _cached, -entry.Content.LongLength);
        }
        foreach (var file in files.Where(f => !_fetched.ContainsKey(f.MediaId)))
        {
            if (Interlocked.Read(ref _cached) > CacheLimit)
                return;
            try
            {
                var content = await FetchAsync(file, cancellationToken);
                if (_fetched.TryAdd(file.MediaId, (content, time.GetUtcNow())))
                    Interlocked.Add(ref _cached, content.LongLength);
            }
            catch (Exception ex) when (ex is CloudApiException or IOException or HttpRequestException)
            {
                // The message still counts; the file is fetched again later (FileRetryWorker).
                logger.LogWarning("WhatsApp file {FileName} (media {MediaId}) could not be downloaded: {Error}", file.Name, file.MediaId, ex.Message);
            }
        }
    }

    /// <summary>The fetched file, once: the normaliser takes it into the message.</summary>
    public byte[]? Take(string mediaId)
    {
        if (!_fetched.TryRemove(mediaId, out var entry))
            return null;
        Interlocked.Add(ref _cached, -entry.Content.LongLength);
        return entry.Content;
    }

    private async Task<byte[]> FetchAsync(CloudFileRef file, CancellationToken cancellationToken)
    {
        var info = await api.SendAsync(new GetMedia(file.MediaId), cancellationToken);
        if (info.FileSize > DownloadMedia.MaxSize)
            throw new IOException($"{info.FileSize} bytes, over the Cloud API's 100 MB");
        return info.Url is { Length: > 0 } url
            ? await api.SendAsync(new DownloadMedia(url), cancellationToken)
            : throw new IOException("the media answer had no url");
    }
}
