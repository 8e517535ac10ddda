using System.Text.Json;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Tickets;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// Answers on WhatsApp through Twilio's Messages API (<c>POST /2010-04-01/Accounts/{AccountSid}/Messages.json</c>):
/// the text in parts (the resolution notice as the <c>resolution</c> quick-reply template when one is configured), then
/// each file as a message of its own with MediaUrl (a signed link, <see cref="WhatsAppFileLinks"/>), from the configured
/// sender, with the status callback when one is configured. Files WhatsApp does not take are told to the agents
/// (<see cref="WhatsAppMediaLimits"/>). Twilio's errors
/// sort into four: the 24-hour window is closed (the answer is held, see <see cref="WhatsAppSender"/>), the recipient is gone (unreachable, the agents are told), the request will never succeed
/// (permanent), and throughput or Twilio's own trouble (a normal exception: the outbox tries again with backoff).
/// </summary>
internal sealed class TwilioSender(TwilioApi api, WhatsAppFileLinks links, IOptions<WhatsAppOptions> options) : IWhatsAppProvider
{
    // Twilio refuses a Body over 1,600 characters (error 21617), below WhatsApp's own 4,096.
    public const int MaxText = 1600;

    /// <summary>Outside the 24-hour customer-service window a free-form message is refused.</summary>
    public const int WindowClosed = 63016;

    /// <summary>
    /// The number is not on WhatsApp or cannot get messages from us: 63003 (channel could not find the To address),
    /// 63024 (invalid message recipient), 21211 (invalid To number), 21610 (the recipient unsubscribed).
    /// </summary>
    public static readonly IReadOnlySet<int> Unreachable = new HashSet<int> { 63003, 63024, 21211, 21610 };

    // 20429 (too many requests), 63018 (the channel's rate limit), 63038 (the account's daily limit): later will do.
    private static readonly HashSet<int> Throttled = [20429, 63018, 63038];

    public string Name => TwilioNormalizer.Account;

    public bool Enabled => options.Value.Twilio.Enabled;

    public async Task<DeliveryReceipt> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value.Twilio;
        var to = new PhoneNumber("whatsapp:" + message.Recipient);
        var callback = string.IsNullOrWhiteSpace(settings.StatusCallbackUrl) ? null : new Uri(settings.StatusCallbackUrl);
        string? first = null;
        if (ResolutionTemplate(message) is { } resolution)
        {
            // The notice with the quick-reply buttons: their ids carry the verdict and the ticket (sg:c:{{1}}, sg:r:{{1}}).
            var variables = JsonSerializer.Serialize(new Dictionary<string, string> { ["1"] = message.Ticket.Number, ["2"] = message.Message.Text });
            first = (await CreateAsync(new CreateMessageOptions(to)
            {
                From = new PhoneNumber(settings.From),
                ContentSid = resolution,
                ContentVariables = variables,
                StatusCallback = callback,
            }, cancellationToken)).Sid;
        }
        else
        {
            foreach (var part in TextParts.Split(message.Message.Text, MaxText))
            {
                var created = await CreateAsync(new CreateMessageOptions(to) { From = new PhoneNumber(settings.From), Body = part, StatusCallback = callback },
                    cancellationToken);
                // A customer's reply to the first part finds the ticket; the sid is Twilio's, "tw:" like inbound messages.
                first ??= created.Sid;
            }
        }
        // Each file is a message of its own with MediaUrl: a signed link of ours that Twilio fetches.
        var (files, refused) = WhatsAppMediaLimits.SortForTwilio(message.Attachments);
        foreach (var file in files)
        {
            var created = await CreateAsync(new CreateMessageOptions(to)
            {
                From = new PhoneNumber(settings.From),
                MediaUrl = [links.For(file)],
                StatusCallback = callback,
            }, cancellationToken);
            first ??= created.Sid;
        }
        return new DeliveryReceipt(first is null ? null : TwilioNormalizer.Prefix + first, WhatsAppMediaLimits.AgentsNote(message.Recipient, refused));
    }

    public Task SendTextAsync(string recipient, string text, CancellationToken cancellationToken)
    {
        var settings = options.Value.Twilio;
        return CreateAsync(new CreateMessageOptions(new PhoneNumber("whatsapp:" + recipient)) { From = new PhoneNumber(settings.From), Body = text }, cancellationToken);
    }

    /// <summary>The ContentSid of the <c>resolution</c> template when this is the resolution notice and one is configured.</summary>
    private string? ResolutionTemplate(OutboundMessage message) =>
        options.Value.Twilio.Templates.GetValueOrDefault(ResolutionKey) is { Length: > 0 } contentSid
        && message.Message.TechnicalDetails is { } json
        && JsonSerializer.Deserialize<Dictionary<string, string>>(json)?.GetValueOrDefault(TicketTransitions.PromptKey) == TicketTransitions.ResolutionPrompt
            ? contentSid
            : null;

    /// <summary>The purpose of the quick-reply content template that carries the resolution notice.</summary>
    public const string ResolutionKey = "resolution";

    /// <summary>The content template by its ContentSid, its variables {{1}} the ticket number and {{2}} the answer's start.</summary>
    public async Task<bool> SendWindowTemplateAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value.Twilio;
        if (settings.Templates.GetValueOrDefault(WhatsAppWindow.Template) is not { Length: > 0 } contentSid)
            return false;
        var variables = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["1"] = message.Ticket.Number, ["2"] = WhatsAppWindow.Preview(message.Message.Text),
        });
        var callback = string.IsNullOrWhiteSpace(settings.StatusCallbackUrl) ? null : new Uri(settings.StatusCallbackUrl);
        await CreateAsync(new CreateMessageOptions(new PhoneNumber("whatsapp:" + message.Recipient))
        {
            From = new PhoneNumber(settings.From), ContentSid = contentSid, ContentVariables = variables, StatusCallback = callback,
        }, cancellationToken);
        return true;
    }

    private async Task<MessageResource> CreateAsync(CreateMessageOptions request, CancellationToken cancellationToken)
    {
        try
        {
            // The SDK takes no cancellation token; its HttpClient has a timeout of its own.
            return await MessageResource.CreateAsync(request, api.Rest).WaitAsync(cancellationToken);
        }
        catch (ApiException ex) when (ex.Code == WindowClosed)
        {
            throw new WhatsAppWindowClosedException($"Twilio {WindowClosed}: outside the 24-hour window only an approved template may be sent", ex);
        }
        catch (ApiException ex) when (Unreachable.Contains(ex.Code))
        {
            throw new RecipientUnreachableException($"Twilio {ex.Code}: {ex.Message}", ex);
        }
        catch (ApiException ex) when (ex.Status is >= 400 and < 500 and not 429 and not 408 && !Throttled.Contains(ex.Code))
        {
            throw new PermanentDeliveryException($"Twilio refused ({ex.Status}, error {ex.Code}): {ex.Message}", ex);
        }
    }
}
