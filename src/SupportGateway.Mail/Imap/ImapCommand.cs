using System.Text;

namespace SupportGateway.Mail.Imap;

/// <summary>A command being composed: text, quoted strings, mailbox names and literals; <see cref="Log"/> is what the protocol log shows.</summary>
internal sealed class ImapCommand
{
    private string? _log;
    private readonly List<(string Text, ReadOnlyMemory<byte>? Literal)> _parts = [];
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _shown = new();

    public ImapCommand(string text, string? log = null)
    {
        Text(text);
        _log = log;
    }

    public (string Line, string Log)? Continuation { get; init; }

    public string Log => _log ?? _shown.ToString();

    public IEnumerable<(string Text, ReadOnlyMemory<byte>? Literal)> Parts => _parts.Append((_text.ToString(), null));

    public ImapCommand Text(string text)
    {
        _text.Append(text);
        _shown.Append(text);
        return this;
    }

    public ImapCommand Logged(string log)
    {
        _log = log;
        return this;
    }

    /// <summary>A folder name: modified UTF-7, then quoted.</summary>
    public ImapCommand Mailbox(string name) => String(ModifiedUtf7.Encode(name));

    /// <summary>A string argument: quoted when it is plain ASCII, a literal otherwise (RFC 9051 §4.3).</summary>
    public ImapCommand String(string value)
    {
        if (value.All(c => c is >= ' ' and <= '~'))
            return Text("\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"");
        return Literal(Encoding.UTF8.GetBytes(value), "{literal}");
    }

    public ImapCommand Literal(ReadOnlyMemory<byte> bytes, string shown)
    {
        _parts.Add((_text.ToString(), bytes));
        _text.Clear();
        _shown.Append(shown);
        return this;
    }
}
