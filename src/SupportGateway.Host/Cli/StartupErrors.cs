using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace SupportGateway.Host.Cli;

/// <summary>Turns configuration failures at start into one plain line each, naming the key.</summary>
internal static class StartupErrors
{
    public static IReadOnlyList<string>? Describe(Exception ex) => ex switch
    {
        OptionsValidationException validation => [.. validation.Failures.SelectMany(f => f.Split("; ", StringSplitOptions.RemoveEmptyEntries))],
        AggregateException aggregate when aggregate.InnerExceptions.All(e => Describe(e) is not null) =>
            [.. aggregate.InnerExceptions.SelectMany(e => Describe(e)!)],
        // The configuration binder names the key: "Failed to convert configuration value at 'X' to type 'Y'."
        InvalidOperationException { Message: var m } when m.Contains("configuration value", StringComparison.Ordinal) => [m],
        NotSupportedException { Message: var m } when m.StartsWith("Storage provider", StringComparison.Ordinal) => [m],
        // Kestrel: "Failed to bind to address http://localhost:5080: address already in use."
        IOException { InnerException: AddressInUseException, Message: var m } =>
            [$"{m} Another program listens there: stop it, or choose another address with --urls or ASPNETCORE_URLS."],
        _ => null,
    };
}
