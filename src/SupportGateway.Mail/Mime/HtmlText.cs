using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace SupportGateway.Mail.Mime;

/// <summary>HTML to readable plain text with AngleSharp: block elements become line breaks, scripts and styles vanish.</summary>
public static class HtmlText
{
    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "hr", "section", "article", "header", "footer", "dl", "dt", "dd",
    };

    /// <summary>Turns HTML into text.</summary>
    /// <param name="html">The HTML document or fragment.</param>
    /// <param name="markQuotes">
    /// Render <c>blockquote</c> lines with a leading "&gt; " and a rule as a line of underscores, the way a plain-text
    /// client shows a reply, so that reply extraction can read HTML and plain mail alike.
    /// </param>
    public static string ToText(string html, bool markQuotes = false) => ToText(Parse(html), markQuotes);

    internal static IDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    /// <summary>Renders an already parsed document, so one parse can give both renderings.</summary>
    internal static string ToText(IDocument document, bool markQuotes)
    {
        var text = new StringBuilder();
        Append(document.Body ?? (INode)document.DocumentElement, text, markQuotes, pre: false);
        return Normalize(text.ToString());
    }

    private static void Append(INode node, StringBuilder text, bool markQuotes, bool pre)
    {
        foreach (var child in node.ChildNodes)
        {
            switch (child)
            {
                // Outside <pre>, a line break in the source is only white space (HTML's white-space rule).
                case IText t:
                    text.Append(pre ? t.Data : t.Data.Replace('\n', ' ').Replace('\r', ' ').Replace('\t', ' '));
                    break;
                case IElement e when e.LocalName is "script" or "style" or "head" or "title":
                    break;
                case IElement e when e.LocalName == "br":
                    text.Append('\n');
                    break;
                case IElement e when markQuotes && e.LocalName == "blockquote":
                    var quoted = new StringBuilder();
                    Append(e, quoted, markQuotes, pre);
                    BreakLine(text);
                    foreach (var line in Normalize(quoted.ToString()).Split('\n'))
                        text.Append("> ").Append(line).Append('\n');
                    break;
                case IElement e when markQuotes && e.LocalName == "hr":
                    BreakLine(text);
                    text.Append("________________________________\n");
                    break;
                case IElement e when e.LocalName is "p" or "pre":
                    // A paragraph stands apart from its neighbours by a blank line.
                    BreakLine(text);
                    text.Append('\n');
                    Append(e, text, markQuotes, pre || e.LocalName == "pre");
                    BreakLine(text);
                    text.Append('\n');
                    break;
                case IElement e:
                    var block = Blocks.Contains(e.LocalName);
                    if (block)
                        BreakLine(text);
                    Append(e, text, markQuotes, pre);
                    if (block)
                        BreakLine(text);
                    break;
            }
        }
    }

    /// <summary>Ends the current line unless it is already ended: nested blocks make one break, not several.</summary>
    private static void BreakLine(StringBuilder text)
    {
        var end = text.Length;
        while (end > 0 && text[end - 1] == ' ')
            end--;
        if (end > 0 && text[end - 1] != '\n')
            text.Append('\n');
    }

    /// <summary>Collapses runs of spaces within lines and of blank lines between them.</summary>
    private static string Normalize(string text)
    {
        var lines = text.Replace('\u00A0', ' ').Split('\n').Select(l => string.Join(' ', l.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries)));
        var result = new StringBuilder();
        var blank = 0;
        foreach (var line in lines)
        {
            blank = line.Length == 0 ? blank + 1 : 0;
            if (blank <= 1 && !(result.Length == 0 && line.Length == 0))
                result.Append(line).Append('\n');
        }
        return result.ToString().TrimEnd();
    }
}
