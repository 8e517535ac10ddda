using System.Globalization;
using System.Text;
using SupportGateway.Mail.Net;

namespace SupportGateway.Mail.Imap;

/// <summary>
/// An IMAP client for reading a support mailbox (a subset of RFC 3501/9051): STARTTLS or implicit TLS, LOGIN and
/// AUTHENTICATE PLAIN, SELECT/EXAMINE, UID SEARCH/FETCH/STORE/MOVE (COPY + \Deleted + EXPUNGE without MOVE),
/// APPEND, CREATE, IDLE (RFC 2177), NOOP and LOGOUT. Untagged responses are accepted at any point and keep
/// <see cref="Selected"/> current.
/// <para>
/// Errors come in two kinds: <see cref="ImapCommandException"/> (NO or BAD; the connection stays usable) and
/// <see cref="MailProtocolException"/> (dropped, timed out, or nonsense; <see cref="IsConnected"/> turns false and
/// <see cref="ConnectAsync"/> starts over). Cancelling a command mid-way also drops the connection, since its
/// state is then unknown.
/// </para>
/// </summary>
public sealed partial class ImapClient(ImapClientOptions options) : IAsyncDisposable
{
    /// <summary>RFC 2177 §3: a client re-issues IDLE at least every 29 minutes, before servers log it out.</summary>
    public static readonly TimeSpan MaxIdle = TimeSpan.FromMinutes(29);

    private MailConnection? _connection;
    private HashSet<string> _capabilities = new(StringComparer.OrdinalIgnoreCase);
    private ImapMailbox? _opening;
    private string? _bye;
    private int _tag;

    public bool IsConnected => _connection is not null;

    /// <summary>What the server offers, such as IDLE, MOVE, UIDPLUS or LITERAL+ (less <see cref="ImapClientOptions.IgnoredCapabilities"/>).</summary>
    public IReadOnlySet<string> Capabilities => _capabilities;

    public ImapMailbox? Selected { get; private set; }

    /// <summary>Raised while any command (IDLE included) runs, when the server reports EXISTS, EXPUNGE or a flag change.</summary>
    public event EventHandler<ImapMailboxChange>? MailboxChanged;

