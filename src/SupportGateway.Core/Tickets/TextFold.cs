using System.Text;

namespace SupportGateway.Core.Tickets;

/// <summary>
/// One folding for search, applied in C# to stored text and to queries alike, so that it is the same on every storage
/// engine and for every alphabet: compatibility-normalised (NFKC, so a decomposed "е" + U+0308 is "ё"), lower-cased
/// invariantly, and "ё" read as "е" as Russian writers do.
/// </summary>
public static class TextFold
{
    public static string Fold(string text) =>
        text.Normalize(NormalizationForm.FormKC).ToLowerInvariant().Replace('ё', 'е');

    /// <summary>A LIKE pattern (escape character <c>\</c>) matching <paramref name="query"/> anywhere in folded text.</summary>
    public static string ContainsPattern(string query)
    {
        var folded = Fold(query);
        var pattern = new StringBuilder(folded.Length + 2).Append('%');
        foreach (var c in folded)
            pattern.Append(c is '%' or '_' or '\\' ? "\\" + c : c.ToString());
        return pattern.Append('%').ToString();
    }
}
