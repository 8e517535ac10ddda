using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using NodaTime;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Core.Sla;

/// <summary>
/// The calendars and policies, parsed and checked once at start. Calendar files come first, then the ones in the
/// configuration (which may replace a file's calendar of the same name).
/// </summary>
public sealed class SlaCatalog
{
    private readonly Dictionary<string, BusinessCalendar> _calendars = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SlaPolicy> _policies = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _policyOfOrganisation = new(StringComparer.OrdinalIgnoreCase);

    public SlaCatalog(SlaOptions options, IReadOnlyList<OrganisationOptions> organisations, List<string> errors)
    {
        AutoCloseAfter = options.AutoCloseAfter;
        if (options.AutoCloseAfter <= TimeSpan.Zero)
            errors.Add($"{SlaOptions.Section}:AutoCloseAfter: must be positive");
        foreach (var (key, calendar) in CalendarFiles(options.CalendarDirectory, errors)
            .Concat(options.Calendars.Select((c, i) => ($"{SlaOptions.Section}:Calendars:{i}", c))))
        {
            if (calendar.Build(key, errors) is { } built)
                _calendars[built.Name] = built;
        }
        _calendars.TryAdd("24x7", BuiltIn24x7());

        var policies = options.Policies.Count > 0 ? options.Policies : [new SlaPolicyOptions { Name = SlaOptions.BuiltInPolicy }];
        for (var i = 0; i < policies.Count; i++)
        {
            if (BuildPolicy($"{SlaOptions.Section}:Policies:{i}", policies[i], errors) is { } policy && !_policies.TryAdd(policy.Name, policy))
                errors.Add($"{SlaOptions.Section}:Policies:{i}:Name: '{policy.Name}' is listed twice");
        }
        if (!_policies.ContainsKey(options.DefaultPolicy))
            errors.Add($"{SlaOptions.Section}:DefaultPolicy: '{options.DefaultPolicy}' is not a policy; known: {string.Join(", ", _policies.Keys)}");
        Default = _policies.GetValueOrDefault(options.DefaultPolicy) ?? _policies.Values.FirstOrDefault()!;
        for (var i = 0; i < organisations.Count; i++)
        {
            if (organisations[i].SlaPolicy is not { Length: > 0 } name)
                continue;
            if (_policies.ContainsKey(name))
                _policyOfOrganisation[organisations[i].AccountNumber] = name;
            else
                errors.Add($"{OrganisationOptions.Section}:{i}:SlaPolicy: '{name}' is not a policy in {SlaOptions.Section}:Policies");
        }
    }

    public TimeSpan AutoCloseAfter { get; }

    public SlaPolicy Default { get; }

    public IReadOnlyCollection<BusinessCalendar> Calendars => _calendars.Values;

    public BusinessCalendar? Calendar(string name) => _calendars.GetValueOrDefault(name);

    public IReadOnlyCollection<SlaPolicy> Policies => _policies.Values;

    /// <summary>
    /// Calendars a policy uses whose dated entries (holidays from decrees) end before <paramref name="year"/>: past
    /// them every weekday counts as open, so the next year's calendar is due.
    /// </summary>
    public IEnumerable<BusinessCalendar> WithoutYear(int year) =>
        _policies.Values.Select(p => p.Calendar).Distinct().Where(c => c.LastDatedYear < year);

    /// <summary>A ticket's policy by the name stored with it; a policy removed from the configuration falls back to the default.</summary>
    public SlaPolicy Policy(string? name) => name is not null && _policies.TryGetValue(name, out var policy) ? policy : Default;

    /// <summary>The policy an organisation's contract names, else the default.</summary>
    public SlaPolicy PolicyForOrganisation(string? accountNumber) =>
        accountNumber is not null && _policyOfOrganisation.TryGetValue(accountNumber, out var name) ? _policies[name] : Default;

