using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>SIGKILL in the middle of a burst, then a restart: what got a 201 must be there, once.</summary>
[NonParallelizable]
public sealed class CrashTests
{
    private const int Burst = 1000;

    [Test]
    public async Task Kill_during_a_burst_loses_nothing_that_was_accepted_and_duplicates_nothing()
    {
        var directory = TempDirectory.Create();
        try
        {
            var port = GatewayProcess.FreePort();
            var address = new Uri($"http://127.0.0.1:{port}");
            var env = GatewayProcess.Environment(directory, port);
            // Keep acks pending across the kill only as long as a real outage would: the restart must send them.
            env["SupportGateway__Outbox__PollInterval"] = "00:00:00.200";
            // The burst stands for many products' traffic through one key, twenty requests per contact: this test is
            // about a crash, so neither the per-key limit nor the acknowledgement cap may shape it.
            env["SupportGateway__Limits__IntakePerKey__Permits"] = "1000000";
            env["SupportGateway__Limits__Acknowledgements__PerAddress"] = "0";
            var accepted = new ConcurrentDictionary<string, string>();

            using (var gateway = GatewayProcess.Start(directory, env))
            {
                await gateway.WaitHealthyAsync(address, TimeSpan.FromSeconds(60));
                using var client = Intake(address);
                using var killed = new CancellationTokenSource();
                var killer = Task.Run(async () =>
                {
                    while (accepted.Count < Burst / 3)
                        await Task.Delay(1);
                    gateway.Kill();
                    await killed.CancelAsync();
                });
                await Parallel.ForEachAsync(Enumerable.Range(0, Burst), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
                {
                    if (killed.IsCancellationRequested)
                        return;
                    try
                    {
                        var response = await PostAsync(client, i);
                        if (response.StatusCode == HttpStatusCode.Created)
                            accepted[Key(i)] = await NumberAsync(response);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                    {
                        // In flight at the kill: not acknowledged to the client, so either outcome is allowed.
                    }
                });
                await killer;
            }
            TestContext.Out.WriteLine($"{accepted.Count} of {Burst} requests got 201 before SIGKILL");
            Assert.That(accepted.Count, Is.InRange(Burst / 3, Burst - 1), "the kill landed mid-burst");

            using var restarted = GatewayProcess.Start(directory, env);
            await restarted.WaitHealthyAsync(address, TimeSpan.FromSeconds(60));
            using var intake = Intake(address);

            // Every accepted request is there with its ack, under the same number.
            using var agent = new HttpClient { BaseAddress = address };
            agent.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFactory.AgentKey);
            foreach (var (key, number) in accepted)
            {
                var ticket = await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
                var kinds = ticket.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("authorKind").GetString()).ToList();
                Assert.That(kinds, Is.EqualTo(new[] { "customer", "system" }), $"{key} → {number}");
            }

            // Retrying the whole burst with the same keys: accepted ones come back unchanged, the rest are created once.
            var numbers = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(Enumerable.Range(0, Burst), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            {
                var response = await PostAsync(intake, i);
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
                var number = await NumberAsync(response);
                if (accepted.TryGetValue(Key(i), out var before))
                    Assert.That(number, Is.EqualTo(before), Key(i));
                numbers.Add(number);
            });
            Assert.That(numbers.Distinct().Count(), Is.EqualTo(Burst));

            var counts = await DbProbe.CountsAsync(directory);
            Assert.That((counts["tickets"], counts["inbound"], counts["messages"], counts["outbox"]), Is.EqualTo((Burst, Burst, 2 * Burst, Burst)));

            // The acks left pending by the kill are sent after the restart.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            long unsent;
            while ((unsent = await DbProbe.ScalarAsync<long>(directory, "SELECT COUNT(*) FROM outbox WHERE state <> 'sent'")) > 0 && DateTime.UtcNow < deadline)
                await Task.Delay(200);
            Assert.That(unsent, Is.Zero, "every ack is delivered after the restart");
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    private static string Key(int i) => $"burst-{i}";

    private static HttpClient Intake(Uri address)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", GatewayFactory.IntakeKey);
        return client;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, int i)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests")
        {
            Content = JsonContent.Create(new { description = $"burst request {i}", contact = new { externalId = $"user-{i % 50}" } }),
        };
        request.Headers.Add("Idempotency-Key", Key(i));
        return client.SendAsync(request);
    }

    private static async Task<string> NumberAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
}
