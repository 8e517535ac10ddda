using System.Text;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Storage;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Health;

internal static class HealthEndpoints
{
    /// <summary>
    /// <c>/healthz</c>: one plain line per channel, then the work that runs once across instances, the listener for the
    /// other instances' signals (on a shared database; while it reconnects, live push and wake-ups wait but nothing is
    /// lost, so it is no reason for a 503), then storage; 503 when anything that is on is down, while the storage takes
    /// no writes (with the reason, never the connection string), and from the moment the instance is told to stop, so a
    /// balancer sends it nothing new while it finishes.
    /// </summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", async (ChannelHealth health, ExclusiveWork exclusive, InstanceSignals signals, IHostApplicationLifetime lifetime,
            Database database, OutboxStore outbox, InboundStore inbound, StorageAvailability availability, TimeProvider time, CancellationToken cancellationToken) =>
        {
            var text = new StringBuilder();
            var healthy = !lifetime.ApplicationStopping.IsCancellationRequested;
            if (!healthy)
                text.Append("instance: stopping (finishing its work; send it nothing new)\n");
            foreach (var (channel, state, detail) in health.Snapshot())
            {
                healthy &= state is ChannelState.Up or ChannelState.Off or ChannelState.Degraded;
                text.Append(channel).Append(": ").Append(state.ToString().ToLowerInvariant()).Append(" (").Append(detail).Append(")\n");
            }
            foreach (var (work, held) in exclusive.Snapshot())
                text.Append("work ").Append(work).Append(held ? ": held here\n" : ": waiting (another instance holds it)\n");
            if (signals.Status is { } listener)
                text.Append("signals: ").Append(listener.Listening ? "connected" : "reconnecting").Append(" (").Append(listener.Detail)
                    .Append(listener.LastError is { } error ? $"; last error: {error}" : "").Append(")\n");
            try
            {
                await using var connection = await database.OpenAsync(cancellationToken);
                var db = new SqlScope(connection);
                var states = await outbox.CountByStateAsync(db, cancellationToken);
                var dead = await inbound.CountAsync(db, InboundStore.Dead, cancellationToken);
                text.Append(StorageLine(database, availability, time, ref healthy));
                text.Append($"outbox: {states.GetValueOrDefault(OutboxStore.Pending)} pending, {states.GetValueOrDefault(OutboxStore.InFlight)} in flight, {states.GetValueOrDefault(OutboxStore.Failed)} failed, {states.GetValueOrDefault(OutboxStore.Held)} held\n");
                text.Append($"dead letters: {dead}\n");
            }
            catch (Exception ex)
            {
                // Reads fail too (the server is gone): the same outage, seen from here.
                availability.Observe(ex);
                healthy = false;
                text.Append(availability.Outage is null ? $"storage: down ({database.Dialect.Unavailable(ex) ?? ex.GetType().Name})\n"
                    : StorageLine(database, availability, time, ref healthy));
            }
            return Results.Text(text.ToString(), "text/plain; charset=utf-8", statusCode: healthy ? 200 : 503);
        }).WithTags("Health").WithSummary("One line per channel, then storage, the outbox and dead letters")
            .ProducesText(StatusCodes.Status200OK, "text/plain").ProducesText(StatusCodes.Status503ServiceUnavailable, "text/plain");
        return app;
    }

    private static string StorageLine(Database database, StorageAvailability availability, TimeProvider time, ref bool healthy)
    {
        if (availability.Outage is not { } outage)
            return $"storage: up ({database.Dialect.Name})\n";
        healthy = false;
        var since = (time.GetUtcNow() - outage.Since).TotalSeconds;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"storage: unavailable ({database.Dialect.Name}: {outage.Reason}; for {since:0} s; new input refused with 503; next write attempt in {availability.RetryAfter(outage).TotalSeconds:0} s)\n");
    }
}
