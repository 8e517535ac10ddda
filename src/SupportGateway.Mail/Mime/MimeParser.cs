using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>Limits that stop hostile or broken input; each failure names the limit and the byte offset.</summary>
public sealed record MimeParserOptions
{
    public int MaxDepth { get; init; } = 64;
    public int MaxHeaderBytes { get; init; } = 1024 * 1024;
    public int MaxParts { get; init; } = 10_000;
    public long MaxMessageBytes { get; init; } = 128L * 1024 * 1024;

    public static readonly MimeParserOptions Default = new();
}

/// <summary>The one error the parser throws: a limit was exceeded. Broken MIME itself is read leniently.</summary>
public sealed class MimeParseException(string message, long offset) : FormatException($"{message} (at byte {offset})")
{
    public long Offset { get; } = offset;
}

/// <summary>
/// A lenient RFC 5322/2045/2046 parser over a byte buffer: lines may end in CRLF, LF or a bare CR;
/// boundaries may be missing or damaged; a header block may lack its blank line.
/// </summary>
public static class MimeParser
{
    public static MimeMessage Parse(ReadOnlyMemory<byte> data, MimeParserOptions? options = null)
    {
        options ??= MimeParserOptions.Default;
        if (data.Length > options.MaxMessageBytes)
            throw new MimeParseException($"The message is larger than {options.MaxMessageBytes} bytes", options.MaxMessageBytes);
        var state = new State(options);
        return new MimeMessage(ParseEntity(state, data, 0, data.Length, 0, ContentType.TextPlain));
    }

    public static bool TryParse(ReadOnlyMemory<byte> data, out MimeMessage? message, out MimeParseException? error, MimeParserOptions? options = null)
    {
        try
        {
            message = Parse(data, options);
            error = null;
            return true;
        }
        catch (MimeParseException ex)
        {
            message = null;
            error = ex;
            return false;
        }
    }

