using System.Diagnostics;

namespace SupportGateway.Tests.Support;

/// <summary>
/// The real Postfix and Dovecot from tests/mail-servers.sh (installed and started on first use, once per run):
/// SMTP on 127.0.0.1:2525 (STARTTLS) and 4465 (TLS), IMAP on 1143 (STARTTLS) and 1993 (TLS), Maildirs under
/// /tmp/sg-mail/mail, and one self-signed certificate for all of them.
/// </summary>
internal static class MailServers
{
    public const string Host = "127.0.0.1";
    public const int SmtpPort = 2525;
    public const int ImapPort = 1143;
    public const int SmtpsPort = 4465;
    public const int ImapsPort = 1993;
    public const string Password = "secret";

    /// <summary>
    /// The IMAP port of a Dovecot with the oauth2 passdb: the shared one once tests/mail-servers.sh has restarted it
    /// with that passdb, or a private instance named by SG_MAIL_OAUTH_IMAP_PORT until then.
    /// </summary>
    public static int OAuthImapPort =>
        int.TryParse(Environment.GetEnvironmentVariable("SG_MAIL_OAUTH_IMAP_PORT"), out var port) ? port : ImapPort;

    private static readonly Lazy<Task> Started = new(StartAsync);

    /// <summary>Starts the servers unless tests/run.sh already did (it sets SG_MAIL_SERVERS_STARTED).</summary>
    public static Task EnsureStartedAsync() =>
        Environment.GetEnvironmentVariable("SG_MAIL_SERVERS_STARTED") == "1" ? Task.CompletedTask : Started.Value;

    /// <summary>Gateway settings for one support mailbox on these servers, plain over loopback.</summary>
    public static Dictionary<string, string?> MailboxSettings(string address, string? folder = null, string? processedFolder = null)
    {
        const string key = "SupportGateway:Channels:Email:Mailboxes:0:";
        var settings = new Dictionary<string, string?>
        {
            [key + "Name"] = "support",
            [key + "Address"] = address,
            [key + "Imap:Host"] = Host,
            [key + "Imap:Port"] = ImapPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [key + "Imap:Security"] = "None",
            [key + "Imap:Username"] = address,
            [key + "Imap:Password"] = Password,
            [key + "Imap:Folder"] = folder ?? "INBOX",
            [key + "Imap:ProcessedFolder"] = processedFolder,
            [key + "Smtp:Host"] = Host,
            [key + "Smtp:Port"] = SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [key + "Smtp:Security"] = "None",
        };
        return settings;
    }

    public static string Maildir(string user) => Path.Combine("/tmp/sg-mail/mail", user);

    /// <summary>Subject and text as a reader sees them: quoted-printable can break a marker across lines.</summary>
    private static string Decoded(byte[] bytes)
    {
        var message = SupportGateway.Mail.Inbound.InboundMail.Read(bytes);
        return message.Subject + "\n" + message.Text;
    }

    /// <summary>The delivered file that contains <paramref name="marker"/> (raw, or in its decoded subject or text), waiting up to 15 s for delivery.</summary>
    public static async Task<byte[]> WaitForDeliveryAsync(string user, string marker)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var dir in new[] { "new", "cur" }.Select(d => Path.Combine(Maildir(user), d)).Where(Directory.Exists))
            {
                foreach (var file in Directory.EnumerateFiles(dir))
                {
                    var bytes = await File.ReadAllBytesAsync(file);
                    if (System.Text.Encoding.UTF8.GetString(bytes).Contains(marker, StringComparison.Ordinal) || Decoded(bytes).Contains(marker, StringComparison.Ordinal))
                        return bytes;
                }
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"no message with {marker} reached {user} in 15 s; see /tmp/sg-mail/postfix.log and dovecot.log");
    }

    /// <summary>The servers' self-signed certificate, for clients that pin it.</summary>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate() =>
        System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile("/tmp/sg-mail/tls/cert.pem");

    /// <summary>A MailKit IMAP session for <paramref name="user"/>, for a test to arrange and inspect folders.</summary>
    public static async Task<MailKit.Net.Imap.ImapClient> ImapAsync(string user, int port = ImapPort)
    {
        var client = new MailKit.Net.Imap.ImapClient();
        await client.ConnectAsync(Host, port, MailKit.Security.SecureSocketOptions.None);
        await client.AuthenticateAsync(user, Password);
        return client;
    }

    /// <summary>The folder, created when missing.</summary>
    public static async Task<MailKit.IMailFolder> FolderAsync(MailKit.Net.Imap.ImapClient client, string name)
    {
        try
        {
            return await client.GetFolderAsync(name);
        }
        catch (MailKit.FolderNotFoundException)
        {
            return (await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync(name, isMessageFolder: true))!;
        }
    }

    /// <summary>How many messages the folder holds (STATUS, so the selected folder stays selected).</summary>
    public static async Task<int> CountAsync(MailKit.Net.Imap.ImapClient client, string folder)
    {
        var found = await client.GetFolderAsync(folder);
        await found.StatusAsync(MailKit.StatusItems.Count);
        return found.Count;
    }

    /// <summary>Submits raw bytes to Postfix as <paramref name="from"/>, to their To addresses.</summary>
    public static async Task SubmitAsync(string from, ReadOnlyMemory<byte> message) =>
        await SubmitAsync(from, await MimeKit.MimeMessage.LoadAsync(new MemoryStream(message.ToArray())));

    /// <summary>Submits a message to Postfix as <paramref name="from"/>, to its To addresses, through MailKit.</summary>
    public static async Task SubmitAsync(string from, MimeKit.MimeMessage message)
    {
        using var smtp = new MailKit.Net.Smtp.SmtpClient();
        await smtp.ConnectAsync(Host, SmtpPort, MailKit.Security.SecureSocketOptions.None);
        await smtp.SendAsync(message, MimeKit.MailboxAddress.Parse(from), message.To.Mailboxes);
        await smtp.DisconnectAsync(quit: true);
    }

    private static Task StartAsync() => RunScriptAsync("start");

    private static async Task RunScriptAsync(string verb)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Corpus.RepositoryRoot(), "tests", "mail-servers.sh"), verb])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tests/mail-servers.sh {verb} failed ({process.ExitCode}): {await output}{await errors}");
    }
}
