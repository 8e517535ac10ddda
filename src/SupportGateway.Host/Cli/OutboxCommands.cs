using System.CommandLine;
using SupportGateway.Core.Outbox;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Cli;

/// <summary>
/// <c>outbox retry SG-xxxxx|all</c>: the given-up deliveries of a ticket (or all of them) are queued again, due now
/// and with a new <c>GiveUpAfter</c> period; the running gateway sends them at its next poll.
/// </summary>
internal static class OutboxCommands
{
    public static Command Create()
    {
        var outbox = new Command("outbox", "Deliveries to customers and agents.");
        var target = new Argument<string>("ticket") { Description = "A ticket number (SG-10008), or 'all'." };
        var retry = new Command("retry", "Queue given-up deliveries again and print how many.") { target };
        retry.SetAction((parse, ct) => GatewayCli.WithHostAsync(ct, (services, c) => RetryAsync(services, parse.GetValue(target)!, c)));
        outbox.Subcommands.Add(retry);
        return outbox;
    }

    private static async Task<int> RetryAsync(IServiceProvider services, string target, CancellationToken ct)
    {
        await services.GetRequiredService<Migrator>().MigrateAsync(ct);
        var all = target.Equals("all", StringComparison.OrdinalIgnoreCase);
        if (!all && !services.GetRequiredService<TicketNumberFormat>().TryParse(target, out _))
            return Fail($"'{target}' is neither a ticket number (like SG-10008) nor 'all'.");
        await using var session = await services.GetRequiredService<Database>().BeginAsync(ct);
        TicketRow? ticket = null;
        if (!all && (ticket = await services.GetRequiredService<TicketService>().FindAsync(session, target, ct)) is null)
            return Fail($"ticket {target} does not exist.");
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();
        var count = await services.GetRequiredService<OutboxStore>().RequeueFailedAsync(session, ticket?.Id, now, ct);
        await session.CommitAsync(ct);
        var deliveries = count == 1 ? "1 delivery" : $"{count} deliveries";
        Console.WriteLine(ticket is null ? $"Queued again: {deliveries}." : $"Queued again: {deliveries} of {ticket.Number}.");
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
