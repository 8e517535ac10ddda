using System.Globalization;
using System.Text;

namespace SupportGateway.Tests.Host.Fuzz;

/// <summary>One fuzz target's counts, and the first failures with the case number that replays each (with the seed).</summary>
internal sealed class FuzzTally(string target, int seed)
{
    private const int KeptFailures = 20;
    private readonly List<string> _failures = [];

    public string Target { get; } = target;
    public int Seed { get; } = seed;
    public int Cases { get; set; }
    public int Success { get; set; }
    public int ClientError { get; set; }
    public int ServerError { get; set; }
    public int Hangs { get; set; }
    public int Exceptions { get; set; }
    public long Tickets { get; set; }
    public long Parked { get; set; }
    public int FailureCount { get; private set; }

    public IReadOnlyList<string> Failures => _failures;

    public void Fail(int n, string what)
    {
        FailureCount++;
        if (_failures.Count < KeptFailures)
            _failures.Add(n < 0 ? $"after the run: {what}" : $"case {n} (seed {Seed}): {what}");
    }

    public static string Render(IEnumerable<FuzzTally> tallies)
    {
        var text = new StringBuilder();
        text.AppendLine("| target   | seed     | cases | 2xx   | 4xx   | 5xx | hangs | exceptions | tickets | parked |");
        text.AppendLine("|----------|----------|-------|-------|-------|-----|-------|------------|---------|--------|");
        foreach (var t in tallies)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {t.Target,-8} | {t.Seed,8} | {t.Cases,5} | {t.Success,5} | {t.ClientError,5} | {t.ServerError,3} | {t.Hangs,5} | {t.Exceptions,10} | {t.Tickets,7} | {t.Parked,6} |"));
        foreach (var t in tallies)
            foreach (var failure in t.Failures)
                text.AppendLine($"  {t.Target}: {failure}");
        return text.ToString();
    }
}
