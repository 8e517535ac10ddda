using System.Net;
using System.Text;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>Twilio's webhooks: the corpus posted with its own signatures, refusals, repeats and status callbacks.</summary>
[NonParallelizable]
public sealed class TwilioWebhookTests : TwilioScenario
{
    // The corpus signs its status callback with the webhook's URL: configured as such here.
    private protected override string StatusCallbackUrl => WebhookUrl;

    [Test]
    public async Task Every_synthetic_webhook_is_accepted_with_its_signature_and_normalised()
    {
        foreach (var media in new[] { "03", "04", "050", "051" })
            Twilio.Media[$"ME{media.PadLeft(32, '0')}"] = (Encoding.UTF8.GetBytes($"file {media}"), "application/octet-stream");
        var score = new Score("Twilio synthetic webhooks");
        var files = Directory.EnumerateFiles(Corpus.Path("whatsapp", "twilio-synthetic"), "*.json").Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var root = json.RootElement;
            var fields = root.GetProperty("params");
            var status = fields.TryGetProperty("MessageStatus", out _);
            var response = await PostRawAsync(root.GetProperty("form_body").GetString()!, root.GetProperty("x_twilio_signature").GetString(),
                status ? "/webhooks/whatsapp/twilio/status" : "/webhooks/whatsapp/twilio");
            var name = Path.GetFileName(file);
            score.Check(response.StatusCode == HttpStatusCode.OK && (await response.Content.ReadAsStringAsync()).Contains("<Response/>", StringComparison.Ordinal)
                && response.Content.Headers.ContentType?.MediaType == "text/xml", $"{name}: 200 with empty TwiML");
            if (!status)
                await CheckAsync(score, name, fields);
        }
        score.Check(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM inbound") == files.Count - 1, "a status callback stores no inbound row");
        score.Check(await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM tickets") == 2, "two customers, two tickets; the rest follow up");
        score.Report();
        Assert.That(score.Ratio, Is.EqualTo(1.0));
    }

    /// <summary>What the corpus message must have become: its text, its files, its sender.</summary>
    private async Task CheckAsync(Score score, string name, JsonElement fields)
    {
        var sid = fields.GetProperty("MessageSid").GetString()!;
        await ProcessedAsync(sid);
        var id = new { id = "tw:" + sid };
        var text = await DbProbe.ScalarAsync<string>(Gateway.Directory, "SELECT m.text FROM inbound i JOIN messages m ON m.id = i.message_id WHERE i.external_id = @id", id);
        var files = await DbProbe.ScalarAsync<long>(Gateway.Directory,
            "SELECT COUNT(*) FROM attachments WHERE message_id = (SELECT message_id FROM inbound WHERE external_id = @id)", id);
        var phone = await DbProbe.ScalarAsync<string>(Gateway.Directory,
            "SELECT ci.identity FROM inbound i JOIN messages m ON m.id = i.message_id JOIN contact_identities ci ON ci.contact_id = m.contact_id AND ci.channel = 'whatsapp' WHERE i.external_id = @id", id);
        var body = fields.GetProperty("Body").GetString()!;
        var expected = fields.TryGetProperty("Latitude", out var latitude)
            ? $"[location {latitude.GetString()}, {fields.GetProperty("Longitude").GetString()}: {fields.GetProperty("Label").GetString()}, {fields.GetProperty("Address").GetString()}]"
            : body;
        score.Check(text == expected, $"{name}: text '{text}', expected '{expected}'");
        score.Check(files == int.Parse(fields.GetProperty("NumMedia").GetString()!), $"{name}: {files} attachments");
        score.Check(phone == "+" + fields.GetProperty("WaId").GetString(), $"{name}: the sender is {phone}");
    }

    [Test]
    public async Task A_wrong_or_missing_signature_is_refused_and_leaves_no_row()
    {
        var fields = FakeTwilioApi.Inbound("SM0000000000000000000000000000aa01", "+447700900123", "Hello");
        var forged = await PostAsync(fields, signature: FakeTwilioApi.Sign(WebhookUrl, fields, token: "not-the-token"));
        var missing = await PostAsync(fields, signature: "");
        // Signed for the address the request reached instead of the configured public one: refused as well.
        var ownHost = await PostAsync(fields, signedUrl: "http://localhost/webhooks/whatsapp/twilio");
        foreach (var response in new[] { forged, missing, ownHost })
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        }
        var counts = await DbProbe.CountsAsync(Gateway.Directory);
        Assert.That((counts["inbound"], counts["tickets"], counts["contacts"]), Is.EqualTo((0L, 0L, 0L)));
    }

