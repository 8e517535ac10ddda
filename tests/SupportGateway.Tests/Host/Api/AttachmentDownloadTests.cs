using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>Agents fetch a customer's files from the ticket, without e-mail.</summary>
public sealed class AttachmentDownloadTests
{
    private const string FileName = "Отчёт за март.pdf";
    private static readonly byte[] Content = [0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e, 0x37, 0x0a, 0xff];

    private GatewayFactory _gateway = null!;
    private HttpClient _agent = null!;
    private HttpClient _intake = null!;

    [SetUp]
    public void SetUp()
    {
        _gateway = new GatewayFactory();
        _agent = _gateway.Agent();
        _intake = _gateway.Intake();
    }

    [TearDown]
    public void TearDown()
    {
        _agent.Dispose();
        _intake.Dispose();
        _gateway.Dispose();
    }

    private async Task<string> FileWithAttachmentAsync(string description)
    {
        var response = await _intake.PostAsJsonAsync("/api/v1/requests", new
        {
            description,
            contact = new { email = "ivan@example.ru" },
            attachments = new[] { new { fileName = FileName, contentType = "application/pdf", contentBase64 = Convert.ToBase64String(Content) } },
        });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
    }

    [Test]
    public async Task An_agent_downloads_a_file_with_a_cyrillic_name_from_the_path_in_the_ticket()
    {
        var number = await FileWithAttachmentAsync("Отчёт не выгружается, пример во вложении");
        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        var attachment = ticket.GetProperty("messages")[0].GetProperty("attachments")[0];
        var path = attachment.GetProperty("download").GetString()!;

        var response = await _agent.GetAsync(path);

        Assert.That(path, Is.EqualTo($"/api/v1/tickets/{number}/attachments/{attachment.GetProperty("id").GetInt64()}"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(Content));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/pdf"));
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.That(disposition.DispositionType, Is.EqualTo("attachment"));
        // RFC 6266 §4.3: an ASCII fallback in filename, the real name in filename* (RFC 5987: UTF-8, percent-encoded).
        Assert.That(disposition.FileNameStar, Is.EqualTo(FileName));
        Assert.That(response.Content.Headers.GetValues("Content-Disposition").Single(),
            Does.Contain("filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20%D0%B7%D0%B0%20%D0%BC%D0%B0%D1%80%D1%82.pdf"));
        Assert.That(disposition.FileName!.Trim('"').All(char.IsAscii), Is.True);
        Assert.That(response.Headers.GetValues("X-Content-Type-Options").Single(), Is.EqualTo("nosniff"));
    }

    [Test]
    public async Task A_file_is_reached_only_through_its_own_ticket_and_with_an_agent_key()
    {
        var number = await FileWithAttachmentAsync("Первый");
        var other = await FileWithAttachmentAsync("Второй");
        var ticket = await _agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}");
        var id = ticket.GetProperty("messages")[0].GetProperty("attachments")[0].GetProperty("id").GetInt64();
        using var anonymous = _gateway.CreateClient();

        var viaOther = await _agent.GetAsync($"/api/v1/tickets/{other}/attachments/{id}");
        var missing = await _agent.GetAsync($"/api/v1/tickets/{number}/attachments/{id + 1000}");
        var withoutKey = await anonymous.GetAsync($"/api/v1/tickets/{number}/attachments/{id}");
        var withIntakeKey = await _intake.GetAsync($"/api/v1/tickets/{number}/attachments/{id}");

        Assert.That(viaOther.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(viaOther.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(withoutKey.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(withIntakeKey.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }
}
