using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>
/// The providers' REST APIs on loopback, answering every call with success so that the gateway's acknowledgements
/// leave as they would: Telegram's Bot API (getMe, send*), Twilio's Messages resource (201 with a message sid) and
/// the Cloud API's messages endpoint (a wamid). Tokens are not checked: the bench measures intake, not auth.
/// </summary>
internal sealed class ProviderStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _sends;

    private ProviderStandIn(WebApplication app) => _app = app;

    public string BaseUrl => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public long Sends => Interlocked.Read(ref _sends);

    public static ProviderStandIn Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var standIn = new ProviderStandIn(app);
        app.MapPost("/bot{token}/{method}", (string method) => Results.Text(method switch
        {
            "getMe" => """{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Bench","username":"bench_bot"}}""",
            _ when method.StartsWith("send", StringComparison.Ordinal) =>
                $$$"""{"ok":true,"result":{"message_id":{{{standIn.Sent()}}},"chat":{"id":1,"type":"private"},"date":0}}""",
            _ => """{"ok":true,"result":true}""",
        }, "application/json"));
        app.MapPost("/2010-04-01/Accounts/{account}/Messages.json", (string account) => Results.Text(
            $$"""{"sid":"SM{{standIn.Sent():x32}}","account_sid":"{{account}}","status":"queued","direction":"outbound-api","api_version":"2010-04-01"}""",
            "application/json", statusCode: 201));
        app.MapPost("/{version}/{phone}/messages", () => Results.Text(
            $$"""{"messaging_product":"whatsapp","contacts":[],"messages":[{"id":"wamid.BENCH{{standIn.Sent()}}"}]}""", "application/json"));
        app.StartAsync().GetAwaiter().GetResult();
        return standIn;
    }

    private long Sent() => Interlocked.Increment(ref _sends);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
