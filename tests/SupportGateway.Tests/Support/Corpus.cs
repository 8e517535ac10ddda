namespace SupportGateway.Tests.Support;

/// <summary>The shared test corpus: <c>../shared/corpus</c> beside the repository (or SG_CORPUS).</summary>
internal static class Corpus
{
    public static string Root { get; } = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>Every message file under mime/: sidecar results, TNEF streams and notes excluded.</summary>
    public static IReadOnlyList<string> MimeMessages() =>
        [.. Directory.EnumerateFiles(Path("mime"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{System.IO.Path.DirectorySeparatorChar}expected", StringComparison.Ordinal))
            .Where(f => System.IO.Path.GetExtension(f) is ".eml" or ".txt" or ".msg")
            .Order(StringComparer.Ordinal)];

    public static string Relative(string file) => System.IO.Path.GetRelativePath(Root, file);

    /// <summary>The folder holding SupportGateway.sln above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "SupportGateway.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException("The repository root (SupportGateway.sln) was not found above the test binaries.");
    }

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("SG_CORPUS") is { Length: > 0 } configured)
            return configured;
        var corpus = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot(), "..", "shared", "corpus"));
        return Directory.Exists(corpus)
            ? corpus
            : throw new DirectoryNotFoundException($"The test corpus is expected at {corpus} (../shared/corpus beside the repository), or set SG_CORPUS.");
    }
}

/// <summary>
/// A corpus score: agreements out of checks, with every disagreement named. A check whose expected value is a
/// documented defect of the reference tool is set aside (out of <see cref="Ratio"/>, still in <see cref="RawRatio"/>),
/// and printed with the reason; one that agrees anyway is flagged so the stale reason can go.
/// </summary>
internal sealed class Score(string name)
{
    private readonly List<string> _failures = [];
    private readonly List<string> _setAside = [];
    private readonly List<string> _stale = [];

    public int Checks { get; private set; }

    public int Agreed { get; private set; }

    public int SetAside { get; private set; }

    /// <summary>Agreement over the checks whose expected value is not a known reference defect.</summary>
    public double Ratio => Checks == SetAside ? 0 : (double)Agreed / (Checks - SetAside);

    public double RawRatio => Checks == 0 ? 0 : (double)Agreed / Checks;

    public IReadOnlyList<string> Stale => _stale;

    public void Check(bool agreed, string what, string? upstreamDefect = null)
    {
        Checks++;
        if (agreed)
        {
            Agreed++;
            if (upstreamDefect is not null)
                _stale.Add(what);
        }
        else if (upstreamDefect is not null)
        {
            SetAside++;
            _setAside.Add($"{what} — {upstreamDefect}");
        }
        else
        {
            _failures.Add(what);
        }
    }

    public void Add(Score other)
    {
        Checks += other.Checks;
        Agreed += other.Agreed;
        SetAside += other.SetAside;
        _stale.AddRange(other._stale);
    }

    public override string ToString() => name;

    public void Report()
    {
        // "score: " lets tests/summarize.sh repeat the line at the end of the run.
        TestContext.Out.WriteLine($"score: {name}: {Agreed}/{Checks - SetAside} agree ({Ratio:P2}); raw {Agreed}/{Checks} ({RawRatio:P2}) with {SetAside} reference defects set aside");
        foreach (var failure in _failures)
            TestContext.Out.WriteLine($"  differs: {failure}");
        foreach (var aside in _setAside)
            TestContext.Out.WriteLine($"  set aside: {aside}");
        foreach (var stale in _stale)
            TestContext.Out.WriteLine($"  agrees despite a recorded reference defect (remove the record): {stale}");
    }
}
