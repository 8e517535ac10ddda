using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Scripts;

/// <summary>
/// tests/summarize.sh, which tests/run.sh (and so CI) ends with, on what `dotnet test` printed: a captured run of two
/// assemblies at normal verbosity (one with a failure and a skip, both reporting corpus scores), and variations of it.
/// </summary>
public sealed class RunScriptTests
{
    private static readonly string Captured = Path.Combine(Corpus.RepositoryRoot(), "tests", "SupportGateway.Tests", "Scripts", "dotnet-test-output.txt");

    private static async Task<(int Exit, string[] Lines)> SummarizeAsync(string file, int status)
    {
        var script = Path.Combine(Corpus.RepositoryRoot(), "tests", "summarize.sh");
        var (exit, output) = await Shell.RunAsync($"bash '{script}' '{file}' {status}", Corpus.RepositoryRoot());
        // The explanation of a failure goes to stderr, which is in the same output here.
        return (exit, [.. output.TrimEnd('\n').Split('\n').Where(l => !l.StartsWith("error: ", StringComparison.Ordinal))]);
    }

    [Test]
    public async Task Sums_the_assemblies_and_ends_with_the_one_line()
    {
        var (exit, lines) = await SummarizeAsync(Captured, 1);
        Assert.That(lines[^1], Is.EqualTo("3 passed, 1 failed, 1 skipped"));
        Assert.That(exit, Is.EqualTo(1));
    }

    [Test]
    public async Task Repeats_the_corpus_scores_before_the_line()
    {
        var (_, lines) = await SummarizeAsync(Captured, 1);
        Assert.That(lines[..3], Is.EqualTo(new[] { "corpus scores:", "  mime: 98/100 agree (98.00 %)", "  replies: 270/283 agree (95.41 %)" }));
    }

    [Test]
    public async Task Names_each_failed_test_with_its_message_just_above_the_line()
    {
        // A CI page may keep only the end of a long log: the failure must be readable there.
        var (_, lines) = await SummarizeAsync(Captured, 1);
        Assert.That(lines[3..^1], Is.EqualTo(new[]
        {
            "failed tests:",
            "  Fails [443 ms]",
            "      Assert.That(1, Is.EqualTo(2))",
            "      Expected: 2",
            "      But was:  1",
            "      at A.Scores.Fails() in /tmp/ops-fmt/A/T.cs:line 5",
        }));
    }

    [TestCase(0, 0)]
    [TestCase(1, 1)]
    public async Task A_green_run_passes_unless_dotnet_failed(int status, int expected)
    {
        var file = Path.GetTempFileName();
        // The second assembly's part of the captured run: two passed, nothing failed.
        var all = await File.ReadAllLinesAsync(Captured);
        await File.WriteAllLinesAsync(file, all[^8..]);
        try
        {
            var (exit, lines) = await SummarizeAsync(file, status);
            Assert.That((exit, lines[^1]), Is.EqualTo((expected, "2 passed, 0 failed, 0 skipped")));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task No_test_run_fails()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (exit, lines) = await SummarizeAsync(file, 0);
            Assert.That((exit, lines[^1]), Is.EqualTo((1, "0 passed, 0 failed, 0 skipped")));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void Run_sh_shows_each_test_and_hands_the_output_to_the_summary()
    {
        var script = File.ReadAllText(Path.Combine(Corpus.RepositoryRoot(), "tests", "run.sh"));
        Assert.That(script, Does.Contain("--logger \"console;verbosity=normal\"").And.Contain("bash tests/summarize.sh \"$out\" \"$status\""));
    }
}