    private SlaPolicy? BuildPolicy(string key, SlaPolicyOptions options, List<string> errors)
    {
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(options.Name))
            errors.Add($"{key}:Name: must not be empty");
        var calendar = _calendars.GetValueOrDefault(options.Calendar ?? "");
        if (calendar is null)
            errors.Add($"{key}:Calendar: '{options.Calendar}' is not a calendar; known: {string.Join(", ", _calendars.Keys.Order())}");
        var resolution = Targets($"{key}:Resolution", options.Resolution, SlaPolicy.RegulationHours, errors);
        var firstResponse = options.FirstResponse is { Count: > 0 } first ? Targets($"{key}:FirstResponse", first, null, errors) : null;
        var warn = (options.Warn ?? [0.75]).Order().ToList();
        if (warn.Any(w => w is <= 0 or >= 1))
            errors.Add($"{key}:Warn: every threshold must be a share of the target between 0 and 1 (e.g. 0.75)");
        return errors.Count == before ? new SlaPolicy(options.Name.Trim(), calendar!, resolution, firstResponse, warn.Distinct().ToList()) : null;
    }

    private static Dictionary<TicketPriority, Duration> Targets(string key, Dictionary<string, double> configured,
        IReadOnlyDictionary<TicketPriority, double>? defaults, List<string> errors)
    {
        var targets = new Dictionary<TicketPriority, Duration>();
        foreach (var (name, hours) in configured)
        {
            if (!WireName.TryParse<TicketPriority>(name, out var priority))
                errors.Add($"{key}:{name}: not a priority; use {string.Join(", ", WireName.AllOf<TicketPriority>())}");
            else if (hours is <= 0 or > 100_000 || double.IsNaN(hours))
                errors.Add($"{key}:{name}: must be a positive number of business hours");
            else
                targets[priority] = Duration.FromSeconds(Math.Round(hours * 3600));
        }
        foreach (var priority in Enum.GetValues<TicketPriority>())
        {
            if (targets.ContainsKey(priority))
                continue;
            if (defaults is null)
                errors.Add($"{key}:{WireName.Of(priority)}: missing; give a target for every priority");
            else
                targets[priority] = Duration.FromHours(defaults[priority]);
        }
        return targets;
    }

    private static IEnumerable<(string Key, CalendarOptions Calendar)> CalendarFiles(string directory, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(directory))
            yield break;
        var found = new[] { Path.GetFullPath(directory), Path.Combine(AppContext.BaseDirectory, directory) }.FirstOrDefault(Directory.Exists);
        if (found is null)
            yield break;
        foreach (var file in Directory.EnumerateFiles(found, "*.json").Order(StringComparer.Ordinal))
        {
            CalendarOptions? calendar = null;
            try
            {
                calendar = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: false).Build().Get<CalendarOptions>();
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or InvalidOperationException)
            {
                errors.Add($"{file}: {ex.InnerException?.Message ?? ex.Message}");
            }
            if (calendar is not null)
                yield return (file, calendar);
        }
    }

    private static BusinessCalendar BuiltIn24x7() => new("24x7", DateTimeZoneProviders.Tzdb["Europe/Moscow"],
        Enum.GetValues<IsoDayOfWeek>().Where(d => d != IsoDayOfWeek.None).ToDictionary(d => d, _ => new[] { new DayHours(LocalTime.Midnight, null) }),
        [], new Dictionary<NodaTime.LocalDate, DayHours[]>());
}

/// <summary>Builds the catalog at start, so a bad calendar or policy stops the gateway with one line per mistake.</summary>
public sealed class SlaOptionsValidator(IOptions<List<OrganisationOptions>> organisations) : IValidateOptions<SlaOptions>
{
    public ValidateOptionsResult Validate(string? name, SlaOptions options)
    {
        var errors = new List<string>();
        _ = new SlaCatalog(options, organisations.Value, errors);
        return CoreOptionsValidator.Collect([.. errors]);
    }
}
