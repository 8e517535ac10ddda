using System.Text;
using System.Text.RegularExpressions;
using SupportGateway.Mail.Inbound;
using SupportGateway.Mail.Mime;

namespace SupportGateway.Mail.Replies;

/// <summary>
/// Separates the new text of a reply from the history it quotes and from the signature below it.
/// </summary>
/// <remarks>
/// The rules, in order:
/// <list type="number">
/// <item>A quote header ("On … wrote:", "-----Original Message-----", a From/Sent/To block) opens a quote. If "&gt; "
/// lines follow it, the quote is that run and text after it is still the reply (bottom-posting and inline answers);
/// otherwise the quote runs to the end, as Outlook quotes without markers.</item>
/// <item>A run of "&gt; " lines at the very end is a quote even without a header. In a reply that quotes, runs
/// between the author's blocks are the quoted questions of an interleaved answer and go with the quote; the
/// author's blocks stay, in order.</item>
/// <item>In what remains, a signature delimiter, a "Sent from my …" line or a sign-off with a name block under it opens the signature.</item>
/// </list>
/// HTML is read through the same rules: blockquotes become "&gt; " lines first. Each line is looked at a bounded
/// number of times, so the work is linear in the size of the text.
/// </remarks>
public static partial class ReplyExtractor
{
    private enum Part : byte { Reply, Quote, Dropped, Signature, SignOff }

    /// <summary>Splits a plain-text body.</summary>
    public static ReplyText FromText(string text) => Split(text, html: false);

    private static ReplyText Split(string text, bool html)
    {
        var lines = Lines(text);
        var parts = new Part[lines.Count];
        MarkQuotes(lines, parts);
        MarkInterleavedQuotes(lines, parts);
        // The last quote both before and after the signature: a signature ends where a quote under it begins (Apple
        // Mail and iOS put the attribution inside the quote, so no header marks it), and a quote can sit above it.
        MarkLastQuote(lines, parts, evenWithTextAfter: html);
        MarkSignature(lines, parts);
        MarkLastQuote(lines, parts, evenWithTextAfter: html);
        var reply = Join(lines, parts, Part.Reply);
        if (reply.Length == 0)
        {
            var whole = Trim(string.Join('\n', lines));
            return ReplyText.Whole(whole);
        }
        return new ReplyText(reply, Join(lines, parts, Part.Quote), Join(lines, parts, Part.SignOff, Part.Signature),
            Join(lines, parts, Part.Reply, Part.Signature, Part.SignOff), Join(lines, parts, Part.SignOff), Join(lines, parts, Part.Reply, Part.SignOff));
    }

    /// <summary>Splits an HTML body: quotes are found in its text rendering, with blockquotes marked.</summary>
    public static ReplyText FromHtml(string html)
    {
        var document = HtmlText.Parse(html);
        var result = Split(HtmlText.ToText(document, markQuotes: true), html: true);
        if (result.Quote.Length > 0 || result.Signature.Length > 0)
            return result;
        // Nothing was taken out: give the text without the quote marks added for the analysis.
        var text = HtmlText.ToText(document, markQuotes: false);
        return ReplyText.Whole(text);
    }

    /// <summary>Splits the body of a message, preferring its plain text to its HTML.</summary>
    public static ReplyText FromMessage(InboundMail message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return !message.HasPlainText && message.HtmlBody is { } html ? FromHtml(html) : FromText(message.Text);
    }

    private static List<string> Lines(string text)
    {
        var lines = new List<string>();
        foreach (var raw in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (QuoteHeaders.SplitSharedLine(raw) is var (reply, attribution) && reply.Length > 0)
            {
                lines.Add(reply);
                lines.Add(attribution);
            }
            else
            {
                lines.Add(raw);
            }
        }
        return lines;
    }

    /// <summary>"&gt; " quoting, or the initials prefix The Bat! and Supercite write ("СП&gt; ", "JD&gt; ").</summary>
    private static bool IsQuoted(string line) => line.TrimStart().StartsWith('>') || InitialsPrefix().IsMatch(line);

    [GeneratedRegex(@"^\s{0,2}\p{Lu}\p{L}{0,3}>(\s|$)")]
    private static partial Regex InitialsPrefix();

    private static bool IsBlank(string line) => string.IsNullOrWhiteSpace(line);

    private static void MarkQuotes(List<string> lines, Part[] parts)
    {
        var replyAbove = false;
        for (var i = 0; i < lines.Count;)
        {
            if (IsBlank(lines[i]) || IsQuoted(lines[i]) || !QuoteHeaders.TryMatch(lines, i, out var headerEnd))
            {
                replyAbove |= !IsBlank(lines[i]);
                i++;
                continue;
            }
            // With nothing above it, an attribution quotes nothing below it unless "> " lines follow:
            // the author wrote under it.
            var end = QuotedRunEnd(lines, headerEnd) ?? (replyAbove ? lines.Count : headerEnd);
            Array.Fill(parts, Part.Quote, i, end - i);
            // Blank lines after a quote in the middle go with it, so the reply keeps one gap, not two.
            for (; end < lines.Count && IsBlank(lines[end]); end++)
                parts[end] = Part.Dropped;
            i = end;
        }
    }

