using System.Text;
using SupportGateway.Mail.Net;

namespace SupportGateway.Mail.Smtp;

/// <summary>Where and how to submit mail.</summary>
public sealed record SmtpClientOptions : MailServerOptions
{
    public SmtpClientOptions() => Port = 587;

    /// <summary>The name this client gives in EHLO.</summary>
    public string ClientName { get; init; } = "localhost";
}

/// <summary>
/// An SMTP submission client (RFC 5321): EHLO (HELO for old servers), STARTTLS (RFC 3207), AUTH PLAIN/LOGIN
/// (RFC 4954), SIZE, 8BITMIME, SMTPUTF8 and PIPELINING (RFC 2920) when offered. Each recipient gets its own
/// outcome: a 4xx is transient, a 5xx permanent, and the others are still delivered.
/// </summary>
public sealed class SmtpClient : IAsyncDisposable
{
    private readonly SmtpClientOptions _options;
    private MailConnection? _connection;
    private HashSet<string> _extensions = new(StringComparer.OrdinalIgnoreCase);
    private long? _maxSize;

    public SmtpClient(SmtpClientOptions options) => _options = options;

    /// <summary>The EHLO keywords the server offered, such as PIPELINING or SMTPUTF8.</summary>
    public IReadOnlySet<string> Extensions => _extensions;

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        _connection = await MailConnection.OpenAsync(_options, cancellationToken);
        await Expect("greeting", await ReadAsync(cancellationToken), 220);
        await HelloAsync(cancellationToken);
        if (_options.Security == MailSecurity.StartTls)
        {
            if (!_extensions.Contains("STARTTLS"))
                throw new MailProtocolException($"{_options.Host} does not offer STARTTLS; refusing to continue in clear");
            await Expect("STARTTLS", await CommandAsync("STARTTLS", cancellationToken), 220);
            await _connection.StartTlsAsync(cancellationToken);
            // RFC 3207 §4.2: everything learnt before TLS is forgotten.
            await HelloAsync(cancellationToken);
        }
        if (_options.UserName is { } user)
            await AuthenticateAsync(user, _options.Password ?? "", cancellationToken);
    }

    /// <summary>Sends one message. Refused recipients are reported, not thrown; a refused sender or data throws.</summary>
    public async Task<SmtpSendResult> SendAsync(ReadOnlyMemory<byte> message, string sender, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("ConnectAsync first.");
        if (recipients.Count == 0)
            throw new ArgumentException("A message needs at least one recipient.", nameof(recipients));
        if (_maxSize is > 0 && message.Length > _maxSize)
            throw new SmtpCommandException("SIZE", new SmtpReply(552, [$"message of {message.Length} octets exceeds the server's limit of {_maxSize}"]));

        var mailFrom = MailFrom(message.Span, sender, recipients);
        var commands = new List<string> { mailFrom };
        commands.AddRange(recipients.Select(r => $"RCPT TO:<{r}>"));
        commands.Add("DATA");
        var replies = new List<SmtpReply>();
        if (_extensions.Contains("PIPELINING"))
        {
            // RFC 2920 §3.1: MAIL, RCPT and DATA may go in one write; the replies come back in order.
            await connection.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(commands.Select(c => c + "\r\n"))), string.Join(" | ", commands), cancellationToken);
            foreach (var _ in commands)
                replies.Add(await ReadAsync(cancellationToken));
        }
        else
        {
            foreach (var command in commands)
            {
                var reply = await CommandAsync(command, cancellationToken);
                replies.Add(reply);
                if (command == mailFrom && !reply.IsPositive)
                    break;
                if (command.StartsWith("RCPT", StringComparison.Ordinal) && command == commands[^2] && !replies.Skip(1).Any(r => r.IsPositive))
                    break;
            }
        }

        if (!replies[0].IsPositive)
        {
            await ResetAsync(cancellationToken);
            throw new SmtpCommandException("MAIL FROM", replies[0]);
        }
        var results = recipients.Select((r, i) => new RecipientResult(r, Outcome(replies.ElementAtOrDefault(i + 1)), replies.ElementAtOrDefault(i + 1) ?? new SmtpReply(503, ["not sent"]))).ToList();
        var dataReply = replies.ElementAtOrDefault(recipients.Count + 1);
        if (!results.Any(r => r.Outcome == RecipientOutcome.Accepted))
        {
            // A server that still says 354 to DATA gets an empty message ended at once (RFC 2920 §3.1).
            if (dataReply?.Code == 354)
                await connection.WriteAsync(".\r\n"u8.ToArray(), ".", cancellationToken);
            await ResetAsync(cancellationToken);
            return new SmtpSendResult(results, null);
        }
        if (dataReply?.Code != 354)
        {
            await ResetAsync(cancellationToken);
            throw new SmtpCommandException("DATA", dataReply ?? new SmtpReply(503, ["no reply"]));
        }
        await connection.WriteAsync(DotStuff(message.Span), $"<message, {message.Length} octets>", cancellationToken);
        return new SmtpSendResult(results, await ReadAsync(cancellationToken));
    }

    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
            return;
        try
        {
            await CommandAsync("QUIT", cancellationToken);
        }
        catch (MailProtocolException)
        {
            // The server may close first; the session is over either way.
        }
    }

    private string MailFrom(ReadOnlySpan<byte> message, string sender, IReadOnlyList<string> recipients)
    {
        var command = new StringBuilder($"MAIL FROM:<{sender}>");
        if (_extensions.Contains("SIZE"))
            command.Append(" SIZE=").Append(message.Length);
        var eightBit = message.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
        if (eightBit && _extensions.Contains("8BITMIME"))
            command.Append(" BODY=8BITMIME");
        // RFC 6531 asks for SMTPUTF8 only for UTF-8 addresses or header fields; an 8-bit body needs only 8BITMIME,
        // and asking more makes Postfix refuse hops that lack it (Dovecot's LMTP does).
        var headerEnd = message.IndexOf("\r\n\r\n"u8);
        var utf8Headers = message[..(headerEnd < 0 ? message.Length : headerEnd)].IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
        var utf8Addresses = !Ascii.IsValid(sender) || recipients.Any(r => !Ascii.IsValid(r));
        if ((utf8Addresses || utf8Headers) && _extensions.Contains("SMTPUTF8"))
            command.Append(" SMTPUTF8");
        else if (utf8Addresses)
            throw new SmtpCommandException("MAIL FROM", new SmtpReply(553, [$"{_options.Host} does not offer SMTPUTF8, needed for a non-ASCII address"]));
        return command.ToString();
    }

    private async Task HelloAsync(CancellationToken cancellationToken)
    {
        var reply = await CommandAsync($"EHLO {_options.ClientName}", cancellationToken);
        if (!reply.IsPositive)
        {
            // RFC 5321 §4.1.1.1: a server that does not know EHLO still knows HELO.
            await Expect("HELO", await CommandAsync($"HELO {_options.ClientName}", cancellationToken), 250);
            _extensions = new(StringComparer.OrdinalIgnoreCase);
            return;
        }
        _extensions = new(reply.Lines.Skip(1).Select(l => l.Split(' ')[0]), StringComparer.OrdinalIgnoreCase);
        var size = reply.Lines.Skip(1).FirstOrDefault(l => l.StartsWith("SIZE ", StringComparison.OrdinalIgnoreCase));
        _maxSize = size is not null && long.TryParse(size[5..], out var max) ? max : null;
        var auth = reply.Lines.Skip(1).FirstOrDefault(l => l.StartsWith("AUTH ", StringComparison.OrdinalIgnoreCase));
        foreach (var mechanism in auth?.Split(' ').Skip(1) ?? [])
            _extensions.Add("AUTH=" + mechanism);
    }

    private async Task AuthenticateAsync(string user, string password, CancellationToken cancellationToken)
    {
        var connection = _connection!;
        if (_extensions.Contains("AUTH=PLAIN") || !_extensions.Contains("AUTH=LOGIN"))
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));
            await connection.WriteLineAsync($"AUTH PLAIN {token}", cancellationToken, "AUTH PLAIN ********");
            await Expect("AUTH PLAIN", await ReadAsync(cancellationToken), 235);
            return;
        }
        await Expect("AUTH LOGIN", await CommandAsync("AUTH LOGIN", cancellationToken), 334);
        await connection.WriteLineAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(user)), cancellationToken, "********");
        await Expect("AUTH LOGIN", await ReadAsync(cancellationToken), 334);
        await connection.WriteLineAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(password)), cancellationToken, "********");
        await Expect("AUTH LOGIN", await ReadAsync(cancellationToken), 235);
    }

    private async Task ResetAsync(CancellationToken cancellationToken) => await CommandAsync("RSET", cancellationToken);

    private async Task<SmtpReply> CommandAsync(string command, CancellationToken cancellationToken)
    {
        await _connection!.WriteLineAsync(command, cancellationToken);
        return await ReadAsync(cancellationToken);
    }

    private Task<SmtpReply> ReadAsync(CancellationToken cancellationToken) => _connection!.ReadAsync<SmtpReply>(SmtpReply.TryRead, cancellationToken);

    private static Task Expect(string command, SmtpReply reply, int code) =>
        reply.Code == code ? Task.CompletedTask : throw new SmtpCommandException(command, reply);

    private static RecipientOutcome Outcome(SmtpReply? reply) => reply switch
    {
        { IsPositive: true } => RecipientOutcome.Accepted,
        { IsTransient: true } => RecipientOutcome.Transient,
        _ => RecipientOutcome.Permanent,
    };

    /// <summary>
    /// The DATA body (RFC 5321 §4.5.2): CRLF line endings, a '.' doubled at the start of a line, then "." alone.
    /// A bare LF or CR is made a CRLF, since servers refuse bare line ends (§2.3.8).
    /// </summary>
    internal static byte[] DotStuff(ReadOnlySpan<byte> message)
    {
        var output = new List<byte>(message.Length + 64);
        var lineStart = true;
        for (var i = 0; i < message.Length; i++)
        {
            var b = message[i];
            if (lineStart && b == '.')
                output.Add((byte)'.');
            lineStart = false;
            if (b == '\r' || b == '\n')
            {
                output.Add((byte)'\r');
                output.Add((byte)'\n');
                if (b == '\r' && i + 1 < message.Length && message[i + 1] == '\n')
                    i++;
                lineStart = true;
                continue;
            }
            output.Add(b);
        }
        if (!lineStart)
            output.AddRange("\r\n"u8);
        output.AddRange(".\r\n"u8);
        return [.. output];
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
    }
}
