using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// One IMAP session on a mailbox's folder through MailKit's <see cref="ImapClient"/>: the messages above a UID, their
/// raw bytes, releasing handled ones (MOVE, or MailKit's COPY + \Deleted + UID EXPUNGE without it, or \Seen), and
/// waiting for new mail with IDLE or by polling. Any exception means the session is unusable.
/// </summary>
internal sealed class MailboxSession : IAsyncDisposable
{
    /// <summary>RFC 2177 §3: servers may log out a client idle for 30 minutes, so IDLE is re-issued before that.</summary>
    public static readonly TimeSpan MaxIdle = TimeSpan.FromMinutes(29);

    private readonly ImapClient _client;
    private readonly IMailFolder _folder;
    private readonly IMailFolder? _processed;
    private int _count;
    private bool _arrived;
    private CancellationTokenSource? _idleDone;

    private MailboxSession(ImapClient client, IMailFolder folder, IMailFolder? processed)
    {
        (_client, _folder, _processed) = (client, folder, processed);
        _count = folder.Count;
        // MailKit lowers Count at each EXPUNGE but announces it only with the next EXISTS (or after the command), so
        // the count known here follows each EXPUNGE: otherwise mail announced with a MOVE's EXPUNGEs looked like none.
        folder.MessageExpunged += (_, _) => _count--;
        // EXISTS can come with any command's answer, not only during IDLE: remember it, and end an IDLE in progress.
        folder.CountChanged += (_, _) =>
        {
            if (_folder.Count > _count)
            {
                _arrived = true;
                _idleDone?.Cancel();
            }
            _count = _folder.Count;
        };
    }

