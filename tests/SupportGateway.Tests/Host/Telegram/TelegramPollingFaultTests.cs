using System.Globalization;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Telegram;

/// <summary>
/// Long polling through faults, with the real gateway process: the Bot API double goes away twice and answers 5xx,
/// and the gateway is killed with SIGKILL in the middle of a stream. Every update is stored and processed exactly
/// once: the offset moves only past committed updates, and update_id dedupes what Telegram sends again.
/// </summary>
[NonParallelizable]
public sealed class TelegramPollingFaultTests
{
    private const int Users = 20;
    private const int PerWave = 150;

    [Test]
    public async Task No_update_is_lost_or_doubled_through_restarts_of_the_api_5xx_and_a_SIGKILL_mid_stream()
    {
        // Ten updates per answer, 50 ms apart: the stream lasts long enough for the kill to land inside it.
        await using var bot = new FakeBotApi { MaxPerPoll = 10, PollLatency = TimeSpan.FromMilliseconds(50) };
        var directory = TempDirectory.Create();
        var port = GatewayProcess.FreePort();
        var env = GatewayProcess.Environment(directory, port);
        env["SupportGateway__Channels__Telegram__BotToken"] = FakeBotApi.Token;
        env["SupportGateway__Channels__Telegram__ApiBaseUrl"] = bot.BaseUrl;
        env["SupportGateway__Channels__Telegram__PollTimeout"] = "00:00:01";
        var baseAddress = new Uri($"http://127.0.0.1:{port}");

        long killedAt;
        using (var gateway = GatewayProcess.Start(directory, env))
        {
            await gateway.WaitHealthyAsync(baseAddress, TimeSpan.FromSeconds(60));
            Push(bot, 1, PerWave);
            // The double restarts twice while the gateway polls, and answers 5xx in between.
            await bot.RestartAsync(TimeSpan.FromMilliseconds(700));
            bot.ServerErrorsLeft = 3;
            await bot.RestartAsync(TimeSpan.FromMilliseconds(700));
            await Eventually.HoldsAsync(async () => await ProcessedAsync(directory) >= 40, 60, () => gateway.OutputTail);
            gateway.Kill();
            killedAt = await ProcessedAsync(directory);
        }
        TestContext.Out.WriteLine($"SIGKILL after {killedAt} of {PerWave} updates were processed; {bot.Unconfirmed} not yet confirmed to the API");
        Assert.That(killedAt, Is.LessThan(PerWave), "the kill came in the middle of the stream");

        // Updates keep arriving while the gateway is down; the restarted one takes up where the commit left off.
        Push(bot, PerWave + 1, PerWave);
        using (var restarted = GatewayProcess.Start(directory, env))
        {
            await restarted.WaitHealthyAsync(baseAddress, TimeSpan.FromSeconds(60));
            await Eventually.HoldsAsync(async () => await ProcessedAsync(directory) == 2 * PerWave && bot.Unconfirmed == 0, 120, () => restarted.OutputTail);
        }

        var inbound = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(DISTINCT external_id) FROM inbound WHERE channel = 'telegram'");
        var messages = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM messages WHERE direction = 'in'");
        var distinctTexts = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(DISTINCT text) FROM messages WHERE direction = 'in'");
        var tickets = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM tickets");
        var acks = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM messages WHERE author_kind = 'system' AND direction = 'out'");
        TestContext.Out.WriteLine($"{inbound} updates stored, {messages} messages, {tickets} tickets, {acks} acknowledgements");
        Assert.That((inbound, messages, distinctTexts), Is.EqualTo((2L * PerWave, 2L * PerWave, 2L * PerWave)), "each update exactly once");
        Assert.That((tickets, acks), Is.EqualTo(((long)Users, (long)Users)), "one ticket per chat: nothing was opened twice");
    }

    /// <summary>Updates first..first+count-1, spread over the users' private chats.</summary>
    private static void Push(FakeBotApi bot, long first, int count)
    {
        for (var id = first; id < first + count; id++)
        {
            var user = 9100 + id % Users;
            bot.Push(FakeBotApi.Update("message.json", id, userId: user, text: $"Сообщение {id.ToString(CultureInfo.InvariantCulture)} от {user}", messageId: id));
        }
    }

    private static Task<long> ProcessedAsync(string directory) =>
        DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM inbound WHERE channel = 'telegram' AND state = 'processed'");

}
