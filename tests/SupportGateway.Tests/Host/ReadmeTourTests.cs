using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host;

/// <summary>The README's tour on a fresh database with the repository's appsettings.json: the numbers it shows.</summary>
public sealed class ReadmeTourTests
{
    [Test]
    public async Task The_widget_request_is_SG_10008_and_step_4_gets_SG_10019()
    {
        await using var gateway = new GatewayFactory(new Dictionary<string, string?> { ["SupportGateway:Intake:ApiKeys:0"] = "demo-intake-key-change-me" });
        using var browser = gateway.CreateClient();
        var widget = await browser.PostAsync("/webchat/api/requests", new MultipartFormDataContent
        {
            { new StringContent("Ivan"), "name" }, { new StringContent("The report does not open"), "description" },
        });
        Assert.That(widget.StatusCode, Is.EqualTo(HttpStatusCode.Created), await widget.Content.ReadAsStringAsync());
        Assert.That(widget.Headers.Location?.ToString(), Is.EqualTo("/webchat/api/requests/SG-10008"));

        // Step 4, as the README writes it.
        using var product = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/requests")
        {
            Content = new StringContent("""
                {"description":"Отчёт не выгружается","contact":{"email":"ivan@example.ru","accountNumber":"ACC-77"},
                 "technicalDetails":{"appVersion":"5.2.1","os":"Windows 11"}}
                """, Encoding.UTF8, "application/json"),
            Headers = { { "X-Api-Key", "demo-intake-key-change-me" }, { "Idempotency-Key", "demo-1" } },
        };
        using var response = await product.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticketNumber").GetString(), Is.EqualTo("SG-10019"));

        var readme = await File.ReadAllTextAsync(Path.Combine(Corpus.RepositoryRoot(), "README.md"));
        Assert.That(readme, Does.Contain("(`SG-10008` on a fresh database)").And.Contain("\"ticketNumber\":\"SG-10019\""));
    }
}
