using System.Globalization;
using System.Text;

namespace SupportGateway.Tests.Host.Reliability;

/// <summary>What one channel went through and what the checks found, a row of the harness's table.</summary>
internal sealed class ChannelTally(string channel)
{
    public string Channel { get; } = channel;

    public int New { get; set; }

    public int FollowUps { get; set; }

    public int Duplicates { get; set; }

    /// <summary>Acknowledgements, answers or notifications this channel should deliver.</summary>
    public int Deliveries { get; set; }

    public int Tried { get; set; }

    public int Accepted { get; set; }

    public int Lost { get; set; }

    public int Doubled { get; set; }

    public int OutOfOrder { get; set; }

    public int Pending { get; set; }

    /// <summary>What each non-zero count was, for the failure message.</summary>
    public List<string> Findings { get; } = [];

    public string Load => Channel == ReliabilityTable.AgentMail
        ? $"{Deliveries} notices, {New} answers"
        : $"{New} new, {FollowUps} follow-ups, {Duplicates} dup";
}

/// <summary>The table the harness prints: load, inputs tried and accepted, and what was lost, doubled, out of order or left pending.</summary>
internal static class ReliabilityTable
{
    public const string AgentMail = "agent mail";

    public static string Render(IReadOnlyList<ChannelTally> rows, IEnumerable<string> faults, TimeSpan simulated, TimeSpan real)
    {
        string[] header = ["channel", "load", "deliveries", "tried", "accepted", "lost", "doubled", "out of order", "pending"];
        var cells = rows.Select(r => new[] { r.Channel, r.Load, N(r.Deliveries), N(r.Tried), N(r.Accepted), N(r.Lost), N(r.Doubled), N(r.OutOfOrder), N(r.Pending) })
            .Append(["total", "", N(rows.Sum(r => r.Deliveries)), N(rows.Sum(r => r.Tried)), N(rows.Sum(r => r.Accepted)), N(rows.Sum(r => r.Lost)),
                N(rows.Sum(r => r.Doubled)), N(rows.Sum(r => r.OutOfOrder)), N(rows.Sum(r => r.Pending))])
            .ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Max(c => c[i].Length))).ToArray();
        var text = new StringBuilder("Reliability harness: mixed load across all channels under faults\n");
        text.Append(CultureInfo.InvariantCulture, $"simulated time {simulated:d\\.hh\\:mm}, real time {real.TotalSeconds:0.0} s\n");
        text.Append("faults:\n");
        foreach (var fault in faults)
            text.Append("  - ").Append(fault).Append('\n');
        void Line(IReadOnlyList<string> values) =>
            text.Append("| ").AppendJoin(" | ", values.Select((v, i) => i < 2 ? v.PadRight(widths[i]) : v.PadLeft(widths[i]))).Append(" |\n");
        Line(header);
        text.Append('|').AppendJoin('|', widths.Select(w => new string('-', w + 2))).Append("|\n");
        foreach (var row in cells)
            Line(row);
        foreach (var finding in rows.SelectMany(r => r.Findings.Select(f => $"{r.Channel}: {f}")))
            text.Append("  ! ").Append(finding).Append('\n');
        return text.ToString();
    }

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}
