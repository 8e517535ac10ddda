using System.Buffers;
using System.Text;

namespace SupportGateway.Mail.Smtp;

/// <summary>An SMTP reply (RFC 5321 §4.2): a three-digit code and one or more text lines.</summary>
public sealed record SmtpReply(int Code, IReadOnlyList<string> Lines)
{
    public bool IsPositive => Code is >= 200 and < 400;

    /// <summary>4xx: try again later (RFC 5321 §4.2.1).</summary>
    public bool IsTransient => Code is >= 400 and < 500;

    /// <summary>5xx: do not repeat as is.</summary>
    public bool IsPermanent => Code >= 500;

    public override string ToString() => $"{Code} {string.Join(" / ", Lines)}";

    /// <summary>
    /// Reads one whole reply from <paramref name="buffer"/>: "250-…" lines up to the "250 …" one. Returns false
    /// when more bytes are needed, leaving <paramref name="buffer"/> as it was.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out SmtpReply? reply)
    {
        reply = null;
        var reader = new SequenceReader<byte>(buffer);
        var lines = new List<string>();
        var code = 0;
        while (reader.TryReadTo(out ReadOnlySequence<byte> raw, (byte)'\n'))
        {
            var line = Encoding.UTF8.GetString(raw).TrimEnd('\r');
            if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), out var lineCode) || (line.Length > 3 && line[3] is not (' ' or '-')))
                throw new Net.MailProtocolException($"not an SMTP reply line: {Truncate(line)}");
            if (code != 0 && lineCode != code)
                throw new Net.MailProtocolException($"reply code changed inside a multi-line reply: {Truncate(line)}");
            code = lineCode;
            lines.Add(line.Length > 4 ? line[4..] : "");
            if (line.Length == 3 || line[3] == ' ')
            {
                buffer = buffer.Slice(reader.Position);
                reply = new SmtpReply(code, lines);
                return true;
            }
        }
        return false;
    }

    private static string Truncate(string line) => line.Length > 80 ? line[..80] + "…" : line;
}

/// <summary>The server refused a command: the connection stays usable. <see cref="Reply"/> tells transient from permanent.</summary>
public sealed class SmtpCommandException(string command, SmtpReply reply) : Exception($"{command} refused: {reply}")
{
    public SmtpReply Reply { get; } = reply;
}

public enum RecipientOutcome { Accepted, Transient, Permanent }

/// <summary>What happened to one recipient: accepted, or refused with the server's reply.</summary>
public sealed record RecipientResult(string Address, RecipientOutcome Outcome, SmtpReply Reply);

/// <summary>The outcome of one message: per recipient, then the reply to the data if any recipient was accepted.</summary>
public sealed record SmtpSendResult(IReadOnlyList<RecipientResult> Recipients, SmtpReply? DataReply)
{
    /// <summary>The recipients the server took responsibility for (RFC 5321 §4.2.5: after the final 250).</summary>
    public IEnumerable<string> Delivered => DataReply?.IsPositive == true
        ? Recipients.Where(r => r.Outcome == RecipientOutcome.Accepted).Select(r => r.Address)
        : [];
}
