using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SupportGateway.Core.Pipeline;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>A file an inbound message names (MediaUrl{N}, MediaContentType{N}): enough to fetch it again later.</summary>
internal sealed record TwilioMediaRef(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("type")] string ContentType,
    [property: JsonPropertyName("name")] string Name);

/// <summary>
/// Inbound files. They are fetched before the ingest transaction (<see cref="PrefetchAsync"/>) and kept here until the
/// filter takes them, so the one database writer never waits on Twilio; what was not prefetched (or failed then) is
/// fetched again by <see cref="TwilioMediaFilter"/>. A file that still cannot be fetched is named in the text and
/// fetched again later (<see cref="FileRetryWorker"/>, through this class as its <see cref="IFileSource"/>): the
/// message is never dropped, and the file joins it when Twilio serves it.
/// </summary>
internal sealed class TwilioMedia(TwilioApi api, TimeProvider time, ILogger<TwilioMedia> logger) : IFileSource
{
    public const string Source = "whatsapp.twilio";

    public string Name => Source;

    /// <summary>A retry: Twilio keeps media until it is deleted, so a 404 means it is gone.</summary>
    public async Task<InboundAttachment> FetchAsync(string reference, CancellationToken cancellationToken)
    {
        var file = JsonSerializer.Deserialize<TwilioMediaRef>(reference) ?? throw new FileGoneException("an unreadable reference");
        try
        {
            return new InboundAttachment { FileName = file.Name, ContentType = file.ContentType, Content = await api.DownloadAsync(new Uri(file.Url), cancellationToken) };
        }
        catch (HttpRequestException ex) when (ex.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Gone)
        {
            throw new FileGoneException($"Twilio no longer has {file.Name}", ex);
        }
    }

    private const long CacheLimit = 128L * 1024 * 1024;
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, (byte[] Content, DateTimeOffset At)> _fetched = new();
    private long _cached;

    public static IReadOnlyList<TwilioMediaRef> Describe(IReadOnlyDictionary<string, string> form)
    {
        var count = int.TryParse(TwilioProvider.Value(form, "NumMedia"), CultureInfo.InvariantCulture, out var n) ? Math.Clamp(n, 0, 10) : 0;
        var files = new List<TwilioMediaRef>(count);
        for (var i = 0; i < count; i++)
        {
            if (TwilioProvider.Value(form, $"MediaUrl{i}") is not { } url || !Uri.IsWellFormedUriString(url, UriKind.Absolute))
                continue;
            var type = TwilioProvider.Value(form, $"MediaContentType{i}") ?? "application/octet-stream";
            // Twilio names no file: the media's own sid (ME…) and an extension for its type.
            files.Add(new(url, type, new Uri(url).Segments[^1].Trim('/') + Extension(type)));
        }
        return files;
    }

    public async Task PrefetchAsync(IReadOnlyList<TwilioMediaRef> files, CancellationToken cancellationToken)
    {
        foreach (var (key, entry) in _fetched.Where(e => time.GetUtcNow() - e.Value.At > CacheLifetime))
        {
            if (_fetched.TryRemove(key, out _))
                Interlocked.Add(ref _cached, -entry.Content.LongLength);
        }
        foreach (var file in files.Where(f => !_fetched.ContainsKey(f.Url)))
        {
            if (Interlocked.Read(ref _cached) + TwilioApi.MaxMedia > CacheLimit)
                return;
            var content = await api.DownloadAsync(new Uri(file.Url), cancellationToken);
            if (_fetched.TryAdd(file.Url, (content, time.GetUtcNow())))
                Interlocked.Add(ref _cached, content.LongLength);
        }
    }

    /// <summary>The files as attachments, lines for the text about those that could not be fetched, and those to fetch again.</summary>
    public async Task<(List<InboundAttachment> Attachments, List<string> Notes, List<MissingFile> Missing)> DownloadAsync(IReadOnlyList<TwilioMediaRef> files,
        CancellationToken cancellationToken)
    {
        var (attachments, notes, missing) = (new List<InboundAttachment>(), new List<string>(), new List<MissingFile>());
        foreach (var file in files)
        {
            try
            {
                byte[] content;
                if (_fetched.TryRemove(file.Url, out var prefetched))
                {
                    Interlocked.Add(ref _cached, -prefetched.Content.LongLength);
                    content = prefetched.Content;
                }
                else
                {
                    content = await api.DownloadAsync(new Uri(file.Url), cancellationToken);
                }
                attachments.Add(new InboundAttachment { FileName = file.Name, ContentType = file.ContentType, Content = content });
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("WhatsApp file {FileName} could not be downloaded from Twilio: {Error}", file.Name, ex.Message);
                notes.Add($"[{file.Name} ({file.ContentType}): could not be downloaded yet ({ex.Message}); it is fetched again later]");
                missing.Add(new MissingFile(Source, JsonSerializer.Serialize(file), file.Name));
            }
        }
        return (attachments, notes, missing);
    }

    private static string Extension(string contentType) => contentType.Split(';')[0].Trim().ToLowerInvariant() switch
    {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/webp" => ".webp",
        "image/gif" => ".gif",
        "application/pdf" => ".pdf",
        "audio/ogg" => ".ogg",
        "audio/mpeg" => ".mp3",
        "audio/amr" => ".amr",
        "audio/aac" => ".aac",
        "video/mp4" => ".mp4",
        "video/3gpp" => ".3gp",
        "text/vcard" or "text/x-vcard" => ".vcf",
        "text/plain" => ".txt",
        _ => "",
    };
}

/// <summary>Puts a Twilio message's files on it (prefetched, or fetched now); a file that fails is a line in the text.</summary>
internal sealed class TwilioMediaFilter(TwilioMedia media) : IInboundFilter
{
    // Before the WhatsApp conversation rules (250): "/new" with a photo opens a request with it.
    public int Order => 240;

    public async ValueTask RunAsync(InboundContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        if (message.Channel != WhatsAppChannel.Name || message.Account != TwilioNormalizer.Account
            || message.TechnicalDetails?.GetValueOrDefault(TwilioNormalizer.Media) is not { } described)
            return;
        var files = JsonSerializer.Deserialize<List<TwilioMediaRef>>(described) ?? [];
        var (attachments, notes, missing) = await media.DownloadAsync(files, cancellationToken);
        // The references stay in the details only while a file is missing: they say what is fetched again.
        var kept = message.TechnicalDetails.Where(d => d.Key != TwilioNormalizer.Media || notes.Count > 0).ToDictionary();
        context.Message = message with
        {
            Attachments = [.. message.Attachments, .. attachments],
            MissingFiles = [.. message.MissingFiles, .. missing],
            Text = notes.Count == 0 ? message.Text : $"{message.Text}\n{string.Join('\n', notes)}".Trim(),
            TechnicalDetails = kept,
        };
    }
}
