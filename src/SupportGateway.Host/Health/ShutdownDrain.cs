using Microsoft.Extensions.Options;

namespace SupportGateway.Host.Health;

public sealed class ShutdownOptions
{
    public const string Section = "SupportGateway:Shutdown";

    /// <summary>
    /// How long a stopping instance keeps serving before it closes its listener: <c>/healthz</c> answers 503 from the
    /// first moment, so a balancer that checks it stops sending new requests while the instance still answers them.
    /// </summary>
    public TimeSpan Drain { get; set; } = TimeSpan.Zero;
}

internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public static readonly TimeSpan MaxDrain = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, ShutdownOptions options) =>
        options.Drain < TimeSpan.Zero || options.Drain > MaxDrain
            ? ValidateOptionsResult.Fail($"{ShutdownOptions.Section}:Drain: must be between 00:00:00 and {MaxDrain:c}, got {options.Drain:c}")
            : ValidateOptionsResult.Success;
}

/// <summary>
/// The drain between "told to stop" and "stops listening". The host signals <c>ApplicationStopping</c> (so
/// <c>/healthz</c> answers 503 and every answer carries <c>Connection: close</c>, emptying a balancer's pool of kept-alive
/// connections to this instance) and then runs every <see cref="IHostedLifecycleService.StoppingAsync"/> before it stops
/// any service, the web server among them: this waits there. The workers run on meanwhile; they stop after it.
/// </summary>
internal sealed class ShutdownDrain(IOptions<ShutdownOptions> options, ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var drain = options.Value.Drain;
        if (drain <= TimeSpan.Zero)
            return;
        logger.LogInformation("Stopping: serving for {Drain} more while /healthz answers 503, then closing the listener", drain);
        try
        {
            await Task.Delay(drain, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out, or a second signal: stop at once.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static class GracefulStop
{
    public static IHostApplicationBuilder AddShutdownDrain(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ShutdownOptions>().BindConfiguration(ShutdownOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ShutdownOptions>, ShutdownOptionsValidator>();
        builder.Services.AddHostedService<ShutdownDrain>();
        // The host's own time to stop (30 s unless set) is for finishing the work in hand; the drain comes on top.
        builder.Services.AddOptions<HostOptions>().PostConfigure<IOptions<ShutdownOptions>>((host, shutdown) =>
        {
            if (host.ShutdownTimeout != Timeout.InfiniteTimeSpan && shutdown.Value.Drain <= ShutdownOptionsValidator.MaxDrain && shutdown.Value.Drain > TimeSpan.Zero)
                host.ShutdownTimeout += shutdown.Value.Drain;
        });
        return builder;
    }

    /// <summary>Answers of a stopping instance close their connection, so no balancer reuses one as the listener closes.</summary>
    public static IApplicationBuilder UseConnectionCloseWhileStopping(this IApplicationBuilder app)
    {
        var stopping = app.ApplicationServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        return app.Use((http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                if (stopping.IsCancellationRequested)
                    http.Response.Headers.Connection = "close";
                return Task.CompletedTask;
            });
            return next(http);
        });
    }
}
