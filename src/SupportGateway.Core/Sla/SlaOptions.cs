namespace SupportGateway.Core.Sla;

/// <summary>
/// <c>SupportGateway:Sla</c>: business calendars, service-level policies and the auto-close rule. Calendars come
/// from the files in <see cref="CalendarDirectory"/> and from <see cref="Calendars"/>; a policy names one.
/// </summary>
public sealed class SlaOptions
{
    public const string Section = "SupportGateway:Sla";

    /// <summary>The built-in policy, used when none is configured: the regulation's targets on the <c>24x7</c> calendar.</summary>
    public const string BuiltInPolicy = "standard";

    public List<CalendarOptions> Calendars { get; set; } = [];

    /// <summary>A folder of calendar files (one calendar each, JSON with comments); relative to the working directory, else the binary.</summary>
    public string CalendarDirectory { get; set; } = "config/calendars";

    public List<SlaPolicyOptions> Policies { get; set; } = [];

    /// <summary>The policy of a ticket whose organisation names none.</summary>
    public string DefaultPolicy { get; set; } = BuiltInPolicy;

    /// <summary>A resolved ticket the customer leaves unanswered this long (calendar time) closes by itself.</summary>
    public TimeSpan AutoCloseAfter { get; set; } = TimeSpan.FromDays(3);
}

/// <summary>One service level: a calendar, resolution targets per priority in business hours, warning thresholds.</summary>
public sealed class SlaPolicyOptions
{
    public string Name { get; set; } = "";

    public string Calendar { get; set; } = "24x7";

    /// <summary>Business hours per priority (<c>emergency</c>, <c>high</c>, <c>medium</c>, <c>low</c>); the regulation's 12/24/48/96 by default.</summary>
    public Dictionary<string, double> Resolution { get; set; } = [];

    /// <summary>Optional first-response targets in the same form; off unless set.</summary>
    public Dictionary<string, double>? FirstResponse { get; set; }

    /// <summary>Shares of the target at which agents are warned.</summary>
    public List<double>? Warn { get; set; }
}
