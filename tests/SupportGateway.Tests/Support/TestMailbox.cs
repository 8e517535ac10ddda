using SupportGateway.Host.Channels.Email;

namespace SupportGateway.Tests.Support;

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
