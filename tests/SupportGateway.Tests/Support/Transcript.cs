using System.Text;
using MailKit;
using SupportGateway.Host.Channels.Email;

namespace SupportGateway.Tests.Support;

/// <summary>MailKit's own protocol logger, as the gateway configures it (secrets redacted), writing to memory for a test to read.</summary>
internal sealed class Transcript
{
    private readonly MemoryStream _stream = new();

    public Transcript() => Logger = new ProtocolLogger(_stream, leaveOpen: true) { RedactSecrets = true, ClientPrefix = "C: ", ServerPrefix = "S: " };

    public ProtocolLogger Logger { get; }

    public string Text
    {
        get
        {
            lock (_stream)
                return Encoding.UTF8.GetString(_stream.ToArray());
        }
    }

    public IReadOnlyList<string> Lines => Text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Test mailboxes on a given IMAP server: what the gateway's options would say, and a session opened the gateway's way.</summary>
internal static class TestMailbox
{
    public static MailboxOptions Options(string user, int port, string? password = MailServers.Password, IEnumerable<string>? ignored = null,
        string? processed = null, MailboxSecurity security = MailboxSecurity.None) => new()
    {
        Name = "test",
        Address = user,
        Imap = new ImapEndpointOptions
        {
            Host = MailServers.Host,
            Port = port,
            Security = security,
            Username = user,
            Password = password,
            Timeout = TimeSpan.FromSeconds(20),
            ProcessedFolder = processed,
            IgnoredCapabilities = [.. ignored ?? []],
        },
    };

    public static Task<MailboxSession> OpenAsync(MailboxOptions mailbox, Transcript transcript, TimeProvider? time = null) =>
        MailboxSession.OpenAsync(mailbox, new MailLogin(new MailTokens(time ?? TimeProvider.System)), transcript.Logger, CancellationToken.None);
}