    /// <summary>
    /// In a reply that quotes (a quote header was found), the "&gt; " runs left between the author's blocks are the
    /// quoted questions of an interleaved answer: they go with the quote, and the author's blocks stay in order.
    /// </summary>
    private static void MarkInterleavedQuotes(List<string> lines, Part[] parts)
    {
        if (!parts.Contains(Part.Quote))
            return;
        for (var i = 0; i < lines.Count; i++)
        {
            if (parts[i] != Part.Reply || !IsQuoted(lines[i]))
                continue;
            var end = i;
            while (end < lines.Count && parts[end] == Part.Reply && (IsQuoted(lines[end]) || IsWrappedRemnant(lines, end)))
                parts[end++] = Part.Quote;
            for (; end < lines.Count && parts[end] == Part.Reply && IsBlank(lines[end]); end++)
                parts[end] = Part.Dropped;
            i = end - 1;
        }
    }

    /// <summary>The end of the "&gt; " run right after a header, or null when the quote has no markers.</summary>
    private static int? QuotedRunEnd(List<string> lines, int from)
    {
        var n = from;
        while (n < lines.Count && IsBlank(lines[n]))
            n++;
        if (n == lines.Count || !IsQuoted(lines[n]))
            return null;
        var end = n;
        for (; n < lines.Count; n++)
        {
            if (IsQuoted(lines[n]))
                end = n + 1;
            else if (!IsBlank(lines[n]) && !IsWrappedRemnant(lines, n))
                break;
        }
        return end;
    }

    /// <summary>
    /// Text a client wrapped out of its "&gt; " line: it sits between two quoted lines with no blank line
    /// around it. An inline answer is set apart by blank lines.
    /// </summary>
    private static bool IsWrappedRemnant(List<string> lines, int n) =>
        n > 0 && n + 1 < lines.Count && IsQuoted(lines[n - 1]) && IsQuoted(lines[n + 1]);

    /// <summary>
    /// Marks the last run of "&gt; " lines as a quote: always when it ends the text, and in HTML also when text
    /// follows it, since a blockquote there is the client's quote and what follows it a signature or a disclaimer.
    /// </summary>
    private static void MarkLastQuote(List<string> lines, Part[] parts, bool evenWithTextAfter)
    {
        var n = lines.Count - 1;
        while (n >= 0 && (parts[n] != Part.Reply || IsBlank(lines[n]) || (evenWithTextAfter && !IsQuoted(lines[n]))))
            n--;
        if (n < 0 || !IsQuoted(lines[n]))
            return;
        var end = n + 1;
        var start = n;
        for (; n >= 0 && parts[n] == Part.Reply && (IsQuoted(lines[n]) || IsBlank(lines[n])); n--)
        {
            if (IsQuoted(lines[n]))
                start = n;
        }
        for (var i = start; i < end; i++)
            parts[i] = Part.Quote;
    }

    private static void MarkSignature(List<string> lines, Part[] parts)
    {
        var seenText = false;
        for (var i = 0; i < lines.Count; i++)
        {
            if (parts[i] != Part.Reply)
                continue;
            if (seenText && Signatures.Starts(lines, i, n => parts[n] == Part.Reply) is var start and not SignatureStart.None)
            {
                // A sign-off runs until a delimiter or footer under it; from there on it is the signature proper.
                var part = start == SignatureStart.SignOff ? Part.SignOff : Part.Signature;
                for (var n = i; n < lines.Count; n++)
                {
                    if (parts[n] != Part.Reply)
                        continue;
                    if (part == Part.SignOff && n > i && Signatures.IsDelimiter(lines[n]))
                        part = Part.Signature;
                    parts[n] = part;
                }
                return;
            }
            seenText |= !IsBlank(lines[i]);
        }
    }

    private static string Join(List<string> lines, Part[] parts, params ReadOnlySpan<Part> wanted)
    {
        var text = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            if (wanted.Contains(parts[i]))
                text.Append(lines[i]).Append('\n');
        }
        return Trim(text.ToString());
    }

    /// <summary>Drops blank lines at both ends and trailing white space, keeping the first line's indentation.</summary>
    private static string Trim(string text)
    {
        text = text.TrimEnd();
        var start = 0;
        for (var n = 0; n < text.Length && char.IsWhiteSpace(text[n]); n++)
        {
            if (text[n] == '\n')
                start = n + 1;
        }
        return text[start..];
    }
}
