using System.Globalization;
using System.Text;
using SupportGateway.Mail.Net;

namespace SupportGateway.Mail.Imap;

/// <summary>The protocol half of <see cref="ImapClient"/>: sending tagged commands with literals, reading until their
/// completion, and keeping the session's state from every untagged response.</summary>
public sealed partial class ImapClient
{
    private async Task<ImapResponse> RunAsync(ImapCommand command, CancellationToken cancellationToken, Action<ImapResponse>? onData = null)
    {
        var connection = _connection ?? throw new InvalidOperationException("ConnectAsync first.");
        var tag = NextTag();
        try
        {
            await SendAsync(connection, tag, command, cancellationToken);
            while (true)
            {
                var response = await ReadAsync(cancellationToken);
                if (response.Kind == ImapResponseKind.Continuation)
                {
                    if (command.Continuation is not { } answer)
                        throw new MailProtocolException($"{options.Host} asked for more of {command.Log}: {response}");
                    await connection.WriteLineAsync(answer.Line, cancellationToken, answer.Log);
                    continue;
                }
                if (response.Kind == ImapResponseKind.Untagged)
                {
                    Untagged(response);
                    onData?.Invoke(response);
                    continue;
                }
                if (response.Tag != tag)
                    throw new MailProtocolException($"{options.Host} answered a command that was not sent: {response}");
                Apply(response);
                return response.Status == "OK" ? response : throw new ImapCommandException(command.Log, response);
            }
        }
        catch (Exception ex) when (ex is MailProtocolException or OperationCanceledException)
        {
            var error = ByeOr(ex);
            await DropAsync();
            throw error;
        }
    }

    /// <summary>
    /// Writes a command; each literal is announced "{n+}" and sent at once with LITERAL+ (RFC 7888), otherwise
    /// announced "{n}" and sent after the server's "+".
    /// </summary>
    private async Task SendAsync(MailConnection connection, string tag, ImapCommand command, CancellationToken cancellationToken)
    {
        var nonSynchronizing = _capabilities.Contains("LITERAL+");
        string? log = $"{tag} {command.Log}";
        var line = new StringBuilder(tag).Append(' ');
        foreach (var (text, literal) in command.Parts)
        {
            line.Append(text);
            if (literal is not { } bytes)
                continue;
            line.Append('{').Append(bytes.Length).Append(nonSynchronizing ? "+}\r\n" : "}\r\n");
            var head = Encoding.UTF8.GetBytes(line.ToString());
            line.Clear();
            if (nonSynchronizing)
            {
                await connection.WriteAsync(Concat(head, bytes.Span), log, cancellationToken);
            }
            else
            {
                await connection.WriteAsync(head, log, cancellationToken);
                while (true)
                {
                    var response = await ReadAsync(cancellationToken);
                    if (response.Kind == ImapResponseKind.Continuation)
                        break;
                    if (response.Kind == ImapResponseKind.Tagged)
                        throw response.Tag == tag ? new ImapCommandException(command.Log, response) : new MailProtocolException($"{options.Host} answered a command that was not sent: {response}");
                    Untagged(response);
                }
                await connection.WriteAsync(bytes, null, cancellationToken);
            }
            log = null;
        }
        line.Append("\r\n");
        await connection.WriteAsync(Encoding.UTF8.GetBytes(line.ToString()), log, cancellationToken);
    }

    private static byte[] Concat(byte[] head, ReadOnlySpan<byte> body)
    {
        var all = new byte[head.Length + body.Length];
        head.CopyTo(all, 0);
        body.CopyTo(all.AsSpan(head.Length));
        return all;
    }

    /// <summary>True when <paramref name="response"/> ends the command <paramref name="tag"/>; untagged ones are applied.</summary>
    private bool Finished(ImapResponse response, string tag, string command)
    {
        if (response.Kind == ImapResponseKind.Untagged)
        {
            Untagged(response);
            return false;
        }
        if (response.Kind == ImapResponseKind.Continuation)
            return false;
        if (response.Tag != tag)
            throw new MailProtocolException($"{options.Host} answered a command that was not sent: {response}");
        Apply(response);
        return response.Status == "OK" ? true : throw new ImapCommandException(command, response);
    }