    public static async Task<MailboxSession> OpenAsync(MailboxOptions mailbox, MailLogin login, IProtocolLogger log, CancellationToken cancellationToken)
    {
        var imap = mailbox.Imap;
        var client = new ImapClient(log);
        try
        {
            await MailLogin.ConnectAsync(client, imap, tlsPort: 993, startTlsPort: 143, cancellationToken);
            Ignore(client, imap.IgnoredCapabilities);
            await login.AuthenticateAsync(client, mailbox, imap, cancellationToken);
            // Capabilities are read again after login.
            Ignore(client, imap.IgnoredCapabilities);
            var folder = await client.GetFolderAsync(imap.Folder, cancellationToken);
            var processed = imap.ProcessedFolder is { } name ? await FolderAsync(client, name, cancellationToken) : null;
            await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken);
            return new MailboxSession(client, folder, processed);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public uint UidValidity => _folder.UidValidity;

    public bool CanIdle => _client.Capabilities.HasFlag(ImapCapabilities.Idle);

    public bool IsConnected => _client.IsConnected;

    /// <summary>The undeleted messages above <paramref name="lastUid"/>, in UID order.</summary>
    public async Task<IReadOnlyList<UniqueId>> NewAsync(uint lastUid, CancellationToken cancellationToken)
    {
        // "UID n:*" always matches the highest UID, even one below n (RFC 3501 §6.4.8), hence the filter.
        var above = new UniqueIdRange(new UniqueId(lastUid + 1), UniqueId.MaxValue);
        var found = await _folder.SearchAsync(SearchQuery.Uids(above).And(SearchQuery.NotDeleted), cancellationToken);
        return [.. found.Where(uid => uid.Id > lastUid).OrderBy(uid => uid.Id)];
    }

    /// <summary>The size of each message (RFC822.SIZE) in one command; a message gone meanwhile is missing.</summary>
    public async Task<IReadOnlyDictionary<UniqueId, long>> SizesAsync(IList<UniqueId> uids, CancellationToken cancellationToken)
    {
        var summaries = await _folder.FetchAsync(uids, MessageSummaryItems.UniqueId | MessageSummaryItems.Size, cancellationToken);
        return summaries.Where(summary => summary.Size is not null).ToDictionary(summary => summary.UniqueId, summary => (long)summary.Size!.Value);
    }

    /// <summary>The raw bytes of each message (BODY.PEEK[], so \Seen is untouched) in one command; a message gone meanwhile is missing.</summary>
    public async Task<IReadOnlyList<(UniqueId Uid, byte[] Raw)>> FetchAsync(IList<UniqueId> uids, CancellationToken cancellationToken)
    {
        var messages = new List<(UniqueId, byte[])>();
        await ((ImapFolder)_folder).GetStreamsAsync(uids, async (_, _, uid, stream, token) =>
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, token);
            messages.Add((uid, copy.ToArray()));
        }, cancellationToken);
        return [.. messages.OrderBy(m => m.Item1.Id)];
    }

    /// <summary>Lets the server forget handled messages: moved to the processed folder, or marked \Seen.</summary>
    public async Task ReleaseAsync(IList<UniqueId> uids, CancellationToken cancellationToken)
    {
        if (uids.Count == 0)
            return;
        if (_processed is not null)
            await _folder.MoveToAsync(uids, _processed, cancellationToken);
        else
            await _folder.StoreAsync(uids, new StoreFlagsRequest(StoreAction.Add, MessageFlags.Seen) { Silent = true }, cancellationToken);
    }

    /// <summary>
    /// Waits for new mail: IDLE until EXISTS or <paramref name="idleRefresh"/>, or a pause of <paramref name="pollInterval"/>
    /// and NOOP; during a burst (<paramref name="burstPoll"/> set) a pause of that and NOOP, whatever the server offers.
    /// True when new mail was announced, here or during the commands before.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan idleRefresh, TimeSpan pollInterval, TimeSpan? burstPoll, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!_arrived)
        {
            if (burstPoll is null && CanIdle)
            {
                using var done = new CancellationTokenSource(idleRefresh, time);
                _idleDone = done;
                try
                {
                    await _client.IdleAsync(done.Token, cancellationToken);
                }
                finally
                {
                    _idleDone = null;
                }
            }
            else
            {
                await Task.Delay(burstPoll ?? pollInterval, time, cancellationToken);
                await _client.NoOpAsync(cancellationToken);
            }
        }
        var arrived = _arrived;
        _arrived = false;
        return arrived;
    }

    /// <summary>True for a capability name <see cref="Ignore"/> can take away: AUTH=mechanism or one MailKit knows.</summary>
    public static bool CanIgnore(string capability) =>
        capability.StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase) ? capability.Length > 5 : Capability(capability) is not null;

    private static ImapCapabilities? Capability(string name)
    {
        var key = name.Replace("+", "Plus", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).Replace("=", "", StringComparison.Ordinal);
        return Enum.TryParse<ImapCapabilities>(key, ignoreCase: true, out var flag) && flag != ImapCapabilities.None && !int.TryParse(key, out _) ? flag : null;
    }

    /// <summary>Leaves unused what a server implements badly (<c>IgnoredCapabilities</c>): MailKit never uses a capability it was told is absent.</summary>
    private static void Ignore(ImapClient client, IEnumerable<string> capabilities)
    {
        foreach (var name in capabilities)
        {
            if (name.StartsWith("AUTH=", StringComparison.OrdinalIgnoreCase))
                client.AuthenticationMechanisms.Remove(name[5..].ToUpperInvariant());
            else if (Capability(name) is { } flag)
                client.Capabilities &= ~flag;
        }
    }

    private static async Task<IMailFolder> FolderAsync(ImapClient client, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetFolderAsync(name, cancellationToken);
        }
        catch (FolderNotFoundException)
        {
            var parent = client.GetFolder(client.PersonalNamespaces[0]);
            return await parent.CreateAsync(name, isMessageFolder: true, cancellationToken)
                ?? throw new InvalidOperationException($"the server did not create the folder {name}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // LOGOUT when the session is healthy; a dead one is not waited for.
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (_client.IsConnected)
                await _client.DisconnectAsync(quit: true, quick.Token);
        }
        catch (Exception ex) when (ex is IOException or ImapProtocolException or ImapCommandException or OperationCanceledException)
        {
            // The connection is already gone.
        }
        _client.Dispose();
    }
}
