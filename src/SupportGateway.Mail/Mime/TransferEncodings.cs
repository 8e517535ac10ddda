namespace SupportGateway.Mail.Mime;

/// <summary>Content-Transfer-Encoding decoders (RFC 2045 §6). All are lenient: bad input is skipped, never thrown.</summary>
public static class TransferEncodings
{
    private static readonly sbyte[] Base64Values = BuildBase64Table();

    public static byte[] Decode(ReadOnlySpan<byte> body, string? encoding) => encoding?.Trim().ToLowerInvariant() switch
    {
        "base64" => DecodeBase64(body),
        "quoted-printable" => DecodeQuotedPrintable(body),
        "x-uuencode" or "uuencode" or "x-uue" => DecodeUuencode(body),
        _ => body.ToArray(),
    };

    /// <summary>Base64, skipping characters outside the alphabet and tolerating missing or broken padding.</summary>
    public static byte[] DecodeBase64(ReadOnlySpan<byte> text)
    {
        var result = new byte[text.Length / 4 * 3 + 3];
        int length = 0, accumulator = 0, bits = 0;
        foreach (var b in text)
        {
            var value = Base64Values[b];
            if (value < 0)
            {
                if (b == '=' && bits > 0)
                {
                    // Padding ends a quantum; content that follows (concatenated blocks) starts fresh.
                    bits = 0;
                    accumulator = 0;
                }
                continue;
            }
            accumulator = (accumulator << 6) | (byte)value;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                result[length++] = (byte)(accumulator >> bits);
                accumulator &= (1 << bits) - 1;
            }
        }
        return result[..length];
    }

    /// <summary>Quoted-printable: soft line breaks removed, =XX decoded, a stray '=' kept as it is.</summary>
    public static byte[] DecodeQuotedPrintable(ReadOnlySpan<byte> text)
    {
        var result = new byte[text.Length];
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            if (b != '=')
            {
                result[length++] = b;
                continue;
            }
            // Soft line break: '=' then optional transport padding then CRLF, LF or CR (RFC 2045 §6.7 rule 5).
            var j = i + 1;
            while (j < text.Length && text[j] is (byte)' ' or (byte)'\t')
                j++;
            if (j < text.Length && text[j] is (byte)'\r' or (byte)'\n')
            {
                i = text[j] == '\r' && j + 1 < text.Length && text[j + 1] == '\n' ? j + 1 : j;
                continue;
            }
            if (j == text.Length)
                break;
            if (i + 2 < text.Length && TryHex(text[i + 1], text[i + 2], out var decoded))
            {
                result[length++] = decoded;
                i += 2;
            }
            else
            {
                result[length++] = b;
            }
        }
        return result[..length];
    }

    /// <summary>uuencode, best effort: the first "begin" block.</summary>
    public static byte[] DecodeUuencode(ReadOnlySpan<byte> text)
    {
        var output = new List<byte>(text.Length);
        var inBlock = false;
        foreach (var range in text.Split((byte)'\n'))
        {
            var line = text[range].TrimEnd((byte)'\r');
            if (!inBlock)
            {
                inBlock = line.StartsWith("begin "u8);
                continue;
            }
            if (line.StartsWith("end"u8) || line.Length == 0)
                break;
            var count = (line[0] - 32) & 63;
            var produced = 0;
            for (var i = 1; produced < count && i < line.Length; i += 4)
            {
                int c0 = Uu(line, i), c1 = Uu(line, i + 1), c2 = Uu(line, i + 2), c3 = Uu(line, i + 3);
                ReadOnlySpan<byte> chunk = [(byte)((c0 << 2) | (c1 >> 4)), (byte)((c1 << 4) | (c2 >> 2)), (byte)((c2 << 6) | c3)];
                foreach (var b in chunk)
                {
                    if (produced++ < count)
                        output.Add(b);
                }
            }
        }
        return [.. output];
    }

    private static int Uu(ReadOnlySpan<byte> line, int index) => index < line.Length ? (line[index] - 32) & 63 : 0;

    internal static bool TryHex(byte high, byte low, out byte value)
    {
        var h = Hex(high);
        var l = Hex(low);
        value = (byte)((h << 4) | l);
        return h >= 0 && l >= 0;
    }

    private static int Hex(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => -1,
    };

    private static sbyte[] BuildBase64Table()
    {
        var table = new sbyte[256];
        Array.Fill(table, (sbyte)-1);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (var i = 0; i < alphabet.Length; i++)
            table[alphabet[i]] = (sbyte)i;
        // The URL-safe alphabet turns up in mail from web apps.
        table['-'] = 62;
        table['_'] = 63;
        return table;
    }
}