    /// <summary>Reads the stream (up to the size limit) and parses it.</summary>
    public static async Task<MimeMessage> ParseAsync(Stream stream, MimeParserOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= MimeParserOptions.Default;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > options.MaxMessageBytes)
                throw new MimeParseException($"The message is larger than {options.MaxMessageBytes} bytes", options.MaxMessageBytes);
            buffer.Write(chunk, 0, read);
        }
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), options);
    }

    private sealed class State(MimeParserOptions options)
    {
        public MimeParserOptions Options { get; } = options;
        public int Parts { get; set; }
    }

    private static MimeEntity ParseEntity(State state, ReadOnlyMemory<byte> data, int start, int end, int depth, ContentType defaultType)
    {
        if (depth > state.Options.MaxDepth)
            throw new MimeParseException($"MIME nesting is deeper than {state.Options.MaxDepth} levels", start);
        if (++state.Parts > state.Options.MaxParts)
            throw new MimeParseException($"The message has more than {state.Options.MaxParts} parts", start);

        var headers = ReadHeaders(state, data.Span, start, end, out var bodyStart);
        var contentType = headers["Content-Type"] is { } field ? ContentType.Parse(field.UnfoldedBytes, defaultType) : defaultType;
        var entity = new MimeEntity(headers, contentType, start, data[bodyStart..end]);

        if (contentType.IsMultipart && contentType.Boundary is { Length: > 0 } boundary)
        {
            var childType = contentType.MediaSubtype == "digest" ? ContentType.MessageRfc822 : ContentType.TextPlain;
            ParseParts(state, entity, data, Encoding.Latin1.GetBytes("--" + boundary), bodyStart, end, depth, childType);
        }
        else if (contentType.MediaType == "message" && contentType.MediaSubtype is "rfc822" or "global" && bodyStart < end)
        {
            // Some mailers base64-encode attached messages, against RFC 2046 §5.2.1.
            if (entity.TransferEncoding is "base64" or "quoted-printable")
            {
                var decoded = new ReadOnlyMemory<byte>(entity.DecodedContent());
                entity.EmbeddedMessage = ParseEntity(state, decoded, 0, decoded.Length, depth + 1, ContentType.TextPlain);
            }
            else
            {
                entity.EmbeddedMessage = ParseEntity(state, data, bodyStart, end, depth + 1, ContentType.TextPlain);
            }
        }
        return entity;
    }

    private static void ParseParts(State state, MimeEntity entity, ReadOnlyMemory<byte> data, byte[] delimiter, int bodyStart, int end,
        int depth, ContentType childType)
    {
        var span = data.Span;
        var partStart = -1;
        var pos = bodyStart;
        while (pos < end)
        {
            var lineEnd = LineEnd(span, pos, end, out var next);
            var kind = span[pos..lineEnd].StartsWith(delimiter) ? Delimiter(span[(pos + delimiter.Length)..lineEnd]) : 0;
            if (kind != 0)
            {
                // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
                var contentEnd = BeforeLineBreak(span, pos, partStart < 0 ? bodyStart : partStart);
                if (partStart < 0)
                    entity.Preamble = data[bodyStart..contentEnd];
                else
                    entity.AddPart(ParseEntity(state, data, partStart, contentEnd, depth + 1, childType));
                if (kind == 2)
                {
                    entity.Epilogue = data[next..end];
                    return;
                }
                partStart = next;
            }
            pos = next;
        }
        // No closing delimiter: the last part runs to the end.
        if (partStart >= 0)
            entity.AddPart(ParseEntity(state, data, partStart, end, depth + 1, childType));
    }

    /// <summary>
    /// 0: not a delimiter; 1: "--boundary"; 2: "--boundary--". A delimiter only has to begin the
    /// line and what follows is ignored (RFC 2046 §5.1.1), but a boundary character right after it
    /// means a longer boundary, such as a nested part's that starts with ours.
    /// </summary>
    private static int Delimiter(ReadOnlySpan<byte> rest) =>
        rest.StartsWith("--"u8) ? 2 : rest.IsEmpty || rest[0] is (byte)' ' or (byte)'\t' ? 1 : 0;

    private static HeaderList ReadHeaders(State state, ReadOnlySpan<byte> span, int start, int end, out int bodyStart)
    {
        var headers = new HeaderList();
        string? name = null;
        int valueStart = 0, valueEnd = 0, fieldStart = 0;
        var pos = start;
        bodyStart = end;
        while (pos < end)
        {
            if (pos - start > state.Options.MaxHeaderBytes)
                throw new MimeParseException($"A header block is larger than {state.Options.MaxHeaderBytes} bytes", start);
            var lineEnd = LineEnd(span, pos, end, out var next);
            var line = span[pos..lineEnd];
            // An empty line ends the header block. A line of only white space ends it too (some
            // mailers write that as the separator) unless more fields follow: then it was folding.
            if (line.IsEmpty || (line.Trim(" \t"u8).IsEmpty && !(name is not null && FieldOrFoldFollows(span, next, end))))
            {
                bodyStart = next;
                break;
            }
            if (line[0] is (byte)' ' or (byte)'\t' && name is not null)
            {
                valueEnd = lineEnd; // folded continuation (RFC 5322 §2.2.3)
            }
            else if (FieldNameLength(line) is > 0 and var colon)
            {
                Commit(headers, span, name, fieldStart, valueStart, valueEnd);
                name = Encoding.Latin1.GetString(line[..colon].TrimEnd(" \t"u8));
                fieldStart = pos;
                valueStart = pos + colon + 1;
                valueEnd = lineEnd;
            }
            else if (headers.Count == 0 && name is null && line.StartsWith("From "u8))
            {
                // An mbox separator line before the first field.
            }
            else if (name is not null && FieldBeforeBlankLine(span, next, end))
            {
                // A broken line with more fields after it is a bogus field, not the start of the body.
            }
            else
            {
                bodyStart = pos; // no blank line: the body starts at the first line that is not a field
                break;
            }
            pos = next;
        }
        Commit(headers, span, name, fieldStart, valueStart, valueEnd);
        return headers;

        void Commit(HeaderList list, ReadOnlySpan<byte> s, string? fieldName, int offset, int from, int to)
        {
            if (fieldName is not null)
                list.Add(new Header(fieldName, s[from..Math.Max(from, to)].ToArray(), offset));
        }
    }

    private static bool FieldBeforeBlankLine(ReadOnlySpan<byte> span, int pos, int end)
    {
        while (pos < end)
        {
            var line = span[pos..LineEnd(span, pos, end, out var next)];
            if (line.Trim(" \t"u8).IsEmpty)
                return false;
            if (FieldNameLength(line) > 0)
                return true;
            pos = next;
        }
        return false;
    }

    private static bool FieldOrFoldFollows(ReadOnlySpan<byte> span, int next, int end)
    {
        if (next >= end)
            return false;
        var line = span[next..LineEnd(span, next, end, out _)];
        return !line.IsEmpty && (line[0] is (byte)' ' or (byte)'\t' || FieldNameLength(line) > 0);
    }

    /// <summary>The length of "name" in "name:" when the line starts with a field name (RFC 5322 §3.6.8: printable ASCII but ':').</summary>
    private static int FieldNameLength(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
            return 0;
        var name = line[..colon].TrimEnd(" \t"u8);
        if (name.IsEmpty)
            return 0;
        foreach (var b in name)
        {
            if (b is <= 32 or >= 127)
                return 0;
        }
        return colon;
    }

    /// <summary>The end of the line starting at <paramref name="pos"/>; <paramref name="next"/> is where the next line starts. CRLF, LF and a bare CR all end a line.</summary>
    internal static int LineEnd(ReadOnlySpan<byte> span, int pos, int end, out int next)
    {
        var found = span[pos..end].IndexOfAny((byte)'\r', (byte)'\n');
        if (found < 0)
        {
            next = end;
            return end;
        }
        var lineEnd = pos + found;
        next = span[lineEnd] == '\r' && lineEnd + 1 < end && span[lineEnd + 1] == '\n' ? lineEnd + 2 : lineEnd + 1;
        return lineEnd;
    }

    private static int BeforeLineBreak(ReadOnlySpan<byte> span, int pos, int min)
    {
        if (pos - 1 >= min && span[pos - 1] == '\n')
            pos--;
        if (pos - 1 >= min && span[pos - 1] == '\r')
            pos--;
        return pos;
    }
}
