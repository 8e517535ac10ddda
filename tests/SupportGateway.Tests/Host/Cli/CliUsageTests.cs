using System.Net;
using System.Net.Sockets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

/// <summary>The command line as an operator meets it: help, typos, a taken port, sample values left in.</summary>
public sealed class CliUsageTests
{
    private string _directory = "";

    [SetUp]
    public void SetUp() => _directory = TempDirectory.Create();

    [TearDown]
    public void TearDown() => TempDirectory.Delete(_directory);

    [TestCase("--help")]
    [TestCase("-h")]
    [TestCase("help")]
    public async Task Help_lists_the_commands(string word)
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory), word);
        Assert.That(exit, Is.Zero, output);
        foreach (var command in new[] { "check-config", "dead-letters", "backup", "storage", "healthcheck", "mail", "sla", "report" })
            Assert.That(output, Does.Contain(command));
        Assert.That(output, Does.Contain("--urls"), "how to run the gateway itself");
    }

    [Test]
    public async Task Help_for_a_command_shows_its_options()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory), "help", "backup");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("--to"));
    }

    [TestCase(new[] { "check-confg" }, "'check-confg'", "did you mean check-config?")]
    [TestCase(new[] { "--port", "8080" }, "'--port'", "see 'help'")]
    [TestCase(new[] { "dead-letters", "lst" }, "'lst'", "did you mean list?")]
    [TestCase(new[] { "check-config", "--prbe" }, "'--prbe'", "did you mean --probe?")]
    [TestCase(new[] { "sla", "due", "--from", "2026-12-31T17:00:00+03:00" }, "--calendar", "see 'help sla due'")]
    public async Task Unknown_command_or_option_is_exit_2_with_a_hint_and_no_server(string[] args, string named, string hint)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory), args);
        Assert.That(exit, Is.EqualTo(2), output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(lines, Has.Length.EqualTo(1), output);
        Assert.That(lines[0], Does.StartWith("error: ").And.Contain(named).And.Contain(hint));
        Assert.That(output, Does.Not.Contain("Now listening").And.Not.Contain("Channel "), "the gateway did not start");
        Assert.That(File.Exists(Path.Combine(_directory, "gateway.db")), Is.False, "no database was opened");
        TestContext.Out.WriteLine($"{string.Join(' ', args)} → {lines[0]} ({watch.ElapsedMilliseconds} ms)");
    }

    [Test]
    public async Task A_taken_port_is_one_clear_line_not_a_stack_trace()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, output) = await GatewayProcess.RunAsync(_directory, GatewayProcess.Environment(_directory, port));

        Assert.That(exit, Is.EqualTo(2), output);
        Assert.That(output, Does.Not.Contain("   at ").And.Not.Contain("Exception"), "no stack trace");
        var errors = output.Split('\n').Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), output);
        Assert.That(errors[0], Does.Contain($"127.0.0.1:{port}").And.Contain("address already in use").And.Contain("--urls"));
    }

    [Test]
    public async Task Check_config_names_each_sample_value_left_in_without_showing_it()
    {
        var env = GatewayProcess.Environment(_directory);
        env["SupportGateway__Intake__ApiKeys__0"] = "demo-intake-key-change-me";
        env["SupportGateway__Agents__0__ApiKey"] = "REPLACE-with-a-long-random-key-for-anna";
        env["SupportGateway__Channels__WebChat__AllowedOrigins__0"] = "https://lk.example.ru";

        var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "check-config");

        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("warning: SupportGateway:Intake:ApiKeys:0 still holds a sample value")
            .And.Contain("warning: SupportGateway:Agents:0:ApiKey still holds a sample value")
            .And.Contain("warning: SupportGateway:Channels:WebChat:AllowedOrigins:0 still holds a sample value"));
        Assert.That(output, Does.Not.Contain("demo-intake-key-change-me").And.Not.Contain("REPLACE-with"), "values are never shown");
        Assert.That(output, Does.Not.Contain("SupportGateway:Agents:0:Email"), "a real address is not flagged");
    }

    [Test]
    public async Task The_gateway_warns_at_start_about_the_demo_intake_key_as_about_the_agent_key()
    {
        var port = GatewayProcess.FreePort();
        var env = GatewayProcess.Environment(_directory, port);
        env["SupportGateway__Intake__ApiKeys__0"] = "demo-intake-key-change-me";
        env["SupportGateway__Agents__0__ApiKey"] = "demo-agent-key-change-me";
        using var gateway = GatewayProcess.Start(_directory, env);
        await gateway.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(() => Task.FromResult(gateway.Output.Contains("SupportGateway:Agents:0:ApiKey still holds a sample value", StringComparison.Ordinal)),
            10, () => gateway.OutputTail);
        Assert.That(gateway.Output, Does.Contain("SupportGateway:Intake:ApiKeys:0 still holds a sample value"));
        Assert.That(gateway.Output, Does.Not.Contain("demo-intake-key-change-me"));
    }

    [TestCase("http://+:5080", "http://localhost:5080")]
    [TestCase("http://0.0.0.0:8080;https://+:8443", "http://localhost:8080")]
    [TestCase("http://[::]:5080", "http://localhost:5080")]
    [TestCase("http://127.0.0.1:5999", "http://127.0.0.1:5999")]
    [TestCase(null, "http://localhost:5080")]
    public void Healthcheck_asks_the_local_address_the_gateway_listens_on(string? urls, string expected) =>
        Assert.That(SupportGateway.Host.Cli.HealthCheckCommand.Local(urls), Is.EqualTo(expected));

    [Test]
    public async Task Healthcheck_exits_0_for_a_healthy_gateway_and_1_when_none_answers()
    {
        var port = GatewayProcess.FreePort();
        var env = GatewayProcess.Environment(_directory, port);
        using (var gateway = GatewayProcess.Start(_directory, env))
        {
            await gateway.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromSeconds(60));
            var (exit, output) = await GatewayProcess.RunAsync(_directory, env, "healthcheck");
            Assert.That(exit, Is.Zero, output);
            Assert.That(output, Does.StartWith("200 "));
        }
        var (down, said) = await GatewayProcess.RunAsync(_directory, env, "healthcheck", "--url", $"http://127.0.0.1:{port}");
        Assert.That(down, Is.EqualTo(1), said);
        Assert.That(said.Trim(), Does.StartWith("error: "));
    }
}
