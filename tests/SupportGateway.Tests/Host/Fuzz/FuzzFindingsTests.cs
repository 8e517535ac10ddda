using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Fuzz;

/// <summary>What the fuzzer found, each pinned as a plain case: the answer it must get and what the database keeps.</summary>
[NonParallelizable]
public sealed class FuzzFindingsTests
{
    private FuzzGateway _g = null!;

    [SetUp]
    public async Task StartAsync() => _g = await FuzzGateway.StartAsync("findings", 0);

    [TearDown]
    public async Task StopAsync() => await _g.DisposeAsync();

    [Test]
    public async Task A_Twilio_message_whose_From_is_not_a_phone_number_is_400_and_nothing_is_stored()
    {
        var fields = FakeTwilioApi.Inbound("SMfinding0000000000000000000001", "+79161234567", "Не работает");
        fields["From"] = "whatsapp:SG-10008";
        using var response = await _g.Client.SendAsync(FakeTwilioApi.WebhookRequest(FuzzGateway.TwilioUrl, fields));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.That((await DbProbe.CountsAsync(_g.Gateway.Directory))["inbound"], Is.Zero);
    }

    [Test]
    public async Task A_web_chat_form_cut_before_its_closing_boundary_is_400()
    {
        var body = Encoding.UTF8.GetBytes("--b0\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nНе печатает касса");
        using var response = await _g.Client.PostAsync("/webchat/api/requests", FuzzGateway.Content(body, "multipart/form-data; boundary=b0"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.That((await DbProbe.CountsAsync(_g.Gateway.Directory))["tickets"], Is.Zero);
    }

    [Test]
    public async Task Every_public_input_answers_415_to_a_body_in_another_media_type()
    {
        var json = Encoding.UTF8.GetBytes("{\"update_id\":5}");
        var telegram = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = FuzzGateway.Content(json, "text/plain") };
        telegram.Headers.Add("X-Telegram-Bot-Api-Secret-Token", FuzzGateway.TelegramSecret);
        var cloud = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = FuzzGateway.Content(json, "application/xml") };
        cloud.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(FuzzGateway.AppSecret), json)));
        var fields = FakeTwilioApi.Inbound("SMfinding0000000000000000000002", "+79161234567", "Не работает");
        var twilio = FakeTwilioApi.WebhookRequest(FuzzGateway.TwilioUrl, fields);
        twilio.Content = FuzzGateway.Content(await twilio.Content!.ReadAsByteArrayAsync(), "text/plain");
        var webChat = new HttpRequestMessage(HttpMethod.Post, "/webchat/api/requests") { Content = FuzzGateway.Content(Encoding.UTF8.GetBytes("description=x"), "text/plain") };
        var intake = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests") { Content = FuzzGateway.Content(json, "application/xml") };
        foreach (var (client, request) in new[] { (_g.Client, telegram), (_g.Client, cloud), (_g.Client, twilio), (_g.Client, webChat), (_g.Intake, intake) })
        {
            using var response = await client.SendAsync(request);
            await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, request.RequestUri!.ToString());
        }
        Assert.That((await DbProbe.CountsAsync(_g.Gateway.Directory))["inbound"], Is.Zero);
    }

    [Test]
    public async Task The_same_Telegram_message_under_a_new_update_id_is_dropped_as_a_duplicate_not_parked()
    {
        foreach (var updateId in new[] { 7001, 7002 })
        {
            var update = FakeBotApi.Update("message.json", updateId, userId: 4242, text: "Не печатает касса", messageId: 77);
            await _g.SendAsync(updateId, _g.Client, Telegram(update.ToJsonString()), "Telegram update");
        }
        await _g.CheckSettledAsync();
        var dir = _g.Gateway.Directory;
        Assert.Multiple(async () =>
        {
            Assert.That(_g.Tally.Failures, Is.Empty);
            Assert.That(await DbProbe.ScalarAsync<long>(dir, "SELECT COUNT(*) FROM inbound WHERE channel = 'telegram' AND state = 'processed'"), Is.EqualTo(2));
            Assert.That(await DbProbe.ScalarAsync<long>(dir, "SELECT COUNT(*) FROM inbound WHERE state = 'dead'"), Is.Zero);
            Assert.That(await DbProbe.ScalarAsync<long>(dir, "SELECT COUNT(*) FROM messages WHERE channel = 'telegram' AND direction = 'in'"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_signed_Cloud_delivery_that_cannot_be_read_is_parked_with_its_reason_and_logged_without_an_error()
    {
        var delivery = JsonNode.Parse(File.ReadAllText(Corpus.Path("whatsapp", "meta-cloud-api", "pywa", "message__text.json")))!;
        var message = delivery["entry"]![0]!["changes"]![0]!["value"]!["messages"]![0]!;
        message["id"] = "wamid.FINDING1";
        message["timestamp"] = new JsonObject { ["not"] = "a time" };
        var body = Encoding.UTF8.GetBytes(delivery.ToJsonString());
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = FuzzGateway.Content(body, "application/json") };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(FuzzGateway.AppSecret), body)));
        await _g.SendAsync(1, _g.Client, request, "Cloud API delivery");
        await _g.CheckSettledAsync();
        var reasons = await DbProbe.ListAsync<string>(_g.Gateway.Directory, "SELECT last_error FROM inbound WHERE state = 'dead'");
        Assert.Multiple(() =>
        {
            Assert.That(_g.Tally.Failures, Is.Empty, "an error or a stack trace was logged");
            Assert.That(reasons, Has.Count.EqualTo(1));
            Assert.That(reasons[0], Does.Contain("timestamp"));
        });
    }

    private static HttpRequestMessage Telegram(string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telegram") { Content = FuzzGateway.Content(Encoding.UTF8.GetBytes(json), "application/json") };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", FuzzGateway.TelegramSecret);
        return request;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? what = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(status), $"{what}: {body}");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), what);
    }
}
