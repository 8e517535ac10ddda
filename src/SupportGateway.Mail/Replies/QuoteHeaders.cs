using System.Text.RegularExpressions;

namespace SupportGateway.Mail.Replies;

/// <summary>
/// Recognises the lines a mail client writes above quoted history: "On … wrote:" attributions in many
/// languages, "-----Original Message-----" rules, and Outlook's From/Sent/To/Subject blocks.
/// Every test looks at a bounded window of lines, so the scan of a message stays linear.
/// </summary>
internal static partial class QuoteHeaders
{
    /// <summary>An attribution spans at most this many lines (Gmail and Outlook wrap long names and addresses).</summary>
    private const int MaxAttributionLines = 5;

    private const int MaxAttributionChars = 400;

    /// <summary>Whether a quote header starts at line <paramref name="i"/>; <paramref name="end"/> is the line after it.</summary>
    public static bool TryMatch(IReadOnlyList<string> lines, int i, out int end)
    {
        end = i + 1;
        var line = lines[i];
        if (line.Length > MaxAttributionChars)
            return false;
        if (RuleWithLabel().IsMatch(line) || ForwardLead().IsMatch(line))
            return true;
        if (HeaderBlockEnd(lines, i) is int blockEnd)
        {
            end = blockEnd;
            return true;
        }
        // Outlook and webmail draw a rule above the header block; some put the whole block on one line.
        if (BareRule().IsMatch(line) && NextNonEmpty(lines, i + 1, 2) is int next)
        {
            if (HeaderBlockEnd(lines, next) is int afterRule)
            {
                end = afterRule;
                return true;
            }
            if (LabelOf(lines[next]) == HeaderField.From)
            {
                end = next + 1;
                return true;
            }
        }
        for (var k = 1; k <= MaxAttributionLines && i + k <= lines.Count; k++)
        {
            if (k > 1 && !StartsLikeAttribution(lines[i]) && !Wrote().IsMatch(lines[i]))
                break;
            if (lines[i + k - 1].Trim().Length == 0)
                continue;
            if (IsAttribution(lines, i, k))
            {
                // A sentence above an attribution is not part of it; an attribution's own second line is.
                for (var j = i + 1; j < i + k; j++)
                {
                    if (StartsLikeAttribution(lines[j]) && IsAttribution(lines, j, i + k - j))
                        return false;
                }
                end = i + k;
                return true;
            }
        }
        return false;
    }

    /// <summary>Splits "reply On Wed, … wrote:" where a client glued the attribution to the last line of the reply.</summary>
    public static (string Reply, string Attribution)? SplitSharedLine(string line)
    {
        if (line.Length > MaxAttributionChars || !line.TrimEnd().EndsWith(':') || line.TrimStart().StartsWith('>'))
            return null;
        var match = SharedLine().Match(line);
        return match.Success && Wrote().IsMatch(match.Groups["attribution"].Value)
            ? (match.Groups["reply"].Value.TrimEnd().TrimEnd('-').TrimEnd(), match.Groups["attribution"].Value)
            : null;
    }

    private static bool IsAttribution(IReadOnlyList<string> lines, int i, int count)
    {
        var window = string.Join(' ', Enumerable.Range(i, count).Select(n => lines[n].Trim()).Where(l => l.Length > 0)).TrimEnd('*', ' ').Replace('：', ':');
        if (window.Length is 0 or > MaxAttributionChars || window.StartsWith('>'))
            return false;
        var colon = window.EndsWith(':');
        var hasDigit = window.Any(char.IsAsciiDigit);
        // "On 4/19/2011, Roman wrote:", "22.04.2014 15:08, Иван пишет:", "Вы писали 22 апреля 2014 г., 15:08:04:".
        if (colon && Wrote().IsMatch(window) && (hasDigit || window.Contains('@')))
            return true;
        // Some webmails drop the colon: "On Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote".
        if (!colon && hasDigit && WroteAtEnd().IsMatch(window) && StartsLikeAttribution(lines[i]))
            return true;
        // Gmail and Yandex in Russian name no verb: "ср, 30 апр. 2025 г. в 15:19, John Doe <doe@example.com>:".
        // Old Gmail wrote no colon either: "2011/4/7 Nathan <support@example.com>" above a "> " quote.
        return hasDigit && AddressAtEnd().IsMatch(window)
            && (colon || (NextNonEmpty(lines, i + count, 2) is int q && lines[q].TrimStart().StartsWith('>') && !WroteAtEnd().IsMatch(lines[q])));
    }

    private static bool StartsLikeAttribution(string line) => AttributionLead().IsMatch(line);

    /// <summary>The end of a run of header lines (From/Sent/To/Subject in any order and language), or null.</summary>
    private static int? HeaderBlockEnd(IReadOnlyList<string> lines, int i)
    {
        var kinds = new HashSet<HeaderField>();
        var end = i;
        var gap = 0;
        for (var n = i; n < lines.Count && n < i + 12; n++)
        {
            if (LabelOf(lines[n]) is HeaderField kind)
            {
                kinds.Add(kind);
                end = n + 1;
                gap = 0;
            }
            else if (n == i || lines[n].Trim().Length == 0 || ++gap > 1)
            {
                // Outlook wraps a long From or Subject onto a second line; a blank line ends the block.
                break;
            }
        }
        var anchored = kinds.Contains(HeaderField.From) || kinds.Contains(HeaderField.Date);
        return anchored && kinds.Count >= 2 ? end : null;
    }