    /// <summary>Connects, reads the greeting, upgrades with STARTTLS if so configured, and logs in. A second call starts a fresh connection.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await DropAsync();
        _connection = await MailConnection.OpenAsync(options, cancellationToken);
        try
        {
            var greeting = await ReadAsync(cancellationToken);
            if (greeting.Status is not ("OK" or "PREAUTH"))
                throw new MailProtocolException($"{options.Host} refused the connection: {greeting}");
            Apply(greeting);
            if (_capabilities.Count == 0)
                await CapabilityAsync(cancellationToken);
            if (options.Security == MailSecurity.StartTls && greeting.Status == "OK")
            {
                if (!_capabilities.Contains("STARTTLS"))
                    throw new MailProtocolException($"{options.Host} does not offer STARTTLS; refusing to continue in clear");
                await RunAsync(new ImapCommand("STARTTLS"), cancellationToken);
                await _connection.StartTlsAsync(cancellationToken);
                // RFC 9051 §6.2.1: capabilities learnt before TLS are discarded.
                await CapabilityAsync(cancellationToken);
            }
            if (greeting.Status == "OK" && options.UserName is { } user)
                await AuthenticateAsync(user, options.Password ?? "", cancellationToken);
        }
        catch
        {
            await DropAsync();
            throw;
        }
    }

    public async Task CapabilityAsync(CancellationToken cancellationToken)
    {
        _capabilities.Clear();
        await RunAsync(new ImapCommand("CAPABILITY"), cancellationToken);
    }

    public Task<ImapMailbox> SelectAsync(string folder, CancellationToken cancellationToken) => OpenAsync("SELECT", folder, cancellationToken);

    /// <summary>Opens a folder read-only: nothing done through this session changes it.</summary>
    public Task<ImapMailbox> ExamineAsync(string folder, CancellationToken cancellationToken) => OpenAsync("EXAMINE", folder, cancellationToken);

    /// <summary>
    /// UIDs matching raw search criteria (RFC 9051 §6.4.4), such as "ALL", "UNSEEN" or "UID 500:*". Note that
    /// "UID n:*" always matches the highest UID, even one below n: filter the result.
    /// </summary>
    public async Task<IReadOnlyList<uint>> UidSearchAsync(string criteria, CancellationToken cancellationToken)
    {
        var uids = new List<uint>();
        await RunAsync(new ImapCommand($"UID SEARCH {criteria}"), cancellationToken, response =>
        {
            if (response.Data.Count > 0 && response.Data[0].IsAtom("SEARCH"))
                uids.AddRange(response.Data.Skip(1).Select(t => t.TryGetNumber(out var uid) ? uid : 0).Where(uid => uid > 0));
        });
        return uids;
    }

    /// <summary>Fetches the given UIDs; a UID that no longer exists is simply missing from the result.</summary>
    public async Task<IReadOnlyList<ImapMessage>> UidFetchAsync(IEnumerable<uint> uids, ImapFetchItems items, CancellationToken cancellationToken)
    {
        var names = new List<string> { "UID" };
        if (items.HasFlag(ImapFetchItems.Flags))
            names.Add("FLAGS");
        if (items.HasFlag(ImapFetchItems.Size))
            names.Add("RFC822.SIZE");
        if (items.HasFlag(ImapFetchItems.InternalDate))
            names.Add("INTERNALDATE");
        if (items.HasFlag(ImapFetchItems.Body))
            names.Add("BODY.PEEK[]");
        var messages = new Dictionary<uint, ImapMessage>();
        foreach (var set in ImapUidSet.Format(uids))
        {
            await RunAsync(new ImapCommand($"UID FETCH {set} ({string.Join(' ', names)})"), cancellationToken, response =>
            {
                // A server may split one message's items over several FETCH responses; they are merged by UID.
                if (FetchItems(response) is { } fetched && Find(fetched, "UID")?.TryGetNumber(out var uid) == true)
                    Merge(messages.TryGetValue(uid, out var known) ? known : messages[uid] = new ImapMessage(uid), fetched);
            });
        }
        return [.. messages.Values.OrderBy(m => m.Uid)];
    }

    public async Task UidStoreAsync(IEnumerable<uint> uids, ImapStoreMode mode, IEnumerable<string> flags, CancellationToken cancellationToken)
    {
        var prefix = mode switch { ImapStoreMode.Add => "+", ImapStoreMode.Remove => "-", _ => "" };
        var list = string.Join(' ', flags);
        foreach (var set in ImapUidSet.Format(uids))
            await RunAsync(new ImapCommand($"UID STORE {set} {prefix}FLAGS.SILENT ({list})"), cancellationToken);
    }

    /// <summary>
    /// Moves messages to another folder: UID MOVE (RFC 6851) when offered, otherwise UID COPY, STORE \Deleted and
    /// EXPUNGE (UID EXPUNGE with UIDPLUS, so other messages marked \Deleted stay).
    /// </summary>
    public async Task UidMoveAsync(IEnumerable<uint> uids, string destination, CancellationToken cancellationToken)
    {
        foreach (var set in ImapUidSet.Format(uids))
        {
            if (_capabilities.Contains("MOVE"))
            {
                await RunAsync(new ImapCommand($"UID MOVE {set} ").Mailbox(destination), cancellationToken);
                continue;
            }
            await RunAsync(new ImapCommand($"UID COPY {set} ").Mailbox(destination), cancellationToken);
            await RunAsync(new ImapCommand($"UID STORE {set} +FLAGS.SILENT (\\Deleted)"), cancellationToken);
            await RunAsync(new ImapCommand(_capabilities.Contains("UIDPLUS") ? $"UID EXPUNGE {set}" : "EXPUNGE"), cancellationToken);
        }
    }

    /// <summary>Adds a message to a folder; returns its UID when the server tells it (UIDPLUS).</summary>
    public async Task<uint?> AppendAsync(string folder, ReadOnlyMemory<byte> message, IEnumerable<string>? flags, DateTimeOffset? date, CancellationToken cancellationToken)
    {
        var command = new ImapCommand("APPEND ").Mailbox(folder);
        if (flags?.ToList() is { Count: > 0 } list)
            command.Text($" ({string.Join(' ', list)})");
        if (date is { } when)
            command.Text($" \"{when.ToString("dd-MMM-yyyy HH:mm:ss ", CultureInfo.InvariantCulture)}{(when.Offset < TimeSpan.Zero ? '-' : '+')}{when.Offset.Duration():hhmm}\"");
        command.Text(" ").Literal(message, $"<message, {message.Length} octets>");
        var done = await RunAsync(command, cancellationToken);
        return done.CodeName == "APPENDUID" && done.Code.Count > 2 && done.Code[2].TryGetNumber(out var uid) ? uid : null;
    }

    /// <summary>Creates a folder; one that already exists is fine.</summary>
    public async Task CreateFolderAsync(string folder, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(new ImapCommand("CREATE ").Mailbox(folder), cancellationToken);
        }
        catch (ImapCommandException ex) when (ex.Code == "ALREADYEXISTS")
        {
        }
    }

    public async Task DeleteFolderAsync(string folder, CancellationToken cancellationToken) =>
        await RunAsync(new ImapCommand("DELETE ").Mailbox(folder), cancellationToken);

    public async Task NoopAsync(CancellationToken cancellationToken) => await RunAsync(new ImapCommand("NOOP"), cancellationToken);

    /// <summary>
    /// Idles (RFC 2177) until <paramref name="doneToken"/> is cancelled, then ends politely with DONE; changes the
    /// server reports meanwhile raise <see cref="MailboxChanged"/>. <paramref name="cancellationToken"/> aborts at
    /// once and drops the connection. Callers re-issue IDLE within <see cref="MaxIdle"/>.
    /// </summary>
    public async Task IdleAsync(CancellationToken doneToken, CancellationToken cancellationToken)
    {
        if (!_capabilities.Contains("IDLE"))
            throw new NotSupportedException($"{options.Host} does not offer IDLE; poll with NOOP instead.");
        if (Selected is null)
            throw new InvalidOperationException("Select a folder before idling.");
        var connection = _connection ?? throw new InvalidOperationException("ConnectAsync first.");
        var tag = NextTag();
        try
        {
            await connection.WriteLineAsync($"{tag} IDLE", cancellationToken);
            while (true)
            {
                var response = await ReadAsync(cancellationToken);
                if (response.Kind == ImapResponseKind.Continuation)
                    break;
                if (Finished(response, tag, "IDLE"))
                    return;
            }
            var done = new TaskCompletionSource();
            await using var registration = doneToken.Register(() => done.TrySetResult());
            var read = ReadAsync(cancellationToken, Timeout.InfiniteTimeSpan);
            while (true)
            {
                if (await Task.WhenAny(read, done.Task) == read)
                {
                    // The server may end IDLE by itself (a tagged reply or BYE); otherwise keep listening.
                    if (Finished(await read, tag, "IDLE"))
                        return;
                    read = ReadAsync(cancellationToken, Timeout.InfiniteTimeSpan);
                    continue;
                }
                await connection.WriteLineAsync("DONE", cancellationToken);
                // The pending read gets the server's answer to DONE; it must come within the usual timeout.
                while (!Finished(await read.WaitAsync(options.Timeout, cancellationToken), tag, "IDLE"))
                    read = ReadAsync(cancellationToken);
                return;
            }
        }
        catch (TimeoutException ex)
        {
            await DropAsync();
            throw new MailProtocolException($"{options.Host} did not end IDLE after DONE", ex);
        }
        catch (Exception ex) when (ex is MailProtocolException or OperationCanceledException)
        {
            var error = ByeOr(ex);
            await DropAsync();
            throw error;
        }
    }

    /// <summary>
    /// Idles until the server reports a change to the selected folder or <paramref name="maxWait"/> passes (capped at
    /// <see cref="MaxIdle"/>). True when something changed.
    /// </summary>
    public async Task<bool> WaitForChangeAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        using var done = new CancellationTokenSource(maxWait < MaxIdle ? maxWait : MaxIdle);
        var changed = false;
        void OnChange(object? sender, ImapMailboxChange change)
        {
            changed = true;
            done.Cancel();
        }
        MailboxChanged += OnChange;
        try
        {
            await IdleAsync(done.Token, cancellationToken);
        }
        finally
        {
            MailboxChanged -= OnChange;
        }
        return changed;
    }

    /// <summary>Says goodbye and closes; errors on the way out are of no interest.</summary>
    public async Task LogoutAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
            return;
        try
        {
            await RunAsync(new ImapCommand("LOGOUT"), cancellationToken);
        }
        catch (Exception ex) when (ex is MailProtocolException or ImapCommandException)
        {
        }
        await DropAsync();
    }

    private async Task<ImapMailbox> OpenAsync(string verb, string folder, CancellationToken cancellationToken)
    {
        Selected = null;
        var mailbox = new ImapMailbox(folder) { ReadOnly = verb == "EXAMINE" };
        _opening = mailbox;
        try
        {
            await RunAsync(new ImapCommand(verb + " ").Mailbox(folder), cancellationToken);
        }
        finally
        {
            _opening = null;
        }
        return Selected = mailbox;
    }

    private async Task AuthenticateAsync(string user, string password, CancellationToken cancellationToken)
    {
        if (_capabilities.Contains("AUTH=PLAIN"))
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));
            // With SASL-IR (RFC 4959) the response goes on the command line; without it, after the server's "+".
            var command = _capabilities.Contains("SASL-IR")
                ? new ImapCommand($"AUTHENTICATE PLAIN {token}", "AUTHENTICATE PLAIN ********")
                : new ImapCommand("AUTHENTICATE PLAIN") { Continuation = (token, "********") };
            await LoginAsync(command, cancellationToken);
        }
        else if (!_capabilities.Contains("LOGINDISABLED"))
            await LoginAsync(new ImapCommand("LOGIN ").String(user).Text(" ").String(password).Logged("LOGIN ******** ********"), cancellationToken);
        else
            throw new MailProtocolException($"{options.Host} offers neither AUTHENTICATE PLAIN nor LOGIN on this connection");
    }

    private async Task LoginAsync(ImapCommand command, CancellationToken cancellationToken)
    {
        _capabilities.Clear();
        await RunAsync(command, cancellationToken);
        // Capabilities change after login; servers often send the new ones in the OK's code.
        if (_capabilities.Count == 0)
            await CapabilityAsync(cancellationToken);
    }

    private async Task DropAsync()
    {
        Selected = null;
        _bye = null;
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(DropAsync());
}
