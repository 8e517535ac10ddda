using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Telegram;

/// <summary>
/// The bot token is part of every Bot API URL (<c>/bot{token}/method</c>, <c>/file/bot{token}/…</c>). The gateway
/// process at its most verbose (Trace), polling, fetching a photo and answering, must never write it.
/// </summary>
[NonParallelizable]
public sealed class TelegramSecretsTests
{
    [Test]
    public async Task The_gateway_never_logs_the_bot_token_even_at_trace()
    {
        await using var bot = new FakeBotApi();
        var directory = TempDirectory.Create();
        var port = GatewayProcess.FreePort();
        var env = GatewayProcess.Environment(directory, port);
        env["Logging__LogLevel__Default"] = "Trace";
        // appsettings.json quiets these categories by name; a name beats Default, so each is raised too.
        env["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace";
        env["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Trace";
        env["Logging__LogLevel__System.Net.Http.HttpClient"] = "Trace";
        env["SupportGateway__Channels__Telegram__BotToken"] = FakeBotApi.Token;
        env["SupportGateway__Channels__Telegram__ApiBaseUrl"] = bot.BaseUrl;
        env["SupportGateway__Channels__Telegram__PollTimeout"] = "00:00:01";

        string output;
        using (var gateway = GatewayProcess.Start(directory, env))
        {
            await gateway.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromSeconds(60));
            bot.Files["SAAS"] = new byte[2048];
            bot.Push(FakeBotApi.Update("photo.json", 1, userId: 7301, messageId: 40));
            await Eventually.HoldsAsync(() => Task.FromResult(bot.Sent("sendMessage").Any(m => m["chat_id"]!.GetValue<long>() == 7301)),
                60, () => gateway.OutputTail);
            Assert.That(bot.Sent("getFile").Select(m => m["file_id"]!.GetValue<string>()), Is.EqualTo(new[] { "SAAS" }), "the photo was fetched");
            output = gateway.Output;
        }

        Assert.That(output, Does.Contain("trce: Microsoft.AspNetCore"), "the gateway logged at its most verbose, the framework's categories too");
        Assert.That(output, Does.Not.Contain(FakeBotApi.Token.Split(':')[1]), "the gateway's output holds the bot token");
        TestContext.Out.WriteLine($"{output.Split('\n').Length} lines of output, none with the token");
    }
}
