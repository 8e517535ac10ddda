using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>A Content-Type field (RFC 2045 §5) with its parameters decoded (RFC 2231).</summary>
public sealed record ContentType(string MediaType, string MediaSubtype, IReadOnlyDictionary<string, string> Parameters)
{
    public static readonly ContentType TextPlain = new("text", "plain", new Dictionary<string, string>());

    public static readonly ContentType MessageRfc822 = new("message", "rfc822", new Dictionary<string, string>());

    public string MimeType => $"{MediaType}/{MediaSubtype}";

    public string? Charset => Parameters.GetValueOrDefault("charset");

    public string? Boundary => Parameters.GetValueOrDefault("boundary");

    public string? Name => Parameters.GetValueOrDefault("name");

    public bool IsMultipart => MediaType == "multipart";

    public bool Is(string type, string subtype) => MediaType == type && MediaSubtype == subtype;

    /// <summary>Parses a field value; a missing or broken one yields <paramref name="fallback"/>'s type with whatever parameters were readable.</summary>
    public static ContentType Parse(ReadOnlySpan<byte> value, ContentType fallback)
    {
        var parameters = MimeParameters.Parse(value, out var main);
        var slash = main.IndexOf('/');
        var type = (slash < 0 ? main : main[..slash]).Trim().ToLowerInvariant();
        var subtype = slash < 0 ? "" : main[(slash + 1)..].Trim().ToLowerInvariant();
        if (type.Length == 0 || !type.All(IsTokenChar))
            return fallback with { Parameters = parameters };
        if (subtype.Length == 0)
            subtype = type == "text" ? "plain" : type == "multipart" ? "mixed" : "octet-stream";
        return new ContentType(type, subtype, parameters);
    }

    private static bool IsTokenChar(char c) => c > ' ' && c < 127 && "()<>@,;:\\\"/[]?=".IndexOf(c) < 0;

    public override string ToString() => MimeType;
}

/// <summary>A Content-Disposition field (RFC 2183).</summary>
public sealed record ContentDisposition(string Disposition, IReadOnlyDictionary<string, string> Parameters)
{
    public string? FileName => Parameters.GetValueOrDefault("filename");

    public bool IsAttachment => Disposition == "attachment";

    public bool IsInline => Disposition == "inline";

    public static ContentDisposition Parse(ReadOnlySpan<byte> value)
    {
        var parameters = MimeParameters.Parse(value, out var main);
        return new ContentDisposition(main.Trim().ToLowerInvariant(), parameters);
    }
}

/// <summary>Parameter lists: <c>; name=value</c>, quoted strings, RFC 2231 continuations and charsets, and the broken forms mailers send.</summary>
internal static class MimeParameters
{
    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> value, out string main)
    {
        var mainEnd = value.IndexOf((byte)';');
        if (mainEnd < 0)
            mainEnd = value.Length;
        // "multipart/mixed boundary=x": a parameter after white space, its ';' forgotten (folding hides it).
        var head = value[..mainEnd].TrimStart(" \t"u8);
        var space = head.IndexOfAny((byte)' ', (byte)'\t');
        if (space >= 0 && head[space..].IndexOf((byte)'=') >= 0)
            mainEnd = mainEnd - head.Length + space;
        main = Encoding.Latin1.GetString(value[..mainEnd]).Trim();
        var raw = new List<(string Name, byte[] Value, bool Quoted)>();
        var i = mainEnd;
        while (i < value.Length)
        {
            i = Skip(value, i);
            var nameStart = i;
            while (i < value.Length && value[i] is not ((byte)'=' or (byte)';'))
                i++;
            var name = Encoding.Latin1.GetString(value[nameStart..i]).Trim().ToLowerInvariant();
            if (i >= value.Length || value[i] == ';')
            {
                i++;
                continue;
            }
            i = Skip(value, i + 1);
            var (bytes, quoted, next) = ReadValue(value, i);
            i = next;
            if (name.Length > 0)
                raw.Add((name, bytes, quoted));
        }
        return Combine(raw);
    }

    private static int Skip(ReadOnlySpan<byte> value, int i)
    {
        while (i < value.Length && value[i] is (byte)' ' or (byte)'\t' or (byte)';')
            i++;
        return i;
    }

    private static (byte[] Value, bool Quoted, int Next) ReadValue(ReadOnlySpan<byte> value, int i)
    {
        var buffer = new List<byte>();
        if (i < value.Length && value[i] == '"')
        {
            i++;
            while (i < value.Length && value[i] != '"')
            {
                if (value[i] == '\\' && i + 1 < value.Length)
                    i++;
                buffer.Add(value[i++]);
            }
            // Skip the closing quote and anything up to the next parameter.
            while (i < value.Length && value[i] != ';')
                i++;
            return ([.. buffer], true, i);
        }
        // Unquoted values with spaces are common ("name=My File.pdf"): read to the next ';'.
        var start = i;
        while (i < value.Length && value[i] != ';')
            i++;
        return (value[start..i].TrimEnd((byte)' ').ToArray(), false, i);
    }

    private static Dictionary<string, string> Combine(List<(string Name, byte[] Value, bool Quoted)> raw)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var sections = new Dictionary<string, SortedDictionary<int, (byte[] Value, bool Encoded)>>();
        foreach (var (name, value, quoted) in raw)
        {
            var star = name.IndexOf('*');
            if (star < 0)
            {
                // RFC 2047 inside a quoted parameter is not allowed (RFC 2047 §5) but Outlook and Gmail send it.
                result.TryAdd(name, EncodedWords.DecodeText(value));
                continue;
            }
            var baseName = name[..star];
            var rest = name[(star + 1)..];
            var encoded = rest.EndsWith('*') || rest.Length == 0;
            var index = int.TryParse(rest.TrimEnd('*'), out var n) ? n : 0;
            if (!sections.TryGetValue(baseName, out var parts))
                sections[baseName] = parts = new SortedDictionary<int, (byte[], bool)>();
            parts.TryAdd(index, (value, encoded && !quoted || encoded));
        }
        foreach (var (name, parts) in sections)
            result[name] = Decode2231(parts.Values.ToList());
        return result;
    }

    /// <summary>RFC 2231 §3-4: charset'language'%XX in the first encoded section, continuations joined as bytes.</summary>
    private static string Decode2231(List<(byte[] Value, bool Encoded)> parts)
    {
        string? charset = null;
        var bytes = new List<byte>();
        for (var k = 0; k < parts.Count; k++)
        {
            var (value, encoded) = parts[k];
            ReadOnlySpan<byte> span = value;
            if (k == 0 && encoded)
            {
                var first = span.IndexOf((byte)'\'');
                var second = first < 0 ? -1 : span[(first + 1)..].IndexOf((byte)'\'');
                if (second >= 0)
                {
                    charset = Encoding.ASCII.GetString(span[..first]);
                    span = span[(first + second + 2)..];
                }
            }
            for (var i = 0; i < span.Length; i++)
            {
                if (encoded && span[i] == '%' && i + 2 < span.Length && TransferEncodings.TryHex(span[i + 1], span[i + 2], out var b))
                {
                    bytes.Add(b);
                    i += 2;
                }
                else
                {
                    bytes.Add(span[i]);
                }
            }
        }
        return Charsets.Decode(bytes.ToArray(), charset);
    }
}