    /// <summary>Untagged responses may come at any time (RFC 9051 §7); each one updates the state it concerns.</summary>
    private void Untagged(ImapResponse response)
    {
        if (response.Status is not null)
        {
            if (response.Status == "BYE")
                _bye = response.Text;
            Apply(response);
            return;
        }
        var data = response.Data;
        if (data.Count == 0)
            return;
        if (data[0].IsAtom("CAPABILITY"))
        {
            SetCapabilities(data.Skip(1));
            return;
        }
        var mailbox = _opening ?? Selected;
        if (data.Count < 2 || !data[0].TryGetNumber(out var number) || mailbox is null)
            return;
        if (data[1].IsAtom("EXISTS"))
        {
            var grew = number > mailbox.Exists;
            mailbox.Exists = number;
            if (grew && mailbox == Selected)
                MailboxChanged?.Invoke(this, new ImapMailboxChange("EXISTS", number));
        }
        else if (data[1].IsAtom("EXPUNGE"))
        {
            mailbox.Exists = mailbox.Exists > 0 ? mailbox.Exists - 1 : 0;
            MailboxChanged?.Invoke(this, new ImapMailboxChange("EXPUNGE", number));
        }
        else if (data[1].IsAtom("FETCH") && mailbox == Selected && FetchItems(response) is { } items && Find(items, "FLAGS") is not null)
        {
            MailboxChanged?.Invoke(this, new ImapMailboxChange("FLAGS", number));
        }
    }

    /// <summary>Applies a status response's code: capabilities, and the folder's UIDVALIDITY, UIDNEXT and access.</summary>
    private void Apply(ImapResponse response)
    {
        switch (response.CodeName)
        {
            case "CAPABILITY":
                SetCapabilities(response.Code.Skip(1));
                return;
            case "READ-ONLY" when _opening is not null:
                _opening.ReadOnly = true;
                return;
            case "READ-WRITE" when _opening is not null:
                _opening.ReadOnly = false;
                return;
        }
        var mailbox = _opening ?? Selected;
        if (mailbox is null || response.Code.Count < 2 || !response.Code[1].TryGetNumber(out var value))
            return;
        if (response.CodeName == "UIDVALIDITY")
            mailbox.UidValidity = value;
        else if (response.CodeName == "UIDNEXT")
            mailbox.UidNext = value;
    }

    private void SetCapabilities(IEnumerable<ImapToken> tokens) =>
        _capabilities = new(tokens.Select(t => t.Text ?? "").Where(c => c.Length > 0 && !options.IgnoredCapabilities.Contains(c)), StringComparer.OrdinalIgnoreCase);

    private static IReadOnlyList<ImapToken>? FetchItems(ImapResponse response) =>
        response.Data is [_, var verb, { Kind: ImapTokenKind.List } items, ..] && verb.IsAtom("FETCH") ? items.Items : null;

    /// <summary>The value after <paramref name="name"/> in a FETCH item list ("BODY[]" also matches "BODY[]&lt;0&gt;").</summary>
    private static ImapToken? Find(IReadOnlyList<ImapToken> items, string name)
    {
        for (var i = 0; i + 1 < items.Count; i += 2)
        {
            var key = items[i].Text;
            if (key is not null && (key.Equals(name, StringComparison.OrdinalIgnoreCase) || (name == "BODY[]" && key.StartsWith("BODY[]", StringComparison.OrdinalIgnoreCase))))
                return items[i + 1];
        }
        return null;
    }

    private static void Merge(ImapMessage message, IReadOnlyList<ImapToken> items)
    {
        if (Find(items, "FLAGS") is { Kind: ImapTokenKind.List } flags)
            message.Flags = [.. flags.Items.Select(f => f.Text ?? "")];
        if (Find(items, "RFC822.SIZE") is { } size && size.TryGetNumber(out var octets))
            message.Size = octets;
        if (Find(items, "INTERNALDATE") is { Text: { } date })
            message.InternalDate = ParseDate(date);
        if (Find(items, "BODY[]") is { } body)
            message.Body = body.Bytes;
    }

    /// <summary>INTERNALDATE: "17-Jul-1996 02:44:25 -0700", the day possibly space-padded.</summary>
    internal static DateTimeOffset? ParseDate(string text)
    {
        var parts = text.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || parts[2].Length != 5
            || !DateTime.TryParseExact($"{parts[0]} {parts[1]}", "d-MMM-yyyy HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)
            || !int.TryParse(parts[2].AsSpan(1, 2), CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(parts[2].AsSpan(3, 2), CultureInfo.InvariantCulture, out var minutes))
            return null;
        var offset = new TimeSpan(hours, minutes, 0);
        return new DateTimeOffset(local, parts[2][0] == '-' ? -offset : offset);
    }

    private Task<ImapResponse> ReadAsync(CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        (_connection ?? throw new MailProtocolException($"the connection to {options.Host} is closed")).ReadAsync<ImapResponse>(ImapResponse.TryRead, cancellationToken, timeout);

    private string NextTag() => "A" + (++_tag).ToString("D4", CultureInfo.InvariantCulture);

    private Exception ByeOr(Exception ex) =>
        _bye is { } bye && ex is MailProtocolException ? new MailProtocolException($"{options.Host} closed the session: {bye}", ex) : ex;
}
