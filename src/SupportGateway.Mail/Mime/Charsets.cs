using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>
/// Text decoding with a fallback for missing or wrong charset labels. Declared and actual charsets
/// disagree often in Russian mail: when they do, the decoding with the fewest invalid sequences wins,
/// and among the single-byte Cyrillic charsets (where no byte is invalid) letter statistics decide.
/// </summary>
public static class Charsets
{
    private static readonly string[] Cyrillic = ["windows-1251", "koi8-r", "koi8-u", "ibm866", "iso-8859-5"];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Relative frequencies of Russian lower-case letters, per mille (а..я, then ё).
    private static readonly Dictionary<char, int> Frequency = "оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъё"
        .Select((c, i) => (c, weight: 110 - i * 3)).ToDictionary(p => p.c, p => p.weight);

    static Charsets() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Decodes bytes declared to be in <paramref name="charset"/>; null or unknown labels fall back to detection.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, string? charset)
    {
        var encoding = Find(charset);
        // ISO-2022-* and HZ are 7-bit yet not ASCII: only they need decoding when every byte is ASCII.
        if (IsAscii(bytes) && encoding?.CodePage is not (50220 or 50221 or 50222 or 50225 or 50227 or 52936))
            return Encoding.ASCII.GetString(bytes);
        // 8-bit bytes labelled us-ascii are mislabelled: read them as if unlabelled.
        if (encoding is null || encoding.CodePage == 20127)
            return DecodeUnlabelled(bytes);
        if (encoding.CodePage == 65001)
            return TryUtf8(bytes, out var utf8) ? utf8 : DecodeUnlabelled(bytes);
        if (Cyrillic.Contains(encoding.WebName, StringComparer.OrdinalIgnoreCase) || encoding.CodePage is 20866 or 21866 or 866 or 1251 or 28595)
            return BestCyrillic(bytes, encoding);
        var text = encoding.GetString(bytes);
        // A label that yields replacement characters where UTF-8 is clean was wrong.
        return text.Contains('\uFFFD') && TryUtf8(bytes, out var clean) ? clean : text;
    }

    /// <summary>Decodes bytes that came with no charset: ASCII, UTF-8 when valid, else the likeliest legacy charset.</summary>
    public static string DecodeUnlabelled(ReadOnlySpan<byte> bytes)
    {
        if (IsAscii(bytes))
            return Encoding.ASCII.GetString(bytes);
        if (TryUtf8(bytes, out var utf8))
            return utf8;
        var (text, score) = ScoreCyrillic(bytes);
        return score > 0 ? text : Encoding.GetEncoding(1252).GetString(bytes);
    }

    /// <summary>The encoding for a MIME charset label, or null when .NET does not know it.</summary>
    public static Encoding? Find(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset))
            return null;
        var name = charset.Trim().Trim('"', '\'').ToLowerInvariant();
        name = name switch
        {
            "utf8" or "utf-8" or "x-unicode20utf8" => "utf-8",
            "cp1251" or "win-1251" or "win1251" or "x-cp1251" or "windows1251" => "windows-1251",
            "koi8r" or "koi8" or "x-koi8-r" => "koi8-r",
            "cp866" or "866" or "dos-866" => "ibm866",
            "latin1" or "iso8859-1" => "iso-8859-1",
            "unknown-8bit" or "x-unknown" or "unknown" or "default" or "x-user-defined" => "",
            _ => name,
        };
        if (name.Length == 0)
            return null;
        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            // Unknown names, and UTF-7, which .NET refuses (SYSLIB0001): decoded as unlabelled text.
            return null;
        }
    }

    /// <summary>The declared single-byte Cyrillic charset, unless another one reads clearly better.</summary>
    private static string BestCyrillic(ReadOnlySpan<byte> bytes, Encoding declared)
    {
        var declaredText = declared.GetString(bytes);
        var declaredScore = Score(declaredText);
        var (best, bestScore) = ScoreCyrillic(bytes);
        return bestScore > declaredScore + Math.Max(20, Math.Abs(declaredScore) / 2) ? best : declaredText;
    }

    private static (string Text, long Score) ScoreCyrillic(ReadOnlySpan<byte> bytes)
    {
        (string, long) best = ("", long.MinValue);
        foreach (var name in Cyrillic)
        {
            var text = Encoding.GetEncoding(name).GetString(bytes);
            var score = Score(text);
            if (score > best.Item2)
                best = (text, score);
        }
        return best;
    }

    /// <summary>Common letters score up; capitals inside words and pseudo-graphics score down.</summary>
    private static long Score(string text)
    {
        long score = 0;
        var previousLetter = false;
        var previousLatin = false;
        foreach (var c in text)
        {
            var cyrillic = c is >= 'А' and <= 'я' or 'ё' or 'Ё';
            if (cyrillic && previousLatin || char.IsAsciiLetter(c) && previousLetter && !previousLatin)
                score -= 150; // Cyrillic glued to Latin inside a word: a Latin text read with the wrong charset
            if (c is >= 'а' and <= 'я' or 'ё')
                score += Frequency.GetValueOrDefault(c, 5);
            else if (c is >= 'А' and <= 'Я' or 'Ё')
                score += previousLetter ? -60 : 10;
            else if (c is >= '\u2500' and <= '\u25FF' || c is >= '\u0080' and <= '\u00BF' || c == '\uFFFD')
                score -= 80;
            previousLetter = char.IsLetter(c);
            previousLatin = char.IsAsciiLetter(c);
        }
        return score;
    }

    private static bool TryUtf8(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }

    private static bool IsAscii(ReadOnlySpan<byte> bytes) => System.Text.Ascii.IsValid(bytes);
}
