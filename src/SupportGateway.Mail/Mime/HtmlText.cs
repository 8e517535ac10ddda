using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace SupportGateway.Mail.Mime;

/// <summary>HTML to readable plain text with AngleSharp: block elements become line breaks, scripts and styles vanish.</summary>
public static class HtmlText
{
    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr", "section", "article",
    };

    public static string ToText(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        var text = new StringBuilder();
        Append(document.Body ?? (INode)document.DocumentElement, text);
        return Normalize(text.ToString());
    }

    private static void Append(INode node, StringBuilder text)
    {
        foreach (var child in node.ChildNodes)
        {
            switch (child)
            {
                case IText t:
                    text.Append(t.Data);
                    break;
                case IElement e when e.LocalName is "script" or "style" or "head" or "title":
                    break;
                case IElement e:
                    var block = Blocks.Contains(e.LocalName);
                    if (block)
                        text.Append('\n');
                    Append(e, text);
                    if (block && e.LocalName != "br")
                        text.Append('\n');
                    break;
            }
        }
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
