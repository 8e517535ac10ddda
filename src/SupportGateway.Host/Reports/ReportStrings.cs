using System.Globalization;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Reports;

/// <summary>The page's words in English and Russian, and its number formats.</summary>
internal sealed record ReportStrings(string Language, string Title, string Period, string To, string Organisation, string AllOrganisations,
    string Priority, string Closed, string Met, string ShareMet, string MedianToResolution, string P90ToResolution, string MedianToClosure,
    string P90ToClosure, string Total, IReadOnlyDictionary<TicketPriority, string> Priorities, string Chart, string Week, string Breached,
    string NoneBreached, string Ticket, string HoursUsed, string TargetHours, string Hours, string LoginTitle, string LoginPrompt, string Key,
    string LogIn, string KeyRefused, string SessionRefused, string BadRequest)
{
    public static readonly ReportStrings English = new("en", "SLA report", "Tickets closed from", "to", "Organisation", "all organisations",
        "Priority", "Closed", "Met", "Share met", "Median to resolution, h", "90th percentile to resolution, h", "Median to closure, h",
        "90th percentile to closure, h", "Total",
        new Dictionary<TicketPriority, string>
        {
            [TicketPriority.Emergency] = "Emergency", [TicketPriority.High] = "High", [TicketPriority.Medium] = "Medium", [TicketPriority.Low] = "Low",
        },
        "Share met per week", "Week of", "Breached tickets", "No ticket breached its target.", "Ticket", "Business hours used", "Target, h", "h",
        "Sign in to see the SLA report", "Enter your agent key. The page keeps a signed session, never the key.", "Agent key", "Sign in",
        "This key is not an agent's key.", "The session or link is invalid or has expired; sign in again.", "The report cannot be made");

    public static readonly ReportStrings Russian = new("ru", "Отчёт по SLA", "Заявки, закрытые с", "по", "Организация", "все организации",
        "Приоритет", "Закрыто", "В срок", "Доля в срок", "Медиана до решения, ч", "90-й процентиль до решения, ч", "Медиана до закрытия, ч",
        "90-й процентиль до закрытия, ч", "Итого",
        new Dictionary<TicketPriority, string>
        {
            [TicketPriority.Emergency] = "Критический", [TicketPriority.High] = "Высокий", [TicketPriority.Medium] = "Средний", [TicketPriority.Low] = "Низкий",
        },
        "Доля в срок по неделям", "Неделя с", "Просроченные заявки", "Все заявки решены в срок.", "Заявка", "Использовано рабочих часов", "Норматив, ч", "ч",
        "Войдите, чтобы увидеть отчёт по SLA", "Введите ключ агента. Страница хранит подписанную сессию, а не ключ.", "Ключ агента", "Войти",
        "Это не ключ агента.", "Сессия или ссылка недействительна либо истекла; войдите снова.", "Отчёт не построен");

    /// <summary><c>?lang=ru|en</c> first, else the first of Accept-Language (by quality) that we have, else English.</summary>
    public static ReportStrings For(HttpRequest request)
    {
        if (Pick(request.Query["lang"].ToString()) is { } chosen)
            return chosen;
        var accepted = request.GetTypedHeaders().AcceptLanguage.Where(l => l.Quality is not 0)
            .OrderByDescending(l => l.Quality ?? 1);
        return accepted.Select(l => Pick(l.Value.Value)).FirstOrDefault(s => s is not null) ?? English;
    }

    private static ReportStrings? Pick(string? tag) => tag?.Split('-')[0].ToLowerInvariant() switch
    {
        "ru" => Russian,
        "en" => English,
        _ => null,
    };

    public CultureInfo Culture => CultureInfo.GetCultureInfo(Language == "ru" ? "ru-RU" : "en-GB");

    public string Name(TicketPriority? priority) => priority is { } p ? Priorities[p] : Total;

    public string Number(double? value) => value is { } v ? v.ToString("0.##", Culture) : "—";

    public string Percent(double? share) => share is { } s ? (s * 100).ToString("0.#", Culture) + (Language == "ru" ? "\u00a0%" : "%") : "—";
}
