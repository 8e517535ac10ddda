using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// Answers through the Cloud API: text in parts below 4,096 characters, the first as a reply to the customer's last
/// message; an agent's files uploaded and sent by media id; the resolution notice as an interactive message with two
/// reply buttons. 131047 (more than 24 h since the customer wrote) holds the answer and sends the <c>window</c>
/// template instead (see <see cref="WhatsAppSender"/>). Rate limits and 5xx are waited out in
/// <see cref="CloudApiClient"/> and then left to the outbox's retries; any other 4xx will not get better.
/// </summary>
internal sealed class CloudSender(CloudApiClient api, OutboundFiles files, IOptions<WhatsAppOptions> options) : IWhatsAppProvider
{
    public string Name => CloudNormalizer.Account;

    public bool Enabled => options.Value.Cloud.Enabled;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var phone = options.Value.Cloud.PhoneNumberId!;
        // A group's address (group:…) goes as it is: SendMessage makes it recipient_type "group".
        var group = WhatsAppNumbers.GroupOf(message.Recipient);
        var to = group is not null ? message.Recipient : (WhatsAppNumbers.ToE164(message.Recipient) ?? message.Recipient).TrimStart('+');
        // Only a Cloud API message can be quoted: the ticket's last inbound may have come through Twilio (an SM… sid).
        var context = message.InReplyTo is { Channel: WhatsAppChannel.Name, ExternalId: ['w', 'a', ':', .. var id] } && id.StartsWith("wamid.", StringComparison.Ordinal)
            ? new CloudContext(id)
            : null;
        try
        {
            string? first = null;
            // Groups take text and media only: there the resolution notice is its text, asking for a reply.
            var buttons = group is null ? Buttons(message) : null;
            var text = message.Message.Text;
            var parts = string.IsNullOrWhiteSpace(text) ? [] : TextParts.Split(text, SendMessage.MaxText);
            // The buttons' body takes at most 1,024 characters: a longer notice goes as text, the buttons with its end.
            if (buttons is not null && parts.Count > 0 && parts[^1].Length > CloudInteractive.MaxBody)
                parts = [.. parts[..^1], .. TextParts.Split(parts[^1], CloudInteractive.MaxBody)];
            for (var i = 0; i < parts.Count; i++)
            {
                var request = buttons is not null && i == parts.Count - 1
                    ? new SendMessage(phone, to, "interactive") { Interactive = new CloudInteractive(new CloudBody(parts[i]), buttons) }
                    : new SendMessage(phone, to, "text") { Text = new CloudText(parts[i]) };
                // Not "first ??= await …": that would skip the send of every part after the first.
                var sent = await SendOneAsync(request with { Context = i == 0 ? context : null }, cancellationToken);
                first ??= sent;
            }
            var refused = new List<string>();
            foreach (var (file, content) in await files.LoadAsync(message, cancellationToken))
            {
                var type = Kind(file.ContentType, content.LongLength);
                if (type is null)
                {
                    refused.Add($"{file.FileName} ({content.LongLength / 1024} KB: over WhatsApp's 100 MB)");
                    continue;
                }
                var uploaded = await api.SendAsync(new UploadMedia(phone, file.FileName, file.ContentType, content), cancellationToken);
                var media = new CloudMediaObject(uploaded.Id);
                var request = type switch
                {
                    "image" => new SendMessage(phone, to, type) { Image = media },
                    "audio" => new SendMessage(phone, to, type) { Audio = media },
                    "video" => new SendMessage(phone, to, type) { Video = media },
                    _ => new SendMessage(phone, to, type) { Document = media with { FileName = file.FileName } },
                };
                var sentFile = await SendOneAsync(request with { Context = context }, cancellationToken);
                first ??= sentFile;
            }
            return new DeliveryReceipt(first is null ? null : "wa:" + first, WhatsAppMediaLimits.AgentsNote(message.Recipient, refused));
        }
        catch (CloudApiException ex) when (ex.Code == CloudApiException.OutsideWindow)
        {
            throw new WhatsAppWindowClosedException($"WhatsApp {CloudApiException.OutsideWindow}: outside the 24-hour window only an approved template may be sent", ex);
        }
        catch (CloudApiException ex) when (!ex.Transient)
        {
            throw new PermanentDeliveryException(ex.Message, ex);
        }
    }

    public Task SendTextAsync(string recipient, string text, CancellationToken cancellationToken) =>
        SendOneAsync(new SendMessage(options.Value.Cloud.PhoneNumberId!, (WhatsAppNumbers.ToE164(recipient) ?? recipient).TrimStart('+'), "text") { Text = new CloudText(text) },
            cancellationToken);

    /// <summary>The approved template by name, in the ticket's language; body parameters: the ticket number and the answer's start.</summary>
    public async Task<bool> SendWindowTemplateAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (options.Value.Cloud.Templates.GetValueOrDefault(WhatsAppWindow.Template) is not { Length: > 0 } name)
            return false;
        var to = (WhatsAppNumbers.ToE164(message.Recipient) ?? message.Recipient).TrimStart('+');
        var body = new CloudComponent("body", [new CloudParameter("text", message.Ticket.Number), new CloudParameter("text", WhatsAppWindow.Preview(message.Message.Text))]);
        var template = new CloudTemplate(name, new CloudLanguage(message.Ticket.Language), [body]);
        try
        {
            await SendOneAsync(new SendMessage(options.Value.Cloud.PhoneNumberId!, to, "template") { Template = template }, cancellationToken);
        }
        catch (CloudApiException ex) when (!ex.Transient)
        {
            throw new PermanentDeliveryException($"The window template '{name}' was refused: {ex.Message}", ex);
        }
        return true;
    }

    private async Task<string?> SendOneAsync(SendMessage request, CancellationToken cancellationToken) =>
        (await api.SendAsync(request, cancellationToken)).Messages.FirstOrDefault()?.Id;

    /// <summary>
    /// The message type for a file (Meta's supported media): JPEG and PNG up to 5 MB as an image, AAC, AMR, MP3, M4A
    /// and OGG audio and MP4 and 3GP video up to 16 MB as themselves; anything else, up to 100 MB, as a document; null
    /// when it is too large for any.
    /// </summary>
    private static string? Kind(string contentType, long size) => contentType.Split(';')[0].Trim().ToLowerInvariant() switch
    {
        "image/jpeg" or "image/png" when size <= 5L << 20 => "image",
        "audio/aac" or "audio/amr" or "audio/mpeg" or "audio/mp4" or "audio/ogg" when size <= 16L << 20 => "audio",
        "video/mp4" or "video/3gpp" when size <= 16L << 20 => "video",
        _ when size <= DownloadMedia.MaxSize => "document",
        _ => null,
    };

    /// <summary>The resolution notice asks with two reply buttons, in the ticket's language (titles at most 20 characters).</summary>
    private static CloudAction? Buttons(OutboundMessage message)
    {
        if (message.Message.TechnicalDetails is not { } json
            || JsonSerializer.Deserialize<Dictionary<string, string>>(json)?.GetValueOrDefault(TicketTransitions.PromptKey) != TicketTransitions.ResolutionPrompt)
            return null;
        var russian = message.Ticket.Language == "ru";
        return new CloudAction([
            new CloudButton(new CloudReply(CloudNormalizer.VerdictId(CustomerVerdict.Confirms, message.Ticket.Number), russian ? "Решено ✅" : "Solved ✅")),
            new CloudButton(new CloudReply(CloudNormalizer.VerdictId(CustomerVerdict.Rejects, message.Ticket.Number), russian ? "Не решено ❌" : "Not solved ❌")),
        ]);
    }
}
