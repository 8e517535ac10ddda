using Dapper;
using Microsoft.Data.Sqlite;
using SupportGateway.Core.Pipeline;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cli;

public sealed class CliTests
{
    private string _directory = "";

    [SetUp]
    public void SetUp() => _directory = TempDirectory.Create();

    [TearDown]
    public void TearDown() => TempDirectory.Delete(_directory);

    private Dictionary<string, string> Env(params (string Key, string Value)[] extra)
    {
        var env = GatewayProcess.Environment(_directory);
        foreach (var (key, value) in extra)
            env[key] = value;
        return env;
    }

    [Test]
    public async Task Check_config_reports_valid_configuration_and_channels()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "check-config");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Configuration is valid.").And.Contain("webchat: up").And.Contain("api: up").And.Contain("agents: 1"));
    }

    [TestCase("SupportGateway__Outbox__GiveUpAfter", "00:00:00", "error: SupportGateway:Outbox:GiveUpAfter: must be positive")]
    [TestCase("SupportGateway__Outbox__GiveUpAfter", "two days", "SupportGateway:Outbox:GiveUpAfter")]
    [TestCase("SupportGateway__Tickets__NumberPrefix", "S-G", "error: SupportGateway:Tickets:NumberPrefix: must be ASCII letters or digits")]
    [TestCase("SupportGateway__Agents__0__Email", "anna", "error: SupportGateway:Agents:0:Email: must be an email address")]
    [TestCase("SupportGateway__Storage__Provider", "oracle", "error: SupportGateway:Storage:Provider")]
    [TestCase("SupportGateway__Channels__Email__Mailboxes__0__Imap__Host", "imap.example.ru",
        "error: SupportGateway:Channels:Email:Mailboxes:0:Imap:Security: None (no TLS) is allowed for a loopback host only")]
    [TestCase("SupportGateway__Channels__Email__Mailboxes__0__Smtp__Connections", "0",
        "error: SupportGateway:Channels:Email:Mailboxes:0:Smtp:Connections: must be between 1 and 20")]
    public async Task Bad_option_gets_one_clear_line_naming_the_key(string key, string value, string expected)
    {
        var mailbox = key.Contains("Email", StringComparison.Ordinal)
            ? new[]
            {
                ("SupportGateway__Channels__Email__Mailboxes__0__Name", "support"), ("SupportGateway__Channels__Email__Mailboxes__0__Address", "support@example.ru"),
                ("SupportGateway__Channels__Email__Mailboxes__0__Imap__Security", "None"), ("SupportGateway__Channels__Email__Mailboxes__0__Imap__Username", "support"),
                ("SupportGateway__Channels__Email__Mailboxes__0__Imap__Password", "x"), ("SupportGateway__Channels__Email__Mailboxes__0__Smtp__Host", "127.0.0.1"),
                ("SupportGateway__Channels__Email__Mailboxes__0__Smtp__Security", "None"),
                ("SupportGateway__Channels__Email__AgentNotifications__Secret", "a-secret-of-at-least-thirty-two-characters"),
            }
            : [];
        var (exit, output) = await GatewayProcess.RunAsync(_directory, Env([.. mailbox, (key, value)]), "check-config");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output, Does.Contain(expected));
        Assert.That(output, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public async Task The_production_sample_is_valid_once_its_secrets_come_from_the_environment()
    {
        // The working directory's appsettings.json is the sample, as the README tells an installer to do.
        File.Copy(Path.Combine(Corpus.RepositoryRoot(), "config", "production.example.json"), Path.Combine(_directory, "appsettings.json"));
        var environment = new Dictionary<string, string>
        {
            ["SupportGateway__Storage__ConnectionString"] = $"Data Source={Path.Combine(_directory, "gateway.db")}",
        };
        foreach (var line in File.ReadAllLines(Path.Combine(Corpus.RepositoryRoot(), "config", "gateway.env.example")))
        {
            if (line.StartsWith("SupportGateway__Channels__", StringComparison.Ordinal))
                environment[line[..line.IndexOf('=')]] = line[(line.IndexOf('=') + 1)..];
        }

        var (exit, output) = await GatewayProcess.RunAsync(_directory, environment, "check-config");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("Configuration is valid.").And.Contain("email: up (support <support@example.ru>, m365 <helpdesk@example.onmicrosoft.com>)")
            .And.Contain("telegram: up (webhook via https://api.telegram.org)").And.Contain("whatsapp: up (twilio and cloud api)"));
    }

    [Test]
    public async Task Gateway_refuses_to_start_on_bad_options_with_the_same_line()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, Env(("SupportGateway__Intake__MaxAttachments", "-1")));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(output, Does.Contain("error: SupportGateway:Intake:MaxAttachments: must be between 0 and 100"));
        Assert.That(output, Does.Not.Contain("   at "));
    }

    [Test]
    public async Task Dead_letters_are_listed_and_replayed()
    {
        var (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "dead-letters", "list");
        Assert.That((exit, output.Trim()), Is.EqualTo((0, "No dead letters.")));

        var message = new InboundMessage
        {
            Channel = "api", ExternalId = "parked-1", Sender = new SenderIdentity { Identity = "ext:9" }, Text = "stuck since the outage",
            Hints = new ThreadHints { StartNew = true },
        };
        var raw = InboundJsonNormalizer.ToRaw(message);
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "gateway.db")};Pooling=False"))
        {
            await connection.ExecuteAsync("""
                INSERT INTO inbound (channel, external_id, format, payload, state, attempts, last_error, received_at)
                VALUES (@Channel, @ExternalId, @Format, @Payload, 'dead', 1, 'SqliteException: disk I/O error', 0)
                """, raw);
        }

        (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "dead-letters", "list");
        Assert.That(output, Does.Contain("api").And.Contain("disk I/O error"));

        (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "dead-letters", "replay", "all");
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("[1/1]").And.Contain("created SG-").And.Contain("Replayed 1 of 1."));

        (exit, output) = await GatewayProcess.RunAsync(_directory, Env(), "dead-letters", "replay", "banana");
        Assert.That((exit, output.Trim()), Is.EqualTo((2, "error: 'banana' is neither a dead letter id nor 'all'.")));
    }
}
