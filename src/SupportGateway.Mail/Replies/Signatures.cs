using System.Text.RegularExpressions;

namespace SupportGateway.Mail.Replies;

/// <summary>Lines that open a signature: the RFC 3676 §4.3 delimiter "-- " and the lines mobile clients append.</summary>
internal static partial class Signatures
{
    private const int MaxSignatureLineChars = 120;

    /// <summary>"Sent from my iPhone" is short; "Sent from my desk, it is easier than my phone." is a sentence.</summary>
    private const int MaxMobileWords = 8;

    /// <summary>At most this many lines under a rule of underscores make it a footer (Mailman's, a disclaimer's).</summary>
    private const int MaxFooterLines = 6;

    /// <summary>Whether line <paramref name="i"/> opens a signature that runs to the end.</summary>
    public static bool Starts(IReadOnlyList<string> lines, int i)
    {
        var trimmed = lines[i].Trim();
        if (trimmed.Length >= 2 && trimmed.All(c => c == '_'))
            return lines.Skip(i + 1).Count(l => !string.IsNullOrWhiteSpace(l)) <= MaxFooterLines;
        return Starts(trimmed);
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
        @"(get|download)\s+(\[)?outlook\s+for\b|" +
        @"從我的|从我的" +
        @")", RegexOptions.IgnoreCase)]
    private static partial Regex MobileClient();
}