    [Test]
    public async Task A_body_over_the_limit_is_refused_whether_its_length_is_declared_or_not()
    {
        var huge = "Body=" + new string('x', 300 * 1024);
        var declared = await PostRawAsync(huge, "unchecked");
        // Content that cannot tell its length: the limit holds while the body arrives, not only on the declared length.
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/twilio")
        {
            Content = new LengthlessContent(System.Text.Encoding.ASCII.GetBytes(huge)),
        };
        request.Content.Headers.ContentType = new("application/x-www-form-urlencoded");
        request.Headers.Add("X-Twilio-Signature", "unchecked");
        var chunked = await Client.SendAsync(request);
        foreach (var response in new[] { declared, chunked })
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        }
        Assert.That((await DbProbe.CountsAsync(Gateway.Directory))["inbound"], Is.Zero);
    }

    private sealed class LengthlessContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Test]
    public async Task A_repeated_delivery_is_stored_once_and_answered_200_each_time()
    {
        var fields = FakeTwilioApi.Inbound("SM0000000000000000000000000000aa02", "+447700900123", "The printer is broken");
        for (var i = 0; i < 3; i++)
            Assert.That((await PostAsync(fields)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await ProcessedAsync("SM0000000000000000000000000000aa02");
        var counts = await DbProbe.CountsAsync(Gateway.Directory);
        Assert.That((counts["inbound"], counts["tickets"]), Is.EqualTo((1L, 1L)));
    }

    [Test]
    public async Task Status_callbacks_land_on_the_ticket_and_a_dead_number_marks_the_customer_unreachable()
    {
        await SendAsync("SM0000000000000000000000000000aa03", "+447700900123", "Cannot log in");
        var ack = await SentAsync("+447700900123");
        var number = await ProcessedAsync("SM0000000000000000000000000000aa03");
        await Eventually.HoldsAsync(async () => await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE external_id = @id", new { id = "tw:" + ack["_sid"] }) == 1);

        var delivered = new Dictionary<string, string> { ["MessageSid"] = ack["_sid"], ["MessageStatus"] = "delivered", ["AccountSid"] = FakeTwilioApi.AccountSid };
        Assert.That((await PostAsync(delivered, path: "/webhooks/whatsapp/twilio/status")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var failed = new Dictionary<string, string>(delivered) { ["MessageStatus"] = "undelivered", ["ErrorCode"] = "63024" };
        Assert.That((await PostAsync(failed, path: "/webhooks/whatsapp/twilio/status")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var unsigned = new Dictionary<string, string>(delivered) { ["MessageStatus"] = "read" };
        Assert.That((await PostAsync(unsigned, signature: "forged", path: "/webhooks/whatsapp/twilio/status")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        var ticket = await TicketAsync(number);
        var statuses = ticket.GetProperty("audit").EnumerateArray().Where(a => a.GetProperty("action").GetString() == "delivery_status")
            .Select(a => a.GetProperty("newValue").GetString()).ToList();
        Assert.That(statuses, Is.EqualTo(new[] { "delivered", "undelivered (63024)" }));
        Assert.That(ticket.GetProperty("audit").EnumerateArray().Any(a => a.GetProperty("action").GetString() == "contact_unreachable"), Is.True);
        Assert.That(await DbProbe.ScalarAsync<long>(Gateway.Directory,
            "SELECT COUNT(*) FROM contact_identities WHERE channel = 'whatsapp' AND identity = '+447700900123' AND unreachable_at IS NOT NULL"), Is.EqualTo(1));
    }
}
