using System.Text.RegularExpressions;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Deploy;

/// <summary>
/// No container engine here, so the Dockerfile's build stage is replayed: into an empty folder standing for the
/// container's <c>/</c>, exactly what its COPY lines copy (less what .dockerignore leaves out of the context), and its
/// RUN lines run there in order. A project the COPY lines forget fails restore or publish as it would in Docker.
/// The package cache is this machine's, as a Docker build cache would keep restored packages.
/// </summary>
[NonParallelizable]
public sealed partial class DockerfileReplayTests
{
    private static readonly string Repository = Corpus.RepositoryRoot();

    [Test]
    public async Task The_build_stage_publishes_from_exactly_what_it_copies_and_the_image_starts_without_demo_keys()
    {
        var stages = Stages(File.ReadAllText(Path.Combine(Repository, "Dockerfile")));
        Assert.That(stages, Has.Count.EqualTo(2), "a build stage and the runtime stage");
        var ignored = DockerIgnore(File.ReadAllLines(Path.Combine(Repository, ".dockerignore")));
        var root = TempDirectory.Create();
        try
        {
            var workdir = "/";
            foreach (var (instruction, arguments) in stages[0].Skip(1))
            {
                switch (instruction)
                {
                    case "WORKDIR":
                        workdir = arguments.StartsWith('/') ? arguments : $"{workdir.TrimEnd('/')}/{arguments}";
                        Directory.CreateDirectory(InRoot(root, workdir));
                        break;
                    case "COPY":
                        var paths = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        Assert.That(paths.Where(p => p.StartsWith("--", StringComparison.Ordinal)), Is.Empty, "the build stage copies from the context only");
                        var target = paths[^1].StartsWith('/') ? paths[^1] : $"{workdir.TrimEnd('/')}/{paths[^1]}";
                        foreach (var source in paths[..^1])
                            Copy(source, InRoot(root, target), target.EndsWith('/') || paths.Length > 2, ignored);
                        break;
                    case "RUN":
                        // The container's absolute paths (-o /app) are under the stand-in root.
                        var command = AbsolutePath().Replace(arguments, m => InRoot(root, m.Value));
                        var (exit, output) = await Shell.RunAsync(command, InRoot(root, workdir), timeout: TimeSpan.FromMinutes(8));
                        Assert.That(exit, Is.Zero, $"RUN {arguments}\n{output}");
                        break;
                    default:
                        Assert.Fail($"the replay does not know {instruction} in the build stage");
                        break;
                }
            }

            var app = InRoot(root, "/app");
            Assert.That(File.Exists(Path.Combine(app, "SupportGateway.Host.dll")), "publish wrote the gateway to /app");
            Assert.That(Directory.GetFiles(Path.Combine(app, "config", "calendars"), "*.json"), Is.Not.Empty, "the calendars travel with it");
            var withKeys = Directory.EnumerateFiles(app, "*.json", SearchOption.AllDirectories)
                .Where(f => File.ReadAllText(f).Contains("change-me", StringComparison.Ordinal)).ToList();
            Assert.That(withKeys, Is.Empty, "no demo keys in the image");

            // The image as it starts: WORKDIR /app, its ENV, nothing mounted. The options are valid and every channel
            // that needs a key is off until the operator gives one.
            var runtime = stages[1];
            Assert.That(Value(runtime, "WORKDIR"), Is.EqualTo("/app"));
            var environment = EnvironmentOf(runtime);
            var (code, said) = await Shell.RunAsync("dotnet SupportGateway.Host.dll check-config", app, environment);
            Assert.That(code, Is.Zero, said);
            Assert.That(said, Does.Contain("Configuration is valid.").And.Contain("api: off").And.Contain("agents: 0"));

            // The database's default place (data/ under the working directory) is the declared volume.
            Assert.That(Value(runtime, "VOLUME"), Is.EqualTo("/app/data"));
            Assert.That(Value(runtime, "USER"), Is.Not.Empty.And.Not.EqualTo("root").And.Not.EqualTo("0"));
            Assert.That(Value(runtime, "HEALTHCHECK"), Does.Contain("\"healthcheck\""), "the gateway's own check: the runtime image has no curl");
        }
        finally
        {
            TempDirectory.Delete(root);
        }
    }

