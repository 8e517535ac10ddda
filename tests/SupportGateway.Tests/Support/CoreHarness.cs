using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SupportGateway.Core;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;

namespace SupportGateway.Tests.Support;

/// <summary>The ticket core on a fresh database (SQLite by default), without a web host: for pipeline and store tests.</summary>
internal sealed class CoreHarness : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TestDatabase _database;
    private readonly bool _ownsDatabase;

    private CoreHarness(IHost host, TestDatabase database, bool ownsDatabase)
    {
        _host = host;
        _database = database;
        _ownsDatabase = ownsDatabase;
    }

    public StorageEngine Engine => _database.Engine;

    public string ConnectionString => _database.ConnectionString;

    public IServiceProvider Services => _host.Services;

    public T Get<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    public static Task<CoreHarness> StartAsync(Action<IServiceCollection>? configure = null, IDictionary<string, string?>? settings = null) =>
        StartAsync(StorageEngine.Sqlite, configure, settings);

    /// <summary>The core on a fresh database of <paramref name="engine"/>: a fixture runs once per engine with it.</summary>
    public static async Task<CoreHarness> StartAsync(StorageEngine engine, Action<IServiceCollection>? configure = null, IDictionary<string, string?>? settings = null) =>
        await StartAsync(await TestDatabase.CreateAsync(engine), ownsDatabase: true, configure, settings);

    /// <summary>A core on a database that another core may share (several instances on one PostgreSQL database); the caller drops it.</summary>
    public static Task<CoreHarness> StartOnAsync(TestDatabase database, Action<IServiceCollection>? configure = null) =>
        StartAsync(database, ownsDatabase: false, configure, null);

    private static async Task<CoreHarness> StartAsync(TestDatabase database, bool ownsDatabase, Action<IServiceCollection>? configure,
        IDictionary<string, string?>? settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(database.Settings);
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
        try
        {
            await host.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
        }
        catch
        {
            host.Dispose();
            if (ownsDatabase)
                await database.DisposeAsync();
            throw;
        }
        return new CoreHarness(host, database, ownsDatabase);
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
        if (_ownsDatabase)
            await _database.DisposeAsync();
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
