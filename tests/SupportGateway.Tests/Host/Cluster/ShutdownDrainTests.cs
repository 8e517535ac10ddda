using System.Net;
using System.Net.Http.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Cluster;

/// <summary>
/// Shutdown:Drain on the real executable: told to stop, the instance says so on /healthz (503) while it still
/// answers requests, each answer closing its connection, opens no new web chat stream, and exits cleanly after it.
/// </summary>
[NonParallelizable]
public sealed class ShutdownDrainTests
{
    [Test]
    public async Task A_draining_instance_answers_503_on_healthz_but_still_serves_requests_and_closes_their_connections()
    {
        var directory = TempDirectory.Create();
        try
        {
            var port = GatewayProcess.FreePort();
            var environment = GatewayProcess.Environment(directory, port);
            // Long enough for the checks below on a loaded machine; the test waits for the exit, never for the time.
            environment["SupportGateway__Shutdown__Drain"] = "00:00:20";
            using var gateway = GatewayProcess.Start(directory, environment);
            var address = new Uri($"http://127.0.0.1:{port}");
            await gateway.WaitHealthyAsync(address, TimeSpan.FromMinutes(2));
            using var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Add("X-Api-Key", GatewayFactory.IntakeKey);

            gateway.Terminate();
            await Eventually.HoldsAsync(async () => (await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.ServiceUnavailable, 15,
                () => gateway.OutputTail);
            using var healthz = await client.GetAsync("/healthz");
            Assert.That(await healthz.Content.ReadAsStringAsync(), Does.StartWith("instance: stopping"));

            using var created = await client.PostAsJsonAsync("/api/v1/requests", new { description = "Filed while the instance drains", contact = new { email = "ivan@example.ru" } });
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
            Assert.That(created.Headers.ConnectionClose, Is.True, "a balancer keeps no connection to a stopping instance");

            using var events = new HttpRequestMessage(HttpMethod.Get, "/webchat/api/events");
            events.Headers.Add("X-Visitor-Token", "any");
            using var stream = await client.SendAsync(events, HttpCompletionOption.ResponseHeadersRead);
            Assert.That(stream.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "no new stream: nginx passes the GET to another instance");
            Assert.That(stream.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));

            Assert.That(await gateway.WaitForExitAsync(TimeSpan.FromMinutes(2)), Is.Zero, gateway.OutputTail);
            Assert.That(gateway.Output, Does.Contain("serving for 00:00:20 more while /healthz answers 503"));
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }

    [TestCase("-00:00:01")]
    [TestCase("00:05:01")]
    public async Task A_drain_out_of_range_stops_the_start_with_one_line_naming_the_key(string drain)
    {
        var directory = TempDirectory.Create();
        try
        {
            var environment = GatewayProcess.Environment(directory);
            environment["SupportGateway__Shutdown__Drain"] = drain;
            var (exit, output) = await GatewayProcess.RunAsync(directory, environment);
            Assert.That(exit, Is.EqualTo(2), output);
            Assert.That(output, Does.Contain("error: SupportGateway:Shutdown:Drain: must be between 00:00:00 and 00:05:00"));
        }
        finally
        {
            TempDirectory.Delete(directory);
        }
    }
}
