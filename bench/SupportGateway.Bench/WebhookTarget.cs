using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Twilio.Security;

/// <summary>
/// What the webhook bench posts and to which gateway: the configuration that turns the provider on against the
/// stand-in, the health line that says it is ready, and a builder of the n-th signed delivery. Deliveries spread over
/// a thousand customers, so the backlog holds new tickets (each acknowledged) and follow-ups alike.
/// </summary>
internal sealed record WebhookTarget(string Name, string Channel, string Ready, IReadOnlyDictionary<string, string> Environment,
    Func<long, HttpRequestMessage> Request)
{
    private const int Customers = 1000;

    public static WebhookTarget Telegram(string corpus, string apiBaseUrl)
    {
        const string secret = "bench-webhook-secret-0123456789";
        // The corpus text message, as update n: message n from one of the customers' private chats. The Bot API's
        // update_id is a 32-bit integer (Telegram.Bot reads it as int); a chat's message_id is unique in it.
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(corpus, "telegram/nutgram/updates/text.json")))!;
        var message = json["message"]!;
        json["update_id"] = -1;
        message["message_id"] = -2;
        message["from"]!["id"] = -3;
        message["chat"]!["id"] = -3;
        message["text"] = "Не приходит счёт за ноябрь, сообщение __ID__";
        var template = json.ToJsonString();
        return new("Telegram", "telegram", "telegram: up (webhook https", new Dictionary<string, string>
        {
            ["SupportGateway__Channels__Telegram__BotToken"] = "1:bench-token",
            ["SupportGateway__Channels__Telegram__ApiBaseUrl"] = apiBaseUrl,
            ["SupportGateway__Channels__Telegram__Mode"] = "Webhook",
            ["SupportGateway__Channels__Telegram__WebhookUrl"] = "https://support.example/webhooks/telegram",
            ["SupportGateway__Channels__Telegram__WebhookSecret"] = secret,
        }, id =>
        {
            var n = id.ToString(CultureInfo.InvariantCulture);
            var customer = (7_000_000 + id % Customers).ToString(CultureInfo.InvariantCulture);
            var body = template.Replace("-1", n, StringComparison.Ordinal).Replace("-2", n, StringComparison.Ordinal)
                .Replace("-3", customer, StringComparison.Ordinal).Replace("__ID__", n, StringComparison.Ordinal);
            var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
            return request;
        });
    }

    /// <summary>Twilio's inbound-message form, signed for the configured WebhookUrl; the first signature is checked with the SDK's RequestValidator.</summary>
    public static WebhookTarget Twilio(string apiBaseUrl)
    {
        const string token = "bench-twilio-auth-token-0123456789";
        const string url = "https://support.example/webhooks/whatsapp/twilio";
        var checkedOnce = false;
        return new("WhatsApp (Twilio)", "whatsapp", "whatsapp: up", new Dictionary<string, string>
        {
            ["SupportGateway__Channels__WhatsApp__Twilio__AccountSid"] = "AC00000000000000000000000000000bench",
            ["SupportGateway__Channels__WhatsApp__Twilio__AuthToken"] = token,
            ["SupportGateway__Channels__WhatsApp__Twilio__From"] = "whatsapp:+14155238886",
            ["SupportGateway__Channels__WhatsApp__Twilio__WebhookUrl"] = url,
            ["SupportGateway__Channels__WhatsApp__PublicBaseUrl"] = "https://support.example",
            ["SupportGateway__Channels__WhatsApp__Twilio__ApiBaseUrl"] = apiBaseUrl,
        }, id =>
        {
            var sid = $"SM{id:x32}";
            var from = "+7916" + (id % Customers).ToString("D7", CultureInfo.InvariantCulture);
            var fields = new Dictionary<string, string>
            {
                ["SmsMessageSid"] = sid, ["MessageSid"] = sid, ["SmsSid"] = sid, ["AccountSid"] = "AC00000000000000000000000000000bench",
                ["NumMedia"] = "0", ["ProfileName"] = "Иван Петров", ["WaId"] = from[1..], ["SmsStatus"] = "received",
                ["To"] = "whatsapp:+14155238886", ["From"] = "whatsapp:" + from, ["NumSegments"] = "1", ["ApiVersion"] = "2010-04-01",
                ["MessageType"] = "text", ["Body"] = $"Не приходит счёт за ноябрь, сообщение {id}",
            };
            var signature = TwilioSign(token, url, fields);
            if (!checkedOnce)
            {
                if (!new RequestValidator(token).Validate(url, fields, signature))
                    throw new InvalidOperationException("the bench's Twilio signature is not what RequestValidator expects");
                checkedOnce = true;
            }
            var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/twilio") { Content = new FormUrlEncodedContent(fields) };
            request.Headers.Add("X-Twilio-Signature", signature);
            return request;
        });
    }

    /// <summary>A Cloud API delivery of one text message (the pywa corpus fixture), signed over its raw bytes with the app secret.</summary>
    public static WebhookTarget Cloud(string corpus, string apiBaseUrl)
    {
        const string secret = "bench-cloud-app-secret-0123456789";
        const string phoneNumberId = "106540352242922";
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(corpus, "whatsapp/meta-cloud-api/pywa/message__text.json")))!;
        var value = json["entry"]![0]!["changes"]![0]!["value"]!;
        value["metadata"]!["phone_number_id"] = phoneNumberId;
        value["contacts"]![0]!["wa_id"] = "__FROM__";
        value["messages"]![0]!["from"] = "__FROM__";
        value["messages"]![0]!["id"] = "__WAMID__";
        value["messages"]![0]!["text"]!["body"] = "Не приходит счёт за ноябрь, сообщение __WAMID__";
        var template = json.ToJsonString();
        var key = Encoding.UTF8.GetBytes(secret);
        return new("WhatsApp (Cloud API)", "whatsapp", "whatsapp: up", new Dictionary<string, string>
        {
            ["SupportGateway__Channels__WhatsApp__Cloud__PhoneNumberId"] = phoneNumberId,
            ["SupportGateway__Channels__WhatsApp__Cloud__AccessToken"] = "EAAG-bench-access-token",
            ["SupportGateway__Channels__WhatsApp__Cloud__AppSecret"] = secret,
            ["SupportGateway__Channels__WhatsApp__Cloud__VerifyToken"] = "bench-verify-token-0123",
            ["SupportGateway__Channels__WhatsApp__Cloud__ApiBaseUrl"] = apiBaseUrl,
        }, id =>
        {
            var from = "7916" + (id % Customers).ToString("D7", CultureInfo.InvariantCulture);
            var body = Encoding.UTF8.GetBytes(template.Replace("__FROM__", from, StringComparison.Ordinal)
                .Replace("__WAMID__", $"wamid.BENCH{id}", StringComparison.Ordinal));
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = content };
            request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, body)));
            return request;
        });
    }

    /// <summary>Twilio's documented scheme: Base64(HMAC-SHA1(auth token, URL + each name and value, sorted by name)).</summary>
    private static string TwilioSign(string token, string url, Dictionary<string, string> fields)
    {
        var text = new StringBuilder(url);
        foreach (var (name, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
            text.Append(name).Append(value);
        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(text.ToString())));
    }
}
