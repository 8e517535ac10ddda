using SupportGateway.Host.Channels.Email;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Email;

/// <summary>The generic token providers (Command, File) and the OAuth2 settings' checks at start.</summary>
public sealed class MailTokensTests
{
    [Test]
    public async Task A_command_token_is_kept_until_five_minutes_before_it_expires_then_asked_for_again()
    {
        var directory = TempDirectory.Create();
        var time = new ManualTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var (command, arguments) = TokenCommand.Numbered(directory);
        var tokens = new MailTokens(time).For(Mailbox(new OAuth2Options { Provider = OAuth2Provider.Command, Command = command, Arguments = arguments }));

        Assert.That(await tokens.GetAsync(fresh: false, CancellationToken.None), Is.EqualTo("token-1"));
        time.Advance(TimeSpan.FromMinutes(54));
        Assert.That(await tokens.GetAsync(fresh: false, CancellationToken.None), Is.EqualTo("token-1"), "an hour's token is kept");
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(await tokens.GetAsync(fresh: false, CancellationToken.None), Is.EqualTo("token-2"), "renewed five minutes before it expires");
        Assert.That(await tokens.GetAsync(fresh: true, CancellationToken.None), Is.EqualTo("token-3"), "a fresh one when the server refused the kept one");
        Assert.That(TokenCommand.Calls(directory), Is.EqualTo(3));
        TempDirectory.Delete(directory);
    }

    [Test]
    public async Task A_token_file_is_read_for_each_login_and_a_failing_command_says_so_without_its_output()
    {
        var directory = TempDirectory.Create();
        var file = Path.Combine(directory, "token");
        await File.WriteAllTextAsync(file, "ya29.first\n");
        var tokens = new MailTokens(TimeProvider.System);
        var fromFile = tokens.For(Mailbox(new OAuth2Options { Provider = OAuth2Provider.File, TokenFile = file }));
        Assert.That(await fromFile.GetAsync(false, CancellationToken.None), Is.EqualTo("ya29.first"));
        await File.WriteAllTextAsync(file, """{"access_token":"ya29.second","expires_in":"3599"}""");
        Assert.That(await fromFile.GetAsync(false, CancellationToken.None), Is.EqualTo("ya29.second"), "a sidecar renewed the file");

        var failing = new MailTokens(TimeProvider.System).For(Mailbox(new OAuth2Options
        {
            Provider = OAuth2Provider.Command, Command = "/bin/sh", Arguments = ["-c", "echo secret-in-stderr >&2; exit 3"],
        }));
        Assert.That(() => failing.GetAsync(false, CancellationToken.None),
            Throws.InvalidOperationException.With.Message.Contains("exited with code 3").And.Message.Not.Contains("secret-in-stderr"));
        TempDirectory.Delete(directory);
    }

    [Test]
    public void OAuth2_settings_are_checked_at_start_with_one_line_per_key()
    {
        var mailbox = Mailbox(null);
        mailbox.Imap.Auth = MailAuth.OAuth2;
        mailbox.Imap.IgnoredCapabilities = ["IDLE", "AUTH=PLAIN", "NO-SUCH-THING"];
        mailbox.Imap.PinnedCertificates = ["AB:CD"];
        var options = new EmailOptions { Mailboxes = [mailbox], AgentNotifications = { Secret = new string('s', 32) } };
        var failures = new EmailOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.That(failures, Is.EquivalentTo(new[]
        {
            "SupportGateway:Channels:Email:Mailboxes:0:OAuth2: required when Imap:Auth or Smtp:Auth is OAuth2 (Provider Microsoft, Google, Command or File)",
            "SupportGateway:Channels:Email:Mailboxes:0:Imap:IgnoredCapabilities: 'NO-SUCH-THING' is not an IMAP capability MailKit uses (such as IDLE, MOVE, UIDPLUS, SASL-IR, LITERAL+ or AUTH=PLAIN)",
            "SupportGateway:Channels:Email:Mailboxes:0:Imap:PinnedCertificates: 'AB:CD' is not a SHA-256 fingerprint (64 hex digits)",
        }), "no password is needed with OAuth2");

        mailbox.OAuth2 = new OAuth2Options { Provider = OAuth2Provider.Microsoft, TenantId = "contoso.onmicrosoft.com" };
        mailbox.Imap.IgnoredCapabilities = [];
        mailbox.Imap.PinnedCertificates = [];
        Assert.That(new EmailOptionsValidator().Validate(null, options).Failures,
            Is.EqualTo(new[] { "SupportGateway:Channels:Email:Mailboxes:0:OAuth2: ClientId and ClientSecret are required for Provider Microsoft" }));
    }

    private static MailboxOptions Mailbox(OAuth2Options? oauth) => new()
    {
        Name = "support",
        Address = "support@example.com",
        Imap = new ImapEndpointOptions { Host = "outlook.office365.com", Security = MailboxSecurity.SslOnConnect, Username = "support@example.com" },
        Smtp = new SmtpEndpointOptions { Host = "smtp.office365.com" },
        OAuth2 = oauth,
    };
}