    private static HeaderField? LabelOf(string line)
    {
        var match = Label().Match(line);
        return match.Success && Labels.TryGetValue(match.Groups["label"].Value.Trim(), out var kind) ? kind : null;
    }

    private static int? NextNonEmpty(IReadOnlyList<string> lines, int from, int maxBlank)
    {
        for (var n = from; n < lines.Count && n <= from + maxBlank; n++)
        {
            if (lines[n].Trim().Length > 0)
                return n;
        }
        return null;
    }

    private enum HeaderField { From, Date, To, Subject, Cc }

    private static readonly Dictionary<string, HeaderField> Labels = Build(
        (HeaderField.From, "from von de fra från van od от від lähettäjä da feladó kimden remitente mittente afzender nadawca отправитель відправник 发件人 寄件者 差出人 보낸사람 보낸 사람"),
        (HeaderField.Date, "sent date datum gesendet envoyé enviado enviada отправлено дата надіслано sendt skickat verzonden wysłano data lähetetty inviato fecha dátum message du 日期 发送时间 送信日時 날짜 보낸 날짜"),
        (HeaderField.To, "to an à a para til till aan do кому komu vastaanottaja per címzett 收件人 宛先 받는사람 받는 사람"),
        (HeaderField.Subject, "subject betreff objet sujet asunto assunto emne ämne onderwerp temat тема aihe oggetto tárgy předmět konu 主题 主旨 件名 제목"),
        (HeaderField.Cc, "cc kopie копия kopia cópia copia copie à"));

    private static Dictionary<string, HeaderField> Build(params (HeaderField Kind, string Words)[] groups)
    {
        var map = new Dictionary<string, HeaderField>(StringComparer.OrdinalIgnoreCase);
        foreach (var (kind, words) in groups)
        {
            foreach (var word in words.Split(' '))
                map.TryAdd(word, kind);
        }
        map["copie à"] = HeaderField.Cc;
        map["message du"] = HeaderField.Date;
        map["보낸 사람"] = HeaderField.From;
        map["받는 사람"] = HeaderField.To;
        map["보낸 날짜"] = HeaderField.Date;
        return map;
    }

    // "From:", "*From:*", "  *Sent:* …", "De :", "Von: …".
    [GeneratedRegex(@"^\s*\*?(?<label>[\p{L} ]{1,24}?)\s*\*?\s*[:：]\s*\*?(\s|$)")]
    private static partial Regex Label();

    // "-----Original Message-----", "---- John wrote ----", "-------- Исходное сообщение --------".
    // A longer rule around words is a form's own ("------------ Enter Feedback Below ------------").
    [GeneratedRegex(@"^\s*\*?[-_=]{2,15}\s*\p{L}[^\n]{0,120}?[-_=]{2,15}\*?\s*$")]
    private static partial Regex RuleWithLabel();

    // Outlook's "________________________________" above a header block, or a plain-text hr.
    [GeneratedRegex(@"^\s*(_{5,}|-{5,}|={4,})\s*$")]
    private static partial Regex BareRule();

    [GeneratedRegex(@"^\s*(begin forwarded message|начало пересылаемого сообщения|anfang der weitergeleiteten nachricht|début du message réexpédié)\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex ForwardLead();

    [GeneratedRegex(@"(\bwrote|\bwrites|\bsent\s*:\s*$|написал\w*|\bпишет|\bписал\w*|написав\w*|\bschrieb|\bschreef|\bgeschreven|écrit|escribió|escreveu|\bscritto|\bscrisse|napisał\w*|\bnapsal\w*|\bskrev|\bescrit|\bpisze|\bпише|\bskriver|\bkirjoitti|\bírta|\byazdı|đã viết|写道|寫道|작성|のメッセージ)", RegexOptions.IgnoreCase)]
    private static partial Regex Wrote();

    [GeneratedRegex(@"\b(wrote|пишет|написал\w*|schrieb|écrit|escribió|skrev|napisał\w*)\s*:?$", RegexOptions.IgnoreCase)]
    private static partial Regex WroteAtEnd();

    [GeneratedRegex(@"(<[^<>\s]*@[^<>\s]*>|\S+@\S+|\(\S+@\S+\))\s*:?$")]
    private static partial Regex AddressAtEnd();

    // A date, a weekday then a date ("Mon, 21", "ср, 30", "понедельник, 6"), or the word clients open with.
    [GeneratedRegex(@"^\s*(\d{1,4}\b|\p{L}+,?\s+\d|(on|am|le|el|il|op|em|w|den|på|dne|vào|в|во|вы|在)\b)", RegexOptions.IgnoreCase)]
    private static partial Regex AttributionLead();

    [GeneratedRegex(@"^(?<reply>.*?\S)\s*-*\s*(?<attribution>\b(On|Am|Le|El|Op)\s.*)$")]
    private static partial Regex SharedLine();
}
