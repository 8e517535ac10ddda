namespace SupportGateway.Core.Tickets;

/// <summary>
/// What the customer says about their ticket: a button pressed or a message that only thanks (about a resolution),
/// or that the request is no longer needed (<see cref="Closes"/>: a <c>#close</c> line in a mail).
/// </summary>
public enum CustomerVerdict { None, Confirms, Rejects, Closes }

/// <summary>
/// Recognises a message that only thanks or confirms ("Спасибо!", "спс, всё работает", "Thanks a lot 👍"): after a
/// resolution it is the customer's confirmation, never a reason to reopen or to open a new ticket. Anything with
/// words beyond these is read as a message of its own.
/// </summary>
public static class Gratitude
{
    // Words that carry the thanks or the confirmation; at least one must be present.
    private static readonly HashSet<string> Core = new(StringComparer.OrdinalIgnoreCase)
    {
        "спасибо", "спасибки", "спасибочки", "спс", "благодарю", "благодарим", "пасиб", "пасибо", "работает", "заработало", "решено", "помогло",
        "thanks", "thank", "thx", "ty", "works", "worked", "solved", "fixed", "helped", "👍", "🙏", "👌", "✅",
    };

    // Words that may come with them without making it a new message.
    private static readonly HashSet<string> Filler = new(StringComparer.OrdinalIgnoreCase)
    {
        "большое", "огромное", "вам", "всё", "все", "уже", "теперь", "ок", "окей", "хорошо", "отлично", "супер", "да", "вопрос", "снят",
        "за", "помощь", "понял", "поняла", "понятно", "ещё", "еще", "раз", "всего", "доброго", "очень", "выручили",
        "пришло", "пришёл", "пришел", "пришла", "получил", "получила", "получили", "дошло", "нашёл", "нашел", "нашла", "разобрался", "разобралась",
        "got", "received", "arrived", "found",
        "a", "lot", "so", "much", "very", "you", "ok", "okay", "great", "it", "now", "all", "good", "perfect", "for", "the", "help", "yes",
        "again", "cheers", "many",
    };

    public static bool IsGratitude(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 120)
            return false;
        var words = Words(text);
        return words.Count > 0 && words.Any(Core.Contains) && words.All(w => Core.Contains(w) || Filler.Contains(w));
    }

    /// <summary>Letters and digits make words; each emoji is a word; punctuation and other symbols separate.</summary>
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        var enumerator = System.Globalization.StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            var element = enumerator.GetTextElement();
            if (element.Length == 1 && char.IsLetterOrDigit(element[0]))
            {
                current.Append(char.ToLowerInvariant(element[0]));
                continue;
            }
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
            // An emoji (a surrogate pair or a symbol with a variation selector); skin tones and selectors are dropped.
            var symbol = element.Replace("\uFE0F", "", StringComparison.Ordinal);
            if (char.IsSurrogate(symbol, 0) && symbol.Length >= 2)
                words.Add(symbol[..2]);
            else if (symbol.Length > 0 && char.GetUnicodeCategory(symbol[0]) == System.Globalization.UnicodeCategory.OtherSymbol)
                words.Add(symbol[..1]);
        }
        if (current.Length > 0)
            words.Add(current.ToString());
        return words;
    }
}
