using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

/// <summary>
/// The physical ceiling of webhook intake on this machine: a Kestrel process that reads each request's body and answers
/// 200, nothing else. The webhook bench drives it with the same client and the same requests as the gateway, in the
/// same run, so the gateway's figures can be read against what HTTP alone costs on these cores.
/// </summary>
internal static class EchoServer
{
    public static async Task<int> RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/healthz", () => Results.Text("echo: up"));
        app.MapPost("/{**path}", async (HttpRequest request) =>
        {
            var buffer = new byte[4096];
            while (await request.Body.ReadAsync(buffer) > 0)
            {
            }
            return Results.Ok();
        });
        await app.RunAsync();
        return 0;
    }
}
