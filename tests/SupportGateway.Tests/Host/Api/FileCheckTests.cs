using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>Where the sender can be told (intake API, web chat, an agent's reply), a file that is not what it claims is refused.</summary>
public sealed class FileCheckTests
{
    private GatewayFactory _gateway = null!;

    [SetUp]
    public void SetUp() => _gateway = new GatewayFactory();

    [TearDown]
    public void TearDown() => _gateway.Dispose();

    private static object Request(string fileName, string contentType, byte[] content) => new
    {
        description = "Скриншот во вложении",
        contact = new { email = "ivan@example.ru" },
        attachments = new[] { new { fileName, contentType, contentBase64 = Convert.ToBase64String(content) } },
    };

    [Test]
    public async Task A_malformed_allow_list_stops_the_start_with_one_line_naming_the_key()
    {
        var directory = TempDirectory.Create();
        var env = GatewayProcess.Environment(directory, GatewayProcess.FreePort());
        env["SupportGateway__Attachments__AllowedTypes__0"] = "png";

        var (exitCode, output) = await GatewayProcess.RunAsync(directory, env);

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output.Trim(), Is.EqualTo("error: SupportGateway:Attachments:AllowedTypes: 'png' is not a media type (type/subtype, type/*, or a prefix ending in *)"));
    }

    [Test]
    public async Task A_program_named_png_is_415_on_the_intake_api_and_nothing_is_stored()
    {
        using var intake = _gateway.Intake();

        var response = await intake.PostAsJsonAsync("/api/v1/requests", Request("screen.png", "image/png", SampleFiles.WindowsProgram()));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(problem.GetProperty("detail").GetString(), Is.EqualTo("'screen.png' claims to be a PNG image but its content is a program."));
        Assert.That(problem.GetProperty("field").GetString(), Is.EqualTo("attachments[0]"));
        Assert.That((await DbProbe.CountsAsync(_gateway.Directory))["inbound"], Is.Zero);
    }

    [Test]
    public async Task A_real_picture_with_a_hostile_name_is_accepted_under_a_clean_name_and_downloads_as_itself()
    {
        using var intake = _gateway.Intake();
        using var agent = _gateway.Agent();

        var response = await intake.PostAsJsonAsync("/api/v1/requests", Request("C:\\fakepath\\photo\u202Egnp.exe.png", "image/png", SampleFiles.OnePixelPng));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var number = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
        var file = (await agent.GetFromJsonAsync<JsonElement>($"/api/v1/tickets/{number}")).GetProperty("messages")[0].GetProperty("attachments")[0];
        Assert.That((file.GetProperty("fileName").GetString(), file.GetProperty("contentType").GetString()), Is.EqualTo(("photognp.exe.png", "image/png")));
        var download = await agent.GetAsync(file.GetProperty("download").GetString());
        Assert.That(download.Content.Headers.ContentType!.MediaType, Is.EqualTo("image/png"));
        Assert.That(download.Content.Headers.ContentDisposition!.DispositionType, Is.EqualTo("attachment"));
    }

    [Test]
    public async Task The_web_chat_refuses_a_page_sent_as_a_picture_and_an_agent_cannot_attach_a_program()
    {
        using var visitor = _gateway.CreateClient();
        var form = new MultipartFormDataContent { { new StringContent("Не открывается"), "description" } };
        var page = new ByteArrayContent("<html><body onload=alert(1)>"u8.ToArray());
        page.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(page, "files", "photo.jpg");

        var refused = await visitor.PostAsync("/webchat/api/requests", form);

        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(),
            Is.EqualTo("'photo.jpg' claims to be a JPEG image but its content is an HTML page."));
        Assert.That((await DbProbe.CountsAsync(_gateway.Directory))["inbound"], Is.Zero);

        using var intake = _gateway.Intake();
        using var agent = _gateway.Agent();
        var created = await intake.PostAsJsonAsync("/api/v1/requests", new { description = "Нужна утилита", contact = new { email = "ivan@example.ru" } });
        var number = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString()!;
        var reply = await agent.PostAsJsonAsync($"/api/v1/tickets/{number}/replies", new
        {
            text = "Вот утилита",
            attachments = new[] { new { fileName = "tool.exe", contentType = "application/octet-stream", contentBase64 = Convert.ToBase64String(SampleFiles.WindowsProgram()) } },
        });
        Assert.That(reply.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That((await reply.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(),
            Is.EqualTo("'tool.exe' is a program (application/x-msdownload), a kind of file not accepted here."));
    }
}
