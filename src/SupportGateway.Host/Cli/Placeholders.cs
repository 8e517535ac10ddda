using System.Text.RegularExpressions;

namespace SupportGateway.Host.Cli;

/// <summary>
/// Configuration values that are still the samples' stand-ins: <c>REPLACE</c> (in capitals), demo keys ending in <c>change-me</c>,
/// and hosts, URLs or addresses in an <c>example</c> domain. Only keys are reported, never values: some are secrets.
/// </summary>
internal static partial class Placeholders
{
    public static IReadOnlyList<string> Find(IConfiguration configuration) =>
        [.. configuration.GetSection("SupportGateway").AsEnumerable()
            .Where(pair => pair.Value is { Length: > 0 } value && IsPlaceholder(value))
            .Select(pair => pair.Key)
            .Order(StringComparer.Ordinal)];

    public static bool IsPlaceholder(string value) =>
        value.Contains("REPLACE", StringComparison.Ordinal)
        || value.EndsWith("change-me", StringComparison.OrdinalIgnoreCase)
        || ExampleDomain().IsMatch(value);

    // A host, an URL's host or an address's domain with "example" as one of its labels: example.com, imap.example.ru,
    // helpdesk@example.onmicrosoft.com (RFC 2606 reserves example.com/.net/.org; the samples use example.ru too).
    [GeneratedRegex(@"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]+@)?(?:[a-z0-9-]+\.)*example(?:\.[a-z0-9-]+)+(?::\d+)?(?:/\S*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex ExampleDomain();
}
