using System.Net;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.Email;

public enum MailboxSecurity { None, SslOnConnect, StartTls }

/// <summary>How the gateway logs in: the account's password, or an OAuth 2.0 access token (SASL XOAUTH2).</summary>
public enum MailAuth { Password, OAuth2 }

/// <summary><c>SupportGateway:Channels:Email</c>: the support mailboxes and how they are read.</summary>
public sealed class EmailOptions
{
    public const string Section = "SupportGateway:Channels:Email";

    public List<MailboxOptions> Mailboxes { get; set; } = [];

    /// <summary>How often a server without IDLE is asked for new mail.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>IDLE is re-issued this often; some servers (Exchange Online) drop quiet sessions after about 10 minutes.</summary>
    public TimeSpan IdleRefresh { get; set; } = TimeSpan.FromMinutes(9);

    /// <summary>
    /// While mail keeps coming the folder is asked with NOOP this often instead of waiting in IDLE: servers delay IDLE's
    /// news to batch it (Dovecot by 500 ms), which under steady mail added up to half a second to every message.
    /// </summary>
    public TimeSpan BurstPollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long after the last new message the folder is still polled every <see cref="BurstPollInterval"/> before IDLE again.</summary>
    public TimeSpan BurstLinger { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Messages fetched per round trip, and ticketed in one transaction. A backlog read 20 at a time spent most of its
    /// time on the round trips and commits between batches (about 190 mails/s against Dovecot on loopback, 800 at 100).
    /// </summary>
    public int FetchBatch { get; set; } = 100;

    /// <summary>The most a batch holds by the messages' sizes (RFC822.SIZE): a backlog of large mails is read a few at a time.</summary>
    public long FetchBatchBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>The longest wait between reconnection attempts after an error.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// When set, every IMAP and SMTP session is written to <c>{mailbox}-imap.log</c> / <c>{mailbox}-smtp.log</c> (<c>-smtp-2.log</c>… for further SMTP connections) in this
    /// folder by MailKit's protocol logger, with passwords and tokens replaced.
    /// </summary>
    public string? ProtocolLogDirectory { get; set; }

    public AgentNotificationOptions AgentNotifications { get; set; } = new();

    /// <summary>The mailbox that sends agent notifications and receives agents' replies.</summary>
    public MailboxOptions? AgentMailbox => Find(AgentNotifications.Mailbox) ?? Mailboxes.FirstOrDefault();

    public MailboxOptions? Find(string? name) =>
        Mailboxes.Find(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Mail to agents about customer messages, and the agents' answers by reply.</summary>
public sealed class AgentNotificationOptions
{
    /// <summary>A team address that hears of every new ticket and every customer follow-up.</summary>
    public string? To { get; set; }

    /// <summary>The ticket's assignee (when an agent) hears of them too.</summary>
    public bool NotifyAssignee { get; set; } = true;

    /// <summary>The mailbox (by name) that sends notifications and receives replies; the first one when unset.</summary>
    public string? Mailbox { get; set; }

    /// <summary>The key that signs reply tokens (at least 32 characters); whoever holds it can answer customers as an agent.</summary>
    public string? Secret { get; set; }
}

public sealed class MailboxOptions
{
    /// <summary>Short name, used in logs, health and the ticket's account.</summary>
    public string Name { get; set; } = "";

    /// <summary>The support address customers write to; acknowledgements and answers come from it.</summary>
    public string Address { get; set; } = "";

    /// <summary>The name shown beside <see cref="Address"/> in mail the gateway sends.</summary>
    public string? DisplayName { get; set; }

    public ImapEndpointOptions Imap { get; set; } = new();

    public SmtpEndpointOptions Smtp { get; set; } = new();

    /// <summary>Where access tokens come from when <c>Imap:Auth</c> or <c>Smtp:Auth</c> is <see cref="MailAuth.OAuth2"/>.</summary>
    public OAuth2Options? OAuth2 { get; set; }

    public TicketType? DefaultType { get; set; }

    public TicketPriority? DefaultPriority { get; set; }

    /// <summary>An organisation's account number: senders to this mailbox belong to it.</summary>
    public string? Organisation { get; set; }

    public string Domain => Address[(Address.IndexOf('@') + 1)..];
}

public class MailEndpointOptions
{
    public string Host { get; set; } = "";

    /// <summary>0 means the protocol's usual port for <see cref="Security"/>.</summary>
    public int Port { get; set; }

    public MailboxSecurity Security { get; set; } = MailboxSecurity.StartTls;

    public string? Username { get; set; }

    public string? Password { get; set; }

    public MailAuth Auth { get; set; } = MailAuth.Password;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// SHA-256 fingerprints (hex, colons allowed) of certificates trusted as they are, for a server with a self-signed
    /// certificate; any other certificate must pass the system's usual checks.
    /// </summary>
    public List<string> PinnedCertificates { get; set; } = [];
}

public sealed class SmtpEndpointOptions : MailEndpointOptions
{
    /// <summary>
    /// How many SMTP connections to the server this mailbox keeps at most, each sending one mail at a time: a burst of
    /// acknowledgements goes out over all of them. Providers cap connections per account, so keep it small.
    /// </summary>
    public int Connections { get; set; } = 2;
}

public sealed class ImapEndpointOptions : MailEndpointOptions
{
    public string Folder { get; set; } = "INBOX";

    /// <summary>Where handled mail is moved; without it, handled mail is only marked \Seen.</summary>
    public string? ProcessedFolder { get; set; }

    /// <summary>Capabilities to leave unused on a server that implements them badly, such as "IDLE" (then it is polled) or "MOVE".</summary>
    public List<string> IgnoredCapabilities { get; set; } = [];

}

/// <summary>Each problem names its key, so a misconfiguration stops the start with one clear line.</summary>
internal sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero)
            failures.Add($"{EmailOptions.Section}:PollInterval: must be positive");
        if (options.IdleRefresh <= TimeSpan.Zero || options.IdleRefresh > MailboxSession.MaxIdle)
            failures.Add($"{EmailOptions.Section}:IdleRefresh: must be positive and at most 29 minutes (RFC 2177)");
        if (options.BurstPollInterval <= TimeSpan.Zero)
            failures.Add($"{EmailOptions.Section}:BurstPollInterval: must be positive");
        if (options.BurstLinger < TimeSpan.Zero)
            failures.Add($"{EmailOptions.Section}:BurstLinger: must not be negative (zero goes back to IDLE at once)");
        if (options.FetchBatch is < 1 or > 500)
            failures.Add($"{EmailOptions.Section}:FetchBatch: must be between 1 and 500");
        if (options.FetchBatchBytes < 1024 * 1024)
            failures.Add($"{EmailOptions.Section}:FetchBatchBytes: must be at least 1 MiB (1048576)");
        var notify = options.AgentNotifications;
        if (options.Mailboxes.Count > 0 && (notify.To is not null || notify.NotifyAssignee) && (notify.Secret?.Length ?? 0) < 32)
            failures.Add($"{EmailOptions.Section}:AgentNotifications:Secret: must be at least 32 characters (it signs the tokens that let agents answer by mail)");
        if (notify.Mailbox is { } named && options.Find(named) is null)
            failures.Add($"{EmailOptions.Section}:AgentNotifications:Mailbox: no mailbox is named '{named}'");
        for (var i = 0; i < options.Mailboxes.Count; i++)
        {
            var mailbox = options.Mailboxes[i];
            var key = $"{EmailOptions.Section}:Mailboxes:{i}";
            if (string.IsNullOrWhiteSpace(mailbox.Name))
                failures.Add($"{key}:Name: must not be empty");
            else if (options.Mailboxes.Count(m => string.Equals(m.Name, mailbox.Name, StringComparison.OrdinalIgnoreCase)) > 1)
                failures.Add($"{key}:Name: '{mailbox.Name}' is used by more than one mailbox");
            if (!(MimeKit.MailboxAddress.TryParse(mailbox.Address ?? "", out var parsed) && parsed.Address.Contains('@')))
                failures.Add($"{key}:Address: '{mailbox.Address}' is not an e-mail address");
            Endpoint(failures, $"{key}:Imap", mailbox.Imap, credentialsRequired: true);
            Endpoint(failures, $"{key}:Smtp", mailbox.Smtp, credentialsRequired: false);
            if (mailbox.Smtp.Connections is < 1 or > 20)
                failures.Add($"{key}:Smtp:Connections: must be between 1 and 20");
            if (mailbox.Imap.Auth == MailAuth.OAuth2 || mailbox.Smtp.Auth == MailAuth.OAuth2)
            {
                if (mailbox.OAuth2 is null)
                    failures.Add($"{key}:OAuth2: required when Imap:Auth or Smtp:Auth is OAuth2 (Provider Microsoft, Google, Command or File)");
                else
                    failures.AddRange(mailbox.OAuth2.Problems($"{key}:OAuth2"));
            }
            foreach (var capability in mailbox.Imap.IgnoredCapabilities.Where(c => !MailboxSession.CanIgnore(c)))
                failures.Add($"{key}:Imap:IgnoredCapabilities: '{capability}' is not an IMAP capability MailKit uses (such as IDLE, MOVE, UIDPLUS, SASL-IR, LITERAL+ or AUTH=PLAIN)");
            if (mailbox.Imap.ProcessedFolder is { } processed && string.Equals(processed, mailbox.Imap.Folder, StringComparison.OrdinalIgnoreCase))
                failures.Add($"{key}:Imap:ProcessedFolder: must differ from Folder");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Endpoint(List<string> failures, string key, MailEndpointOptions endpoint, bool credentialsRequired)
    {
        if (string.IsNullOrWhiteSpace(endpoint.Host))
            failures.Add($"{key}:Host: must not be empty");
        else if (endpoint.Security == MailboxSecurity.None && !IsLoopback(endpoint.Host))
            failures.Add($"{key}:Security: None (no TLS) is allowed for a loopback host only, not '{endpoint.Host}'; use StartTls or SslOnConnect");
        if (endpoint.Port is < 0 or > 65535)
            failures.Add($"{key}:Port: must be between 0 and 65535");
        if (endpoint.Auth == MailAuth.OAuth2 && string.IsNullOrEmpty(endpoint.Username))
            failures.Add($"{key}:Username: required with Auth OAuth2 (the mailbox the token is for)");
        else if (endpoint.Auth == MailAuth.Password && credentialsRequired && (string.IsNullOrEmpty(endpoint.Username) || string.IsNullOrEmpty(endpoint.Password)))
            failures.Add($"{key}: Username and Password are required");
        foreach (var pin in endpoint.PinnedCertificates.Where(p => MailLogin.Fingerprint(p) is null))
            failures.Add($"{key}:PinnedCertificates: '{pin}' is not a SHA-256 fingerprint (64 hex digits)");
        if (endpoint.Timeout <= TimeSpan.Zero)
            failures.Add($"{key}:Timeout: must be positive");
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}
