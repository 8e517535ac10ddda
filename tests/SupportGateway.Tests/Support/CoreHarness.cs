using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SupportGateway.Core;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;

namespace SupportGateway.Tests.Support;

/// <summary>The ticket core on a fresh SQLite file, without a web host: for pipeline and store tests.</summary>
internal sealed class CoreHarness : IAsyncDisposable
{
    private readonly IHost _host;

    private CoreHarness(IHost host, string directory)
    {
        _host = host;
        Directory = directory;
    }

    public string Directory { get; }

    public IServiceProvider Services => _host.Services;

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public static async Task<CoreHarness> StartAsync(Action<IServiceCollection>? configure = null, IDictionary<string, string?>? settings = null)
    {
        var directory = TempDirectory.Create();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SupportGateway:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "test.db")}",
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.AddTicketCore();
        // The dispatcher is driven by hand in these tests.
        var dispatcher = builder.Services.Single(d => d.ImplementationType == typeof(OutboxDispatcher));
        builder.Services.Remove(dispatcher);
        builder.Services.AddSingleton<OutboxDispatcher>();
        configure?.Invoke(builder.Services);
        var host = builder.Build();
        await host.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        return new CoreHarness(host, directory);
    }

    public async Task<SqlScope> ReadAsync()
    {
        var connection = await Get<Database>().OpenAsync(CancellationToken.None);
        return new SqlScope(connection);
    }

    public async Task<long> CountAsync(string table)
    {
        var db = await ReadAsync();
        await using var connection = db.Connection;
        return await db.ScalarAsync<long>($"SELECT COUNT(*) FROM {table}", null, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        _host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDirectory.Delete(Directory);
        await Task.CompletedTask;
    }
}

internal static class TempDirectory
{
    public static string Create()
    {
        var path = Path.Combine(Path.GetTempPath(), "sg-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            System.IO.Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
