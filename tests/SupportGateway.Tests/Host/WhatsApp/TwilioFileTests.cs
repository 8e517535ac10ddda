using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.WhatsApp;

/// <summary>
/// Agents' files through Twilio: each goes as a message with MediaUrl, a signed link of ours that the double fetches
/// as Twilio does; links refuse a wrong signature, an expired one and a file that is not an answer's; files WhatsApp
/// does not take are told to the agents instead.
/// </summary>
[NonParallelizable]
public sealed class TwilioFileTests : TwilioScenario
{
    private const string Customer = "+447700900321";

    private readonly ManualTime _clock = new(DateTimeOffset.UtcNow);

    private protected override TimeProvider? Clock => _clock;

    private protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
    [
        new("SupportGateway:Intake:MaxAttachmentBytes", "7000000"),
        new("SupportGateway:Intake:MaxRequestBytes", "20000000"),
    ];

    private static object Attachment(string name, string type, byte[] content) => new { fileName = name, contentType = type, contentBase64 = Convert.ToBase64String(content) };

    private async Task<string> TicketWithAnswerAsync(string sid, object[] files, string text = "Вот схема и акт.")
    {
        await SendAsync(sid, Customer, "Пришлите схему подключения");
        var number = await ProcessedAsync(sid);
        var reply = await Agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new { text, attachments = files });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.Created), await reply.Content.ReadAsStringAsync());
        return number;
    }

    [Test]
    public async Task An_answers_files_go_as_media_messages_whose_signed_links_twilio_fetches_with_the_right_bytes_type_and_name()
    {
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");
        var pdf = "%PDF-1.4\n% акт выполненных работ\n"u8.ToArray();
        var number = await TicketWithAnswerAsync("SM0000000000000000000000000000f001",
            [Attachment("схема.png", "image/png", png), Attachment("акт.pdf", "application/pdf", pdf)]);

        await SentAsync(Customer, m => m["Body"] == "Вот схема и акт.");
        await Eventually.HoldsAsync(() => Task.FromResult(Twilio.Fetched.Count == 2));
        var media = Twilio.Messages.Where(m => m.ContainsKey("MediaUrl")).ToList();
        Assert.That(media, Has.Count.EqualTo(2), "one file a message");
        Assert.That(media.Select(m => m["MediaUrl"]), Has.All.StartWith(PublicBaseUrl + "/files/whatsapp/"));
        var fetched = Twilio.Fetched.ToList();
        Assert.That(fetched.Select(f => f.Status), Is.All.EqualTo(200));
        Assert.That(fetched[0].Content, Is.EqualTo(png));
        Assert.That(fetched[0].ContentType, Is.EqualTo("image/png"));
        Assert.That(fetched[0].ContentDisposition, Does.StartWith("inline").And.Contain("%D1%81%D1%85%D0%B5%D0%BC%D0%B0.png"));
        Assert.That((fetched[1].Content, fetched[1].ContentType), Is.EqualTo((pdf, "application/pdf")));
        // Twilio fetches the files while the answer is being sent; the outbox marks it sent once the send returns.
        await Eventually.HoldsAsync(async () =>
            await DbProbe.ScalarAsync<long>(Gateway.Directory, "SELECT COUNT(*) FROM outbox WHERE channel = 'whatsapp' AND state = 'sent'") == 2);
        Assert.That(number, Does.StartWith("SG-"));
    }

    [Test]
    public async Task A_link_with_a_wrong_signature_is_403_an_expired_one_410_and_a_customers_file_404()
    {
        await TicketWithAnswerAsync("SM0000000000000000000000000000f101", [Attachment("акт.pdf", "application/pdf", "%PDF-1.4\n"u8.ToArray())]);
        await Eventually.HoldsAsync(() => Task.FromResult(Twilio.Fetched.Count == 1));
        var link = new Uri(Twilio.Messages.Single(m => m.ContainsKey("MediaUrl"))["MediaUrl"]);
        using var outside = Gateway.CreateClient();

        Assert.That((await outside.GetAsync(link.PathAndQuery)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var tampered = await outside.GetAsync(link.PathAndQuery[..^2] + "xx");
        Assert.That(tampered.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(tampered.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That((await outside.GetAsync(link.AbsolutePath)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "no signature");

        // Another file id under the same signature does not hold either.
        var id = long.Parse(link.Segments[^1], CultureInfo.InvariantCulture);
        Assert.That((await outside.GetAsync($"/files/whatsapp/{id + 1}{link.Query}")).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        // A correctly signed link (the documented derivation: HMAC-SHA256 under a key derived from the auth token) to a
        // file that does not exist.
        Assert.That((await outside.GetAsync(Signed(id + 1000, _clock.GetUtcNow().AddMinutes(5)))).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        _clock.Advance(TimeSpan.FromHours(2));
        var expired = await outside.GetAsync(link.PathAndQuery);
        Assert.That(expired.StatusCode, Is.EqualTo(HttpStatusCode.Gone));
        Assert.That((await expired.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString(), Is.EqualTo("Link expired"));
    }

    [Test]
    public async Task A_picture_over_5_mb_and_a_type_whatsapp_does_not_take_are_not_sent_and_the_agents_are_told()
    {
        var big = SampleFiles.Jpeg(6 * 1024 * 1024);
        var number = await TicketWithAnswerAsync("SM0000000000000000000000000000f201",
            [Attachment("фото.jpg", "image/jpeg", big), Attachment("архив.zip", "application/zip", [.. "PK\x05\x06"u8, .. new byte[18]]), Attachment("акт.pdf", "application/pdf", "%PDF-1.4\n"u8.ToArray())]);
        await Eventually.HoldsAsync(async () => (await TeamNoticesAsync()).Any(n => n.StartsWith("Not sent on WhatsApp", StringComparison.Ordinal)));
        var note = (await TeamNoticesAsync()).Single(n => n.StartsWith("Not sent on WhatsApp", StringComparison.Ordinal));
        Assert.That(note, Does.Contain("фото.jpg").And.Contain("5 MB").And.Contain("архив.zip").And.Not.Contain("акт.pdf"));
        Assert.That(Twilio.Messages.Count(m => m.ContainsKey("MediaUrl")), Is.EqualTo(1), "the PDF still goes");
        var audit = (await TicketAsync(number)).GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString()).ToList();
        Assert.That(audit, Does.Contain("delivery_partial"));
    }

    private static string Signed(long id, DateTimeOffset expires)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(FakeTwilioApi.AuthToken), "SupportGateway WhatsApp file links v1"u8);
        var at = expires.ToUnixTimeSeconds();
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes($"{id}.{at}"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return $"/files/whatsapp/{id}?expires={at}&signature={signature}";
    }
}
