using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SupportGateway.Tests.Support;

/// <summary>The whole gateway in-process on a fresh SQLite file, with known keys.</summary>
internal sealed class GatewayFactory : WebApplicationFactory<Program>
{
    public const string IntakeKey = "test-intake-key-0001";
    public const string AgentKey = "test-agent-key-0001";
    public const string AgentEmail = "anna@support.example";

    private readonly Dictionary<string, string?> _settings;
    private readonly bool _kestrel;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="time">A clock the test moves (<see cref="ManualTime"/>): SLA and auto-close tests pass days in milliseconds.</param>
    /// <param name="services">Test doubles to add to the gateway's own services (a recording notifier).</param>
    public GatewayFactory(IDictionary<string, string?>? settings = null, bool kestrel = false, TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        _services = time is null && services is null ? null : s =>
        {
            if (time is not null)
                s.AddSingleton(time);
            services?.Invoke(s);
        };
        Directory = TempDirectory.Create();
        _kestrel = kestrel;
        _settings = new Dictionary<string, string?>
        {
            ["SupportGateway:Storage:ConnectionString"] = $"Data Source={Path.Combine(Directory, "gateway.db")}",
            ["SupportGateway:Intake:ApiKeys:0"] = IntakeKey,
            ["SupportGateway:Agents:0:Name"] = "Anna",
            ["SupportGateway:Agents:0:Email"] = AgentEmail,
            ["SupportGateway:Agents:0:ApiKey"] = AgentKey,
            ["SupportGateway:Intake:MaxAttachmentBytes"] = "100000",
            ["SupportGateway:Intake:MaxRequestBytes"] = "1000000",
            ["SupportGateway:Outbox:PollInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            _settings[key] = value;
        if (kestrel)
        {
            UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
            StartServer();
        }
    }

    public string Directory { get; }

    /// <summary>The real socket address when started with Kestrel.</summary>
    public Uri ServerAddress => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        if (_services is not null)
            builder.ConfigureTestServices(_services);
    }

    public HttpClient Intake()
    {
        var client = _kestrel ? new HttpClient { BaseAddress = ServerAddress } : CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", IntakeKey);
        return client;
    }

    public HttpClient Agent()
    {
        var client = _kestrel ? new HttpClient { BaseAddress = ServerAddress } : CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AgentKey);
        return client;
    }

    public async Task<string> FileRequestAsync(HttpClient intake, string description = "Printer is broken", string email = "ivan@example.ru")
    {
        var response = await intake.PostAsJsonAsync("/api/v1/requests", new { description, contact = new { email } });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("ticketNumber").GetString()!;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDirectory.Delete(Directory);
    }
}
