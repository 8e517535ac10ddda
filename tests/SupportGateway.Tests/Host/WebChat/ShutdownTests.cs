using System.Net;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WebChat;

/// <summary>Stopping the real process while widgets hold their event streams open.</summary>
[NonParallelizable]
public sealed class ShutdownTests
{
    [Test]
    public async Task Stopping_with_widgets_connected_is_clean()
    {
        var directory = TempDirectory.Create();
        try
        {
            var port = GatewayProcess.FreePort();
            var address = new Uri($"http://127.0.0.1:{port}");
            using var gateway = GatewayProcess.Start(directory, GatewayProcess.Environment(directory, port));
            await gateway.WaitHealthyAsync(address, TimeSpan.FromSeconds(60));

            var widgets = new List<(HttpClient Client, Stream Events)>();
            for (var i = 0; i < 3; i++)
            {
                var client = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
                client.DefaultRequestHeaders.Add("X-Visitor-Token", new string((char)('a' + i), 43));
                var response = await client.GetAsync("/webchat/api/events", HttpCompletionOption.ResponseHeadersRead);
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                var events = await response.Content.ReadAsStreamAsync();
                var first = new byte[64];
                Assert.That(await events.ReadAsync(first), Is.GreaterThan(0), "the stream is open and said it is ready");
                widgets.Add((client, events));
            }

            var exitCode = await gateway.StopAsync(TimeSpan.FromSeconds(30));

            Assert.That(exitCode, Is.Zero, gateway.OutputTail);
            Assert.That(gateway.Output, Does.Contain("Application is shutting down"));
            Assert.That(gateway.Output, Does.Not.Contain("Exception").And.Not.Contain("   at "), gateway.OutputTail);
            Assert.That(gateway.Output, Does.Not.Contain("fail:").And.Not.Contain("crit:"), gateway.OutputTail);
            foreach (var (client, events) in widgets)
            {
                await events.DisposeAsync();
                client.Dispose();
            }
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }
}
