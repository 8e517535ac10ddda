namespace SupportGateway.Core.Tickets;

public sealed class TicketOptions
{
    public const string Section = "SupportGateway:Tickets";

    public string NumberPrefix { get; set; } = "SG";

    /// <summary>The first sequence value; the rendered number appends a check digit (1000 → SG-10009).</summary>
    public long NumberStart { get; set; } = 1000;

    /// <summary><c>ru</c> or <c>en</c>: used when neither the channel nor the text decides.</summary>
    public string DefaultLanguage { get; set; } = "en";

    /// <summary>Acknowledgement per language; <c>{number}</c> and <c>{subject}</c> are filled in.</summary>
    public Dictionary<string, string> Acknowledgement { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "Thank you! Your request is registered as {number}. Please quote this number in any follow-up.",
        ["ru"] = "Спасибо! Ваше обращение зарегистрировано под номером {number}. Пожалуйста, указывайте этот номер в дальнейшей переписке.",
    };

    /// <summary>Sent when a ticket is resolved, asking the customer to confirm or object; <c>{number}</c> and <c>{subject}</c> are filled in.</summary>
    public Dictionary<string, string> ResolutionNotice { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "Your request {number} is marked as solved. If everything works, please confirm; if not, tell us what is still wrong and we will continue.",
        ["ru"] = "Ваше обращение {number} отмечено как решённое. Если всё в порядке, подтвердите, пожалуйста; если нет — напишите, что осталось не так, и мы продолжим.",
    };

    /// <summary>Sent instead of <see cref="ResolutionNotice"/> when a request is declined (not carried out).</summary>
    public Dictionary<string, string> DeclineNotice { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "Your request {number} will not be carried out; our answer above says why. If you disagree, reply and we will look at it again.",
        ["ru"] = "Ваше обращение {number} не будет выполнено; причину мы объяснили выше. Если вы не согласны, ответьте, и мы вернёмся к нему.",
    };

    /// <summary>Sent on the ticket's channel, and by e-mail where the customer gave an address, when a ticket closes.</summary>
    public Dictionary<string, string> ClosureNotice { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "Your request {number} \"{subject}\" is closed. If the problem comes back, just write to us.",
        ["ru"] = "Ваше обращение {number} «{subject}» закрыто. Если проблема повторится, просто напишите нам.",
    };

    /// <summary>The same when the ticket closed by itself: resolved, and no answer from the customer for the auto-close time.</summary>
    public Dictionary<string, string> AutoClosureNotice { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "Your request {number} \"{subject}\" was solved and is now closed, as we have not heard from you. If the problem comes back, just write to us.",
        ["ru"] = "Ваше обращение {number} «{subject}» решено и закрыто, так как мы не получили от вас ответа. Если проблема повторится, просто напишите нам.",
    };

    /// <summary>A customer's follow-up reopens a closed ticket this long after closing; later it opens a new ticket linked to it.</summary>
    public TimeSpan ReopenWindow { get; set; } = TimeSpan.FromDays(7);

    public static readonly string[] Languages = ["en", "ru"];

    public TicketNumberFormat CreateNumberFormat() => new(NumberPrefix, NumberStart);

    /// <summary>A template in the ticket's language (else English) with <c>{number}</c> and <c>{subject}</c> filled in.</summary>
    public static string Fill(Dictionary<string, string> templates, TicketRow ticket) =>
        (templates.GetValueOrDefault(ticket.Language) ?? templates.GetValueOrDefault("en") ?? "{number}")
            .Replace("{number}", ticket.Number, StringComparison.Ordinal).Replace("{subject}", ticket.Subject, StringComparison.Ordinal);
}

/// <summary>Chooses the customer's language: the channel's hint, else the script of the text, else the default.</summary>
public static class CustomerLanguage
{
    public static string Choose(string? channelHint, string? text, string fallback)
    {
        if (channelHint is { Length: >= 2 })
        {
            var primary = channelHint[..2].ToLowerInvariant();
            if (TicketOptions.Languages.Contains(primary))
                return primary;
        }
        return HasCyrillic(text) ? "ru" : fallback;
    }

    /// <summary>True when Cyrillic letters outnumber Latin ones: "SG-10427 не работает" is Russian.</summary>
    public static bool HasCyrillic(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return false;
        int cyrillic = 0, latin = 0;
        foreach (var c in text)
        {
            if (c is >= '\u0400' and <= '\u04FF')
                cyrillic++;
            else if (char.IsAsciiLetter(c))
                latin++;
        }
        return cyrillic > 0 && cyrillic >= latin;
    }
}
