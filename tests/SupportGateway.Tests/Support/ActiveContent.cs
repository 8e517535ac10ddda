using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace SupportGateway.Tests.Support;

/// <summary>
/// The usual cross-site scripting payloads, and a check of rendered HTML (parsed as a browser would, by AngleSharp)
/// for anything that could run: script elements, event handler attributes, script or data URLs, CSS expressions.
/// </summary>
internal static class ActiveContent
{
    public static readonly IReadOnlyList<string> Payloads =
    [
        "<script>alert('sg-xss-1')</script>",
        "<ScRiPt>alert('sg-xss-2')</sCrIpT>",
        "<img src=x onerror=alert('sg-xss-3')>",
        "<IMG SRC=\"JaVaScRiPt:alert('sg-xss-4')\">",
        "<a href=\"javascript:alert('sg-xss-5')\">click me</a>",
        "<a href=\"&#106;&#97;vascript:alert('sg-xss-6')\">encoded</a>",
        "<a href=\"jav&#x09;ascript:alert('sg-xss-7')\">tabbed</a>",
        "<a href=\" JAVASCRIPT:alert('sg-xss-8')\">upper</a>",
        "<div style=\"width: expression(alert('sg-xss-9'))\">css</div>",
        "<div style=\"background:url(javascript:alert('sg-xss-10'))\">css url</div>",
        "<style>body{background:url(\"javascript:alert('sg-xss-11')\")}</style>",
        "<svg onload=alert('sg-xss-12')>",
        "<svg><script>alert('sg-xss-13')</script></svg>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data link</a>",
        "<iframe src=\"data:text/html,<script>alert('sg-xss-15')</script>\"></iframe>",
        "<object data=\"javascript:alert('sg-xss-16')\"></object>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('sg-xss-17')\">",
        "<base href=\"javascript:alert('sg-xss-18')//\">",
        "<form action=\"javascript:alert('sg-xss-19')\"><button>go</button></form>",
        "\"><script>alert('sg-xss-20')</script>",
        "'><img src=x onerror=alert('sg-xss-21')>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert('sg-xss-22')>",
        "&lt;script&gt;alert('sg-xss-23')&lt;/script&gt;",
        "<body onload=alert('sg-xss-24')>",
        "<details open ontoggle=alert('sg-xss-25')>",
    ];

    /// <summary>All payloads in one piece of text, as a hostile customer would paste them.</summary>
    public static string All => string.Join("\n", Payloads);

    private static readonly string[] UrlAttributes = ["href", "src", "action", "formaction", "data", "poster", "background", "xlink:href", "srcdoc", "content"];

    private static readonly string[] Dangerous = ["javascript:", "vbscript:", "data:"];

    /// <summary>What in <paramref name="html"/> could run, described; empty when nothing can.</summary>
    public static IReadOnlyList<string> Find(string html, Func<IElement, bool>? ownElement = null)
    {
        var document = new HtmlParser().ParseDocument(html);
        var found = new List<string>();
        foreach (var element in document.All)
        {
            if (ownElement?.Invoke(element) == true)
                continue;
            var name = element.LocalName;
            if (name is "script" or "iframe" or "object" or "embed" or "base" or "frame" or "frameset" or "applet")
                found.Add($"<{name}> element");
            if (name == "meta" && element.GetAttribute("http-equiv") is { } equiv && equiv.Equals("refresh", StringComparison.OrdinalIgnoreCase))
                found.Add("<meta http-equiv=refresh>");
            if (name == "style" && IsActiveCss(element.TextContent))
                found.Add($"<style> with script: {element.TextContent}");
            foreach (var attribute in element.Attributes)
            {
                var value = attribute.Value;
                if (attribute.LocalName.StartsWith("on", StringComparison.OrdinalIgnoreCase))
                    found.Add($"<{name} {attribute.Name}=\"{value}\">");
                else if (UrlAttributes.Contains(attribute.LocalName, StringComparer.OrdinalIgnoreCase) && IsActiveUrl(value)
                    && !(name == "img" && attribute.LocalName == "src" && IsRasterDataUrl(value)))
                    found.Add($"<{name} {attribute.Name}=\"{value}\">");
                else if (attribute.LocalName.Equals("style", StringComparison.OrdinalIgnoreCase) && IsActiveCss(value))
                    found.Add($"<{name} style=\"{value}\">");
            }
        }
        return found;
    }

    /// <summary>A URL as a browser reads its scheme: blanks and control characters anywhere in it are dropped first.</summary>
    private static bool IsActiveUrl(string value)
    {
        var squeezed = new string([.. value.Where(c => !char.IsWhiteSpace(c) && !char.IsControl(c))]).ToLowerInvariant();
        // <meta content="0;url=…"> carries a URL after the delay.
        var url = squeezed.Contains("url=", StringComparison.Ordinal) ? squeezed[(squeezed.IndexOf("url=", StringComparison.Ordinal) + 4)..].Trim('\'', '"') : squeezed;
        return Dangerous.Any(url.StartsWith);
    }

    /// <summary>A picture inlined in a mail (data:image/png…) cannot run; an SVG one, opened on its own, could.</summary>
    private static bool IsRasterDataUrl(string value)
    {
        var url = value.Trim().ToLowerInvariant();
        return url.StartsWith("data:image/", StringComparison.Ordinal) && !url.StartsWith("data:image/svg", StringComparison.Ordinal);
    }

    private static bool IsActiveCss(string css)
    {
        var squeezed = new string([.. css.Where(c => !char.IsWhiteSpace(c) && c != '\\')]).ToLowerInvariant();
        return squeezed.Contains("expression(", StringComparison.Ordinal) || squeezed.Contains("javascript:", StringComparison.Ordinal)
            || squeezed.Contains("behavior:", StringComparison.Ordinal) || squeezed.Contains("-moz-binding", StringComparison.Ordinal);
    }
}
