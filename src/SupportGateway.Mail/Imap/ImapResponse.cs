using System.Buffers;
using System.Globalization;
using System.Text;
using SupportGateway.Mail.Net;

namespace SupportGateway.Mail.Imap;

public enum ImapTokenKind { Atom, String, Nil, List }

/// <summary>
/// One value of an IMAP response (RFC 9051 §4): an atom (numbers and flags are atoms too), a string (quoted or a
/// literal, kept as bytes), NIL, or a parenthesised list.
/// </summary>
public sealed class ImapToken
{
    private static readonly IReadOnlyList<ImapToken> NoItems = [];

    private ImapToken(ImapTokenKind kind, string? atom, byte[]? bytes, IReadOnlyList<ImapToken>? items)
    {
        Kind = kind;
        _atom = atom;
        Bytes = bytes ?? [];
        Items = items ?? NoItems;
    }

    private readonly string? _atom;

    public static readonly ImapToken Nil = new(ImapTokenKind.Nil, null, null, null);

    public ImapTokenKind Kind { get; }

    /// <summary>A string's bytes as the server sent them (a literal's octets, a quoted string unescaped).</summary>
    public byte[] Bytes { get; }

    public IReadOnlyList<ImapToken> Items { get; }

    /// <summary>An atom as is, a string decoded as UTF-8, null for NIL and lists.</summary>
    public string? Text => Kind switch
    {
        ImapTokenKind.Atom => _atom,
        ImapTokenKind.String => Encoding.UTF8.GetString(Bytes),
        _ => null,
    };

    public bool IsAtom(string value) => Kind == ImapTokenKind.Atom && string.Equals(_atom, value, StringComparison.OrdinalIgnoreCase);

    public bool TryGetNumber(out uint number) =>
        uint.TryParse(Kind == ImapTokenKind.Atom ? _atom : null, NumberStyles.None, CultureInfo.InvariantCulture, out number);

    internal static ImapToken Atom(string value) => new(ImapTokenKind.Atom, value, null, null);

    internal static ImapToken String(byte[] bytes) => new(ImapTokenKind.String, null, bytes, null);

    internal static ImapToken List(IReadOnlyList<ImapToken> items) => new(ImapTokenKind.List, null, null, items);

    public override string ToString() => Kind switch
    {
        ImapTokenKind.Nil => "NIL",
        ImapTokenKind.List => "(" + string.Join(' ', Items) + ")",
        ImapTokenKind.String => Bytes.Length > 60 ? $"{{{Bytes.Length}}}" : "\"" + Text + "\"",
        _ => _atom!,
    };
}

public enum ImapResponseKind { Untagged, Tagged, Continuation }

/// <summary>
/// One whole server response, literals included (RFC 9051 §7). A status response (OK, NO, BAD, PREAUTH, BYE) has
/// <see cref="Status"/>, the bracketed <see cref="Code"/> and <see cref="Text"/>; any other untagged response
/// keeps its values in <see cref="Data"/>, such as ["12", "FETCH", (…)] or ["CAPABILITY", "IMAP4rev1", …].
/// </summary>
public sealed class ImapResponse
{
    /// <summary>A literal larger than this is treated as a broken server rather than buffered.</summary>
    public const int MaxLiteral = 256 * 1024 * 1024;

    private static readonly SearchValues<byte> AtomEnd = SearchValues.Create(" ()[]\r\n\""u8);
    private static readonly string[] Statuses = ["OK", "NO", "BAD", "PREAUTH", "BYE"];

    public required ImapResponseKind Kind { get; init; }

    /// <summary>The command tag of a tagged response; "*" or "+" otherwise.</summary>
    public required string Tag { get; init; }

    public string? Status { get; init; }

    public IReadOnlyList<ImapToken> Code { get; init; } = [];

    public string Text { get; init; } = "";

    public IReadOnlyList<ImapToken> Data { get; init; } = [];

    /// <summary>The first word of <see cref="Code"/>, such as UIDVALIDITY or TRYCREATE.</summary>
    public string? CodeName => Code.Count > 0 ? Code[0].Text?.ToUpperInvariant() : null;

