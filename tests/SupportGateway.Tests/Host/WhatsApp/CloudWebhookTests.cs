using System.Net;
using System.Text;
using System.Text.Json;
using SupportGateway.Host.Channels.WhatsApp;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>The Cloud API webhook's gate: Meta's signature vectors, refusals that store nothing, verification and retries.</summary>
[NonParallelizable]
public sealed class CloudWebhookTests : CloudScenario
{
    [Test]
    public void Every_Meta_signature_vector_is_judged_as_expected_by_the_webhooks_own_check()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Corpus.Path("whatsapp", "signatures", "meta-x-hub-signature-256-vectors.json")));
        var score = new Score("Meta X-Hub-Signature-256 vectors");
        foreach (var vector in json.RootElement.GetProperty("vectors").EnumerateArray())
        {
            var body = vector.TryGetProperty("raw_body_base64", out var base64)
                ? Convert.FromBase64String(base64.GetString()!)
                : Encoding.UTF8.GetBytes(vector.GetProperty("raw_body_utf8").GetString()!);
            var secret = vector.GetProperty("app_secret").GetString()!;
            var valid = CloudSignature.IsValid(secret, body, vector.GetProperty("x_hub_signature_256").GetString());
            score.Check(valid == vector.GetProperty("expected_valid").GetBoolean(), vector.GetProperty("id").GetString()!);
            // The escaped vector proves the raw bytes are hashed: the unescaped body's signature must not pass for it.
            if (vector.TryGetProperty("signature_over_unescaped_utf8_body", out var wrong))
                score.Check(!CloudSignature.IsValid(secret, body, wrong.GetString()), vector.GetProperty("id").GetString() + " (unescaped signature refused)");
        }
        score.Report();
        Assert.That(score.Agreed, Is.EqualTo(score.Checks));
        Assert.That(score.Checks, Is.EqualTo(5));
    }

    [Test]
    public async Task A_bad_or_missing_signature_gets_403_and_leaves_no_row()
    {
        var body = Encoding.UTF8.GetBytes(Delivery("message__text.json", "wamid.BAD1", text: "Не работает касса").ToJsonString());
        var wrong = await PostAsync(body, signature: "sha256=" + new string('0', 64));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(wrong.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        // Signed with the right secret over other bytes (one space added): refused too.
        var tampered = await PostAsync([.. body, (byte)' '], signature: Sign(body));
        Assert.That(tampered.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        using var unsigned = new HttpRequestMessage(HttpMethod.Post, "/webhooks/whatsapp/cloud") { Content = new ByteArrayContent(body) };
        Assert.That((await Meta.SendAsync(unsigned)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var counts = await DbProbe.CountsAsync(Gateway.Directory);
        Assert.That((counts["inbound"], counts["tickets"], counts["contacts"]), Is.EqualTo((0L, 0L, 0L)));
    }

    [Test]
    public async Task Verification_echoes_the_challenge_only_for_the_right_token()
    {
        var ok = await Meta.GetAsync($"/webhooks/whatsapp/cloud?hub.mode=subscribe&hub.verify_token={VerifyToken}&hub.challenge=1158201444");
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ok.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        Assert.That(await ok.Content.ReadAsStringAsync(), Is.EqualTo("1158201444"));
        var wrong = await Meta.GetAsync("/webhooks/whatsapp/cloud?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444");
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        var mode = await Meta.GetAsync($"/webhooks/whatsapp/cloud?hub.mode=unsubscribe&hub.verify_token={VerifyToken}&hub.challenge=1");
        Assert.That(mode.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task A_repeated_delivery_is_stored_once_and_answers_one_ticket()
    {
        var body = Delivery("message__text.json", "wamid.REPEAT1", text: "Не печатает чек");
        for (var i = 0; i < 3; i++)
            Assert.That((await PostAsync(body)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var (_, number) = await AckAsync("wamid.REPEAT1");
        await Eventually.HoldsAsync(async () => await PendingAsync() == 0);
        var counts = await DbProbe.CountsAsync(Gateway.Directory);
        Assert.That((counts["inbound"], counts["tickets"]), Is.EqualTo((1L, 1L)));
        Assert.That(await InboundOfAsync(number), Has.Count.EqualTo(1));
        Assert.That(Graph.Messages.Count(m => Body(m).Contains(number, StringComparison.Ordinal)), Is.EqualTo(1), "one acknowledgement");
    }
}