    [Test]
    public void The_dockerignore_keeps_build_outputs_and_data_out_of_the_context()
    {
        var ignored = DockerIgnore(File.ReadAllLines(Path.Combine(Repository, ".dockerignore")));
        Assert.That(ignored("src/SupportGateway.Mail/obj/project.assets.json"));
        Assert.That(ignored("src/SupportGateway.Host/bin/Release/net10.0/appsettings.json"));
        Assert.That(ignored("data/supportgateway.db"));
        Assert.That(ignored("src/SupportGateway.Host/Program.cs"), Is.False);
        Assert.That(ignored("config/calendars/24x7.json"), Is.False);
    }

    /// <summary>Instructions per stage, continuation lines joined and comments dropped.</summary>
    private static List<List<(string Instruction, string Arguments)>> Stages(string dockerfile)
    {
        var stages = new List<List<(string, string)>>();
        var joined = Regex.Replace(dockerfile, @"\\\r?\n", " ");
        foreach (var line in joined.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var space = line.IndexOf(' ');
            var instruction = line[..space].ToUpperInvariant();
            if (instruction == "FROM")
                stages.Add([]);
            stages[^1].Add((instruction, Regex.Replace(line[(space + 1)..].Trim(), @"\s+", " ")));
        }
        return stages;
    }

    private static string Value(List<(string Instruction, string Arguments)> stage, string instruction) =>
        stage.LastOrDefault(i => i.Instruction == instruction).Arguments ?? "";

    private static Dictionary<string, string> EnvironmentOf(List<(string Instruction, string Arguments)> stage) =>
        stage.Where(i => i.Instruction == "ENV").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    private static string InRoot(string root, string containerPath) => Path.Combine(root, containerPath.TrimStart('/'));

    /// <summary>Docker's COPY: a folder's contents go into the target; a file goes into a target folder (…/) or becomes the target.</summary>
    private static void Copy(string source, string target, bool intoFolder, Func<string, bool> ignored)
    {
        var from = Path.Combine(Repository, source);
        if (Directory.Exists(from))
        {
            foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(Repository, file).Replace('\\', '/');
                if (!ignored(relative))
                    CopyFile(file, Path.Combine(target, Path.GetRelativePath(from, file)));
            }
            return;
        }
        Assert.That(File.Exists(from), $"COPY {source}: not in the build context");
        Assert.That(ignored(source.TrimStart('.', '/')), Is.False, $"COPY {source}: excluded by .dockerignore");
        CopyFile(from, intoFolder ? Path.Combine(target, Path.GetFileName(from)) : target);
    }

    private static void CopyFile(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to, overwrite: true);
    }

    /// <summary>
    /// .dockerignore as Docker reads it: Go's filepath.Match per pattern plus <c>**</c> for any number of folders; a
    /// path is left out when it or a folder above it matches.
    /// </summary>
    private static Func<string, bool> DockerIgnore(IEnumerable<string> lines)
    {
        var patterns = lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.That(patterns.Where(p => p.StartsWith('!')), Is.Empty, "the replay does not read exceptions (!)");
        var regexes = patterns.Select(p => new Regex("^" + Regex.Escape(p.Trim('/'))
            .Replace(@"\*\*/", "(.*/)?", StringComparison.Ordinal).Replace(@"\*\*", ".*", StringComparison.Ordinal)
            .Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace(@"\?", "[^/]", StringComparison.Ordinal) + "$")).ToList();
        return path =>
        {
            var parts = path.Split('/');
            return Enumerable.Range(1, parts.Length).Select(n => string.Join('/', parts[..n])).Any(prefix => regexes.Any(r => r.IsMatch(prefix)));
        };
    }

    [GeneratedRegex(@"(?<=\s)/(?=[A-Za-z])[^\s]*")]
    private static partial Regex AbsolutePath();
}