    public override string ToString() => Status is not null
        ? $"{Tag} {Status}{(Code.Count > 0 ? " [" + string.Join(' ', Code) + "]" : "")} {Text}"
        : $"{Tag} {string.Join(' ', Data)}";

    /// <summary>
    /// Reads one whole response from <paramref name="buffer"/>. Returns false when more bytes are needed (a line or
    /// a literal is incomplete), leaving <paramref name="buffer"/> as it was.
    /// </summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out ImapResponse? response)
    {
        response = null;
        var length = FrameLength(buffer);
        if (length < 0)
            return false;
        var frame = buffer.Slice(0, length);
        var bytes = frame.IsSingleSegment ? frame.FirstSpan : frame.ToArray();
        response = Parse(bytes);
        buffer = buffer.Slice(length);
        return true;
    }

    /// <summary>The octets of the first whole response: lines joined by the literals they announce; -1 if incomplete.</summary>
    private static long FrameLength(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
                return -1;
            var literal = LiteralAtEnd(line.IsSingleSegment ? line.FirstSpan : line.ToArray());
            if (literal < 0)
                return reader.Consumed;
            if (reader.Remaining < literal)
                return -1;
            reader.Advance(literal);
        }
    }

    /// <summary>The size announced by a line ending in "{n}" (or "{n+}"), or -1.</summary>
    private static long LiteralAtEnd(ReadOnlySpan<byte> line)
    {
        if (line.EndsWith("\r"u8))
            line = line[..^1];
        if (!line.EndsWith("}"u8))
            return -1;
        var open = line.LastIndexOf((byte)'{');
        if (open < 0)
            return -1;
        var digits = line[(open + 1)..^1];
        if (digits.EndsWith("+"u8))
            digits = digits[..^1];
        if (digits.IsEmpty || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            return -1;
        if (size > MaxLiteral)
            throw new MailProtocolException($"the server announced a literal of {size} octets, more than the {MaxLiteral} this client accepts");
        return size;
    }

    internal static ImapResponse Parse(ReadOnlySpan<byte> bytes)
    {
        var tokenizer = new Tokenizer(bytes);
        var tag = tokenizer.Word();
        if (tag == "+")
            return new ImapResponse { Kind = ImapResponseKind.Continuation, Tag = "+", Text = tokenizer.Rest() };
        if (tag.Length == 0)
            throw new MailProtocolException($"not an IMAP response: {Describe(bytes)}");
        var kind = tag == "*" ? ImapResponseKind.Untagged : ImapResponseKind.Tagged;
        var mark = tokenizer.Position;
        var word = tokenizer.Word().ToUpperInvariant();
        if (Statuses.Contains(word))
        {
            var code = tokenizer.Code();
            return new ImapResponse { Kind = kind, Tag = tag, Status = word, Code = code, Text = tokenizer.Rest() };
        }
        if (kind == ImapResponseKind.Tagged)
            throw new MailProtocolException($"a tagged response without OK, NO or BAD: {Describe(bytes)}");
        tokenizer.Position = mark;
        return new ImapResponse { Kind = kind, Tag = tag, Data = tokenizer.Values() };
    }

    private static string Describe(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 80)]).TrimEnd();
        return bytes.Length > 80 ? text + "…" : text;
    }

    /// <summary>A cursor over one complete response. Servers are met leniently: stray spaces and a missing CR are fine.</summary>
    private ref struct Tokenizer(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public int Position;

        private readonly bool AtEnd => Position >= _bytes.Length || _bytes[Position] is (byte)'\r' or (byte)'\n';

        public string Word()
        {
            SkipSpaces();
            var start = Position;
            while (!AtEnd && _bytes[Position] != ' ')
                Position++;
            return Encoding.ASCII.GetString(_bytes[start..Position]);
        }

        public string Rest()
        {
            SkipSpaces();
            var start = Position;
            while (!AtEnd)
                Position++;
            return Encoding.UTF8.GetString(_bytes[start..Position]);
        }

        /// <summary>The bracketed response code after a status word, if any (RFC 9051 §7.1).</summary>
        public IReadOnlyList<ImapToken> Code()
        {
            SkipSpaces();
            if (AtEnd || _bytes[Position] != '[')
                return [];
            Position++;
            var items = new List<ImapToken>();
            while (true)
            {
                SkipSpaces();
                if (AtEnd)
                    return items;
                if (_bytes[Position] == ']')
                {
                    Position++;
                    return items;
                }
                items.Add(Value(inCode: true));
            }
        }

        public IReadOnlyList<ImapToken> Values()
        {
            var items = new List<ImapToken>();
            while (true)
            {
                SkipSpaces();
                if (AtEnd)
                    return items;
                if (_bytes[Position] == ')')
                {
                    // An unbalanced ')' from a broken server: skip it rather than fail the whole response.
                    Position++;
                    continue;
                }
                items.Add(Value(inCode: false));
            }
        }

        private ImapToken Value(bool inCode)
        {
            switch (_bytes[Position])
            {
                case (byte)'(':
                    Position++;
                    var items = new List<ImapToken>();
                    while (true)
                    {
                        SkipSpaces();
                        if (AtEnd)
                            return ImapToken.List(items);
                        if (_bytes[Position] == ')')
                        {
                            Position++;
                            return ImapToken.List(items);
                        }
                        if (inCode && _bytes[Position] == ']')
                            return ImapToken.List(items);
                        items.Add(Value(inCode));
                    }
                case (byte)'"':
                    return Quoted();
                case (byte)'{':
                    return Literal() ?? AtomOrNil(inCode);
                default:
                    return AtomOrNil(inCode);
            }
        }

        private ImapToken Quoted()
        {
            Position++;
            var bytes = new List<byte>();
            while (!AtEnd && _bytes[Position] != '"')
            {
                if (_bytes[Position] == '\\' && Position + 1 < _bytes.Length && _bytes[Position + 1] is not ((byte)'\r' or (byte)'\n'))
                    Position++;
                bytes.Add(_bytes[Position++]);
            }
            if (!AtEnd)
                Position++;
            return ImapToken.String([.. bytes]);
        }

        /// <summary>A "{n}" literal; null when the brace does not start one, so it is read as an atom instead.</summary>
        private ImapToken? Literal()
        {
            var close = _bytes[Position..].IndexOf((byte)'}');
            if (close < 2)
                return null;
            var digits = _bytes.Slice(Position + 1, close - 1);
            if (digits.EndsWith("+"u8))
                digits = digits[..^1];
            var next = Position + close + 1;
            if (next < _bytes.Length && _bytes[next] == '\r')
                next++;
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var size)
                || next >= _bytes.Length || _bytes[next] != '\n' || next + 1 + size > _bytes.Length)
                return null;
            Position = next + 1 + size;
            return ImapToken.String(_bytes.Slice(next + 1, size).ToArray());
        }

        private ImapToken AtomOrNil(bool inCode)
        {
            var start = Position;
            while (Position < _bytes.Length)
            {
                var end = _bytes[Position..].IndexOfAny(AtomEnd);
                Position = end < 0 ? _bytes.Length : Position + end;
                // A section such as BODY[HEADER.FIELDS (FROM TO)] belongs to the atom, spaces and all.
                if (!inCode && Position < _bytes.Length && _bytes[Position] == '[')
                {
                    var close = _bytes[Position..].IndexOf((byte)']');
                    Position = close < 0 ? _bytes.Length : Position + close + 1;
                    continue;
                }
                break;
            }
            if (Position == start)
            {
                // A stray character no rule expects: take it alone so the cursor always moves.
                Position++;
            }
            var atom = Encoding.UTF8.GetString(_bytes[start..Position]);
            return atom.Equals("NIL", StringComparison.OrdinalIgnoreCase) ? ImapToken.Nil : ImapToken.Atom(atom);
        }

        private void SkipSpaces()
        {
            while (Position < _bytes.Length && _bytes[Position] == ' ')
                Position++;
        }
    }
}
