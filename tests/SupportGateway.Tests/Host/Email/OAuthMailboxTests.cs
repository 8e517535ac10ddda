using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SupportGateway.Host.Channels.Email;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>
/// OAuth 2.0 mailboxes against the real Dovecot and its oauth2 passdb: the gateway logs in with SASL XOAUTH2 using the
/// token its provider hands out (here the Command provider), and Dovecot asks the tests' introspection endpoint
/// whether the token is good.
/// </summary>
[NonParallelizable]
public sealed class OAuthMailboxTests
{
    private string _user = "";
    private string _directory = "";

    [OneTimeSetUp]
    public Task Servers() => MailServers.EnsureStartedAsync();

    [SetUp]
    public void Mailbox()
    {
        _user = "support" + Guid.NewGuid().ToString("N")[..10] + "@sg.test";
        _directory = TempDirectory.Create();
    }

    [TearDown]
    public void Clean() => TempDirectory.Delete(_directory);

    [Test]
    public async Task A_mailbox_logs_in_with_xoauth2_and_reads_mail()
    {
        await using var introspection = new IntrospectionServer(token => token.StartsWith("token-", StringComparison.Ordinal) ? _user : null);
        await AppendAsync("Вход по токену");
        var logs = new RecordingLoggerProvider();
        using var gateway = Gateway(logs);
        var agent = gateway.Agent();

        await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Contains("Вход по токену"), 20, () => "see /healthz and the test output");
        Assert.That(introspection.Asked, Is.EqualTo(new[] { "token-1" }), "one token, asked for once and checked once");
        Assert.That(TokenCommand.Calls(_directory), Is.EqualTo(1));
        Assert.That(await agent.GetStringAsync("/healthz"), Does.Contain("email:support: up"));
        Assert.That(logs.Lines.Select(l => l.Message), Has.None.Contains("token-1"), "the token is never logged");
    }

    [Test]
    public async Task An_expired_token_is_refreshed_by_asking_the_provider_again()
    {
        // The provider's first token has expired at the server before its stated lifetime.
        await using var introspection = new IntrospectionServer(token => token == "token-1" ? null : _user);
        await AppendAsync("Токен обновлён");
        using var gateway = Gateway(new RecordingLoggerProvider());
        var agent = gateway.Agent();

        await Eventually.HoldsAsync(async () => (await SubjectsAsync(agent)).Contains("Токен обновлён"), 20, () => "see /healthz and the test output");
        Assert.That(introspection.Asked, Is.EqualTo(new[] { "token-1", "token-2" }));
        Assert.That(TokenCommand.Calls(_directory), Is.EqualTo(2), "the refused token was replaced by a fresh one from the provider");
        Assert.That(await agent.GetStringAsync("/healthz"), Does.Contain("email:support: up"));
    }

    [Test]
    public async Task A_rejected_token_shows_on_healthz_and_in_one_log_line_while_the_reader_backs_off()
    {
        await using var introspection = new IntrospectionServer(_ => null);
        var logs = new RecordingLoggerProvider();
        using var gateway = Gateway(logs);
        var agent = gateway.Agent();

        // Two attempts, each with the kept token and a fresh one.
        await Eventually.HoldsAsync(() => Task.FromResult(introspection.Asked.Count >= 4), 20, () => $"{introspection.Asked.Count} tokens checked");
        var health = await agent.GetAsync("/healthz");
        var text = await health.Content.ReadAsStringAsync();
        Assert.That((int)health.StatusCode, Is.EqualTo(503), text);
        Assert.That(text, Does.Contain("email:support: down").And.Contain($"rejected the OAuth 2.0 token of Command for {_user}"));
        var warnings = logs.Lines.Where(l => l.Category.EndsWith(nameof(MailboxReader), StringComparison.Ordinal) && l.Level >= LogLevel.Warning).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1), string.Join("\n", warnings));
        Assert.That(warnings[0].Message, Does.Contain("rejected the OAuth 2.0 token"));
        Assert.That(logs.Lines.Select(l => l.Message), Has.None.Contains("token-1").And.None.Contains("token-3"), "no token is logged");
        Assert.That(introspection.Asked.Take(4), Is.EqualTo(new[] { "token-1", "token-2", "token-2", "token-3" }),
            "each attempt tries the kept token, then one fresh token from the provider, and gives up until the next attempt");
    }

    private GatewayFactory Gateway(RecordingLoggerProvider logs)
    {
        var (command, arguments) = TokenCommand.Numbered(_directory);
        var settings = MailServers.MailboxSettings(_user);
        const string key = "SupportGateway:Channels:Email:Mailboxes:0:";
        settings[key + "Imap:Port"] = MailServers.OAuthImapPort.ToString(CultureInfo.InvariantCulture);
        settings[key + "Imap:Auth"] = "OAuth2";
        settings[key + "Imap:Password"] = null;
        settings[key + "OAuth2:Provider"] = "Command";
        settings[key + "OAuth2:Command"] = command;
        for (var i = 0; i < arguments.Count; i++)
            settings[$"{key}OAuth2:Arguments:{i}"] = arguments[i];
        settings["SupportGateway:Channels:Email:AgentNotifications:NotifyAssignee"] = "false";
        return new GatewayFactory(settings, services: s => s.AddSingleton<ILoggerProvider>(logs));
    }

    private async Task AppendAsync(string subject)
    {
        using var imap = await MailServers.ImapAsync(_user, MailServers.OAuthImapPort);
        await imap.Inbox.AppendAsync(MimeKit.MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(
            $"From: customer@sg.test\r\nTo: {_user}\r\nSubject: =?utf-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(subject))}?=\r\n" +
            $"Message-ID: <{Guid.NewGuid():N}@client.sg.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{subject}\r\n"))));
    }

    private static async Task<List<string?>> SubjectsAsync(HttpClient agent) =>
        [.. (await agent.GetFromJsonAsync<JsonElement>("/api/v1/tickets")).EnumerateArray().Select(t => t.GetProperty("subject").GetString())];
}
