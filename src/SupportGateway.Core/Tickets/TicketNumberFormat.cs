using System.Text.RegularExpressions;

namespace SupportGateway.Core.Tickets;

/// <summary>
/// Renders and recognises ticket numbers such as <c>SG-10427</c>: a prefix, a sequence and one
/// trailing check digit (Damm algorithm). Damm catches every single-digit error and every swap of
/// two adjacent digits, the two mistakes people make when a number is dictated by phone.
/// </summary>
public sealed partial class TicketNumberFormat
{
    private readonly Regex _pattern;

    public TicketNumberFormat(string prefix = "SG", long start = 1000)
    {
        if (string.IsNullOrWhiteSpace(prefix) || !prefix.All(char.IsAsciiLetterOrDigit))
            throw new ArgumentException("The prefix must be ASCII letters or digits.", nameof(prefix));
        if (start < 1)
            throw new ArgumentOutOfRangeException(nameof(start), "The start must be positive.");
        Prefix = prefix.ToUpperInvariant();
        Start = start;
        // Customers write "SG-10427", "sg 10427", "SG10427", "[SG-10427]" or "#SG-10427".
        _pattern = new Regex($@"(?<![\p{{L}}\p{{N}}]){Regex.Escape(Prefix)}[-\s_]?(\d{{2,18}})(?!\p{{N}})",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    public string Prefix { get; }

    /// <summary>The first sequence value handed out.</summary>
    public long Start { get; }

    public string Render(long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var digits = sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"{Prefix}-{digits}{Damm.CheckDigit(digits)}";
    }

    /// <summary>Parses a whole number string (prefix optional); false on a wrong check digit.</summary>
    public bool TryParse(string? text, out long sequence)
    {
        sequence = 0;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var trimmed = text.Trim();
        var match = _pattern.Match(trimmed);
        if (match.Success && match.Index == 0 && match.Length == trimmed.Length)
            return TryDecode(match.Groups[1].Value, out sequence);
        return trimmed.All(char.IsAsciiDigit) && TryDecode(trimmed, out sequence);
    }

    /// <summary>Every valid ticket number in free text, in order of appearance, without repeats.</summary>
    public IReadOnlyList<long> FindAll(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return [];
        var found = new List<long>();
        foreach (Match match in _pattern.Matches(text))
        {
            if (TryDecode(match.Groups[1].Value, out var sequence) && !found.Contains(sequence))
                found.Add(sequence);
        }
        return found;
    }

    /// <summary>The first valid ticket number in free text, if any.</summary>
    public long? FindFirst(string? text) => FindAll(text) is [var first, ..] ? first : null;

    private static bool TryDecode(string digitsWithCheck, out long sequence)
    {
        sequence = 0;
        if (digitsWithCheck.Length < 2 || !Damm.IsValid(digitsWithCheck))
            return false;
        return long.TryParse(digitsWithCheck.AsSpan(0, digitsWithCheck.Length - 1),
            System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence);
    }
}
