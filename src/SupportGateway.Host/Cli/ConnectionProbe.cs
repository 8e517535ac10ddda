using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Host.Channels.Telegram;
using SupportGateway.Host.Channels.WhatsApp;
using Telegram.Bot;

namespace SupportGateway.Host.Cli;

/// <summary>
/// Tries each configured connection once, the way the channels make it: IMAP connect and login, SMTP connect (EHLO)
/// and AUTH, Telegram getMe, Twilio's account and the Cloud API's phone number with their tokens. An error names the
/// server's answer; no secret is part of it (the token in a Bot API URL never reaches an exception message here).
/// </summary>
internal static class ConnectionProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public static async IAsyncEnumerable<(string Name, string? Error)> RunAsync(IServiceProvider services, [EnumeratorCancellation] CancellationToken ct)
    {
        var email = services.GetRequiredService<IOptions<EmailOptions>>().Value;
        var login = services.GetRequiredService<MailLogin>();
        foreach (var mailbox in email.Mailboxes)
        {
            yield return ($"email:{mailbox.Name}:imap", await TryAsync(() => ImapAsync(login, mailbox, ct), ct));
            yield return ($"email:{mailbox.Name}:smtp", await TryAsync(() => SmtpAsync(login, mailbox, ct), ct));
        }
        if (services.GetRequiredService<IOptions<TelegramOptions>>().Value.Enabled)
            yield return ("telegram", await TryAsync(() => services.GetRequiredService<PacedBotClient>().GetMe(ct), ct));
        var whatsApp = services.GetRequiredService<IOptions<WhatsAppOptions>>().Value;
        if (whatsApp.Twilio.Enabled)
            yield return ("whatsapp:twilio", await TryAsync(() => TwilioAsync(whatsApp.Twilio, ct), ct));
        if (whatsApp.Cloud.Enabled)
            yield return ("whatsapp:cloud", await TryAsync(() => CloudAsync(whatsApp.Cloud, ct), ct));
    }

    private static async Task<string?> TryAsync(Func<Task> probe, CancellationToken ct)
    {
        try
        {
            await probe().WaitAsync(Timeout, ct);
            return null;
        }
        catch (TimeoutException)
        {
            return $"no answer within {Timeout.TotalSeconds:0} s";
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    private static async Task ImapAsync(MailLogin login, MailboxOptions mailbox, CancellationToken ct)
    {
        using var client = new ImapClient();
        await MailLogin.ConnectAsync(client, mailbox.Imap, tlsPort: 993, startTlsPort: 143, ct);
        await login.AuthenticateAsync(client, mailbox, mailbox.Imap, ct);
        await client.DisconnectAsync(quit: true, ct);
    }

    private static async Task SmtpAsync(MailLogin login, MailboxOptions mailbox, CancellationToken ct)
    {
        using var client = new SmtpClient();
        // MailKit sends EHLO on connect (and again after STARTTLS); AUTH only when a user is configured.
        await MailLogin.ConnectAsync(client, mailbox.Smtp, tlsPort: 465, startTlsPort: 587, ct);
        await login.AuthenticateAsync(client, mailbox, mailbox.Smtp, ct);
        await client.DisconnectAsync(quit: true, ct);
    }

    /// <summary>GET /2010-04-01/Accounts/{AccountSid}.json with the account's basic auth: 200 when SID and token belong together.</summary>
    private static Task TwilioAsync(TwilioOptions twilio, CancellationToken ct)
    {
        var credentials = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{twilio.AccountSid}:{twilio.AuthToken}"));
        return GetAsync(new Uri($"{twilio.ApiBaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(twilio.AccountSid!)}.json"),
            new AuthenticationHeaderValue("Basic", credentials), ct);
    }

    /// <summary>GET /{version}/{phone-number-id} with the bearer token: the number's own record when the token may use it.</summary>
    private static Task CloudAsync(CloudOptions cloud, CancellationToken ct) =>
        GetAsync(new Uri($"{cloud.ApiBaseUrl.TrimEnd('/')}/{cloud.ApiVersion.Trim('/')}/{Uri.EscapeDataString(cloud.PhoneNumberId!)}?fields=display_phone_number"),
            new AuthenticationHeaderValue("Bearer", cloud.AccessToken ?? ""), ct);

    private static async Task GetAsync(Uri url, AuthenticationHeaderValue authorization, CancellationToken ct)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = authorization } };
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{url.Host} answered HTTP {(int)response.StatusCode} for {url.AbsolutePath}", null, response.StatusCode);
    }
}
