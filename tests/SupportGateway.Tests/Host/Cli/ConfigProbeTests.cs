using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

/// <summary>
/// <c>check-config --probe</c>: each configured connection tried once, one line each, secrets never printed. Mail
/// against the real Postfix and Dovecot; Telegram and WhatsApp against their stand-ins speaking the documented API.
/// </summary>
public sealed class ConfigProbeTests
{
    private const string Mailbox = "SupportGateway__Channels__Email__Mailboxes__0__";
    private string _directory = "";

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public void SetUp() => _directory = TempDirectory.Create();

    [TearDown]
    public void TearDown() => TempDirectory.Delete(_directory);

    private Dictionary<string, string> MailboxEnv(string password)
    {
        var env = GatewayProcess.Environment(_directory);
        foreach (var (key, value) in MailServers.MailboxSettings("support-probe@sg.test"))
        {
            if (value is not null)
                env[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }
        env[Mailbox + "Imap__Password"] = password;
        env["SupportGateway__Channels__Email__AgentNotifications__Secret"] = "a-secret-of-at-least-thirty-two-characters";
        return env;
    }

    [Test]
    public async Task Probe_logs_in_to_imap_and_greets_smtp()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, MailboxEnv(MailServers.Password), "check-config", "--probe");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("probe email:support:imap: ok").And.Contain("probe email:support:smtp: ok"));
    }

    [Test]
    public async Task A_refused_imap_login_fails_the_probe_with_one_line_and_no_password()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, MailboxEnv("wrong-password-never-printed"), "check-config", "--probe");
        Assert.That(exit, Is.EqualTo(1), output);
        var line = output.Split('\n').Single(l => l.StartsWith("probe email:support:imap:", StringComparison.Ordinal));
        Assert.That(line, Does.Contain("failed (").And.Contain("Authentication"));
        Assert.That(output, Does.Contain("probe email:support:smtp: ok"));
        Assert.That(output, Does.Not.Contain("wrong-password-never-printed"));
    }

    [Test]
    public async Task Probe_asks_telegram_getme_and_names_a_refused_token()
    {
        await using var bot = new FakeBotApi();
        var env = GatewayProcess.Environment(_directory);
        env["SupportGateway__Channels__Telegram__ApiBaseUrl"] = bot.BaseUrl;
        env["SupportGateway__Channels__Telegram__BotToken"] = FakeBotApi.Token;
        var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "check-config", "--probe");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("probe telegram: ok"));

        env["SupportGateway__Channels__Telegram__BotToken"] = "123456:WRONG-token-never-printed";
        (exit, output) = await GatewayProcess.RunAsync(_directory, env, "check-config", "--probe");
        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("probe telegram: failed (").And.Not.Contain("WRONG-token-never-printed"));
    }

    [Test]
    public async Task Probe_checks_the_twilio_account_and_the_cloud_api_token()
    {
        await using var twilio = new FakeTwilioApi();
        await using var graph = new FakeGraphApi();
        var env = GatewayProcess.Environment(_directory);
        env["SupportGateway__Channels__WhatsApp__PublicBaseUrl"] = "https://support.sg.test";
        env["SupportGateway__Channels__WhatsApp__Twilio__AccountSid"] = FakeTwilioApi.AccountSid;
        env["SupportGateway__Channels__WhatsApp__Twilio__AuthToken"] = FakeTwilioApi.AuthToken;
        env["SupportGateway__Channels__WhatsApp__Twilio__From"] = "whatsapp:+15550001111";
        env["SupportGateway__Channels__WhatsApp__Twilio__WebhookUrl"] = "https://support.sg.test/webhooks/whatsapp/twilio";
        env["SupportGateway__Channels__WhatsApp__Twilio__ApiBaseUrl"] = twilio.BaseUrl;
        env["SupportGateway__Channels__WhatsApp__Cloud__PhoneNumberId"] = FakeGraphApi.PhoneNumberId;
        env["SupportGateway__Channels__WhatsApp__Cloud__AccessToken"] = FakeGraphApi.Token;
        env["SupportGateway__Channels__WhatsApp__Cloud__AppSecret"] = "cloud-app-secret-0001";
        env["SupportGateway__Channels__WhatsApp__Cloud__VerifyToken"] = "verify-token-at-least-16";
        env["SupportGateway__Channels__WhatsApp__Cloud__ApiBaseUrl"] = graph.BaseUrl;
        env["SupportGateway__Channels__WhatsApp__Cloud__ApiVersion"] = FakeGraphApi.Version;

        var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "check-config", "--probe");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("probe whatsapp:twilio: ok").And.Contain("probe whatsapp:cloud: ok"));

        env["SupportGateway__Channels__WhatsApp__Twilio__AuthToken"] = "wrong-twilio-token";
        env["SupportGateway__Channels__WhatsApp__Cloud__AccessToken"] = "EAAG-wrong-access-token";
        (exit, output) = await GatewayProcess.RunAsync(_directory, env, "check-config", "--probe");
        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("probe whatsapp:twilio: failed (").And.Contain("HTTP 401"));
        Assert.That(output, Does.Contain("probe whatsapp:cloud: failed ("));
        Assert.That(output, Does.Not.Contain("wrong-twilio-token").And.Not.Contain("EAAG-wrong-access-token"));
    }
}
