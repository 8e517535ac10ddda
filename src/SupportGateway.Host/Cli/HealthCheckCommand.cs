using System.CommandLine;

namespace SupportGateway.Host.Cli;

/// <summary>
/// <c>healthcheck [--url URL]</c>: asks a running gateway's <c>/healthz</c> and exits 0 on 200, 1 otherwise: the
/// container's HEALTHCHECK, which has no curl in the runtime image.
/// </summary>
internal static class HealthCheckCommand
{
    public static Command Create()
    {
        var url = new Option<string?>("--url") { Description = "The gateway's base URL; by default the first of ASPNETCORE_URLS (or http://localhost:5080) on this machine." };
        var command = new Command("healthcheck", "Ask a running gateway's /healthz: exit 0 when healthy, 1 otherwise.") { url };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(url) ?? Local(Environment.GetEnvironmentVariable("ASPNETCORE_URLS")), ct));
        return command;
    }

    /// <summary>The first listening URL, with a wildcard host (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) made local.</summary>
    internal static string Local(string? urls)
    {
        var first = (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? GatewayHost.DefaultUrl;
        return System.Text.RegularExpressions.Regex.Replace(first, @"^(\w+://)(\+|\*|0\.0\.0\.0|\[::\])(?=[:/]|$)", "${1}localhost");
    }

    private static async Task<int> RunAsync(string baseUrl, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
        try
        {
            using var response = await http.GetAsync(new Uri(new Uri(baseUrl.TrimEnd('/') + "/"), "healthz"), ct);
            var body = (await response.Content.ReadAsStringAsync(ct)).Trim();
            Console.WriteLine($"{(int)response.StatusCode} {body}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            Console.Error.WriteLine($"error: {baseUrl}/healthz: {ex.Message}");
            return 1;
        }
    }
}
