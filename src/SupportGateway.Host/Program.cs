using SupportGateway.Host;
using SupportGateway.Host.Cli;

if (!GatewayCli.StartsServer(args))
    return await GatewayCli.RunAsync(args);

try
{
    await GatewayHost.BuildWebApp(args).RunAsync();
    return 0;
}
catch (Exception ex) when (StartupErrors.Describe(ex) is { } lines)
{
    foreach (var line in lines)
        Console.Error.WriteLine($"error: {line}");
    return 2;
}

/// <summary>The entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
