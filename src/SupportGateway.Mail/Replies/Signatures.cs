using System.Text.RegularExpressions;

namespace SupportGateway.Mail.Replies;

/// <summary>How a signature opens: a delimiter or footer line, or a sign-off with a name block under it.</summary>
internal enum SignatureStart { None, Delimiter, SignOff }

/// <summary>
/// Lines that open a signature: the RFC 3676 §4.3 delimiter "-- ", the lines mobile clients append, and a sign-off
/// ("С уважением,", "Best regards,") with a short name block under it.
/// </summary>
internal static partial class Signatures
{
    private const int MaxSignatureLineChars = 120;

    /// <summary>"Sent from my iPhone" is short; "Sent from my desk, it is easier than my phone." is a sentence.</summary>
    private const int MaxMobileWords = 8;

    /// <summary>At most this many lines under a rule of underscores make it a footer (Mailman's, a disclaimer's).</summary>
    private const int MaxFooterLines = 6;

    /// <summary>A name block under a valediction: the name, a title, the company, a phone; short lines.</summary>
    private const int MaxNameBlockLines = 6;

    private const int MaxNameBlockLineChars = 80;

    /// <summary>
    /// Whether line <paramref name="i"/> opens a signature that runs to the end; <paramref name="isReply"/> tells which
    /// of the lines after it are still the author's (not quoted history).
    /// </summary>
    public static SignatureStart Starts(IReadOnlyList<string> lines, int i, Func<int, bool> isReply)
    {
        var trimmed = lines[i].Trim();
        if (trimmed.Length >= 2 && trimmed.All(c => c == '_'))
            return lines.Skip(i + 1).Count(l => !string.IsNullOrWhiteSpace(l)) <= MaxFooterLines ? SignatureStart.Delimiter : SignatureStart.None;
        if (Starts(trimmed))
            return SignatureStart.Delimiter;
        return Valediction().IsMatch(trimmed) && NameBlockFollows(lines, i, isReply) ? SignatureStart.SignOff : SignatureStart.None;
    }

    /// <summary>Whether a line opens a delimited signature or a client footer (inside a sign-off block too).</summary>
    public static bool IsDelimiter(string line) => Starts(line.Trim());

    /// <summary>"С уважением,\nОльга Смирнова\nглавный бухгалтер": one to six short lines, and nothing else of the author's after them.</summary>
    private static bool NameBlockFollows(IReadOnlyList<string> lines, int i, Func<int, bool> isReply)
    {
        var block = Enumerable.Range(i + 1, lines.Count - i - 1).Where(isReply).Select(n => lines[n].Trim()).Where(l => l.Length > 0).ToList();
        return block.Count is > 0 and <= MaxNameBlockLines && block.All(l => l.Length <= MaxNameBlockLineChars);
    }

    private static bool Starts(string trimmed)
    {
        if (trimmed.Length is 0 or > MaxSignatureLineChars)
            return false;
        // "-- " is the standard delimiter; many clients drop its space. U+1427 is the mark Gmail
        // trackers leave under the text. Rules of dashes are left alone: people draw tables with them.
        return trimmed is "--" or "ᐧ" || (MobileClient().IsMatch(trimmed) && trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length <= MaxMobileWords);
    }

    // "Sent from my iPhone", "Отправлено из мобильной Почты Mail.ru", "Von meinem iPhone gesendet",
    // "Get Outlook for iOS", "從我的 iPhone 傳送", "(Sent from mobile device)", "<<sent by galaxy>>".
    [GeneratedRegex(
        @"^[(<\s]*(" +
        @"sent\s+(from|via|with|using|by|on)\b|" +
        @"(envoyé|enviado|inviato|verzonden|gesendet|skickat|sendt|wysłane|lähetetty|odesláno)\s+(depuis|desde|de|da|met|von|från|fra|z|from|mit|via|à partir de|a partir de)\b|" +
        @"von\s+meinem\s.*gesendet|diese\s+nachricht\s+wurde\s+von\s+meinem\b|" +
        @"отправлено\s+(с|из|со)\b|надіслано\s+(з|із)\b|" +
        @"(get|download)\s+(\[)?outlook\s+for\b|получить\s+outlook\s+для\b|скачать\s+outlook\s+для\b|" +
        @"從我的|从我的" +
        @")", RegexOptions.IgnoreCase)]
    private static partial Regex MobileClient();

    // A sign-off on a line of its own: "С уважением,", "Best regards,", "Thanks,". Only with a name block under it.
    [GeneratedRegex(
        @"^(с\s+уважением|с\s+наилучшими\s+пожеланиями|с\s+благодарностью|всего\s+(доброго|наилучшего|хорошего)|" +
        @"заранее\s+(спасибо|благодарю)|спасибо|благодарю|" +
        @"(best|kind|warm|warmest)\s+regards|regards|best\s+wishes|many\s+thanks|thanks(\s+(a\s+lot|in\s+advance))?|thank\s+you|cheers|" +
        @"(yours\s+)?sincerely|yours\s+truly)[\s,.!]*$", RegexOptions.IgnoreCase)]
    private static partial Regex Valediction();
}
