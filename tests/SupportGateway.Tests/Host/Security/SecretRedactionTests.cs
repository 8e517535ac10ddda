using SupportGateway.Host;

namespace SupportGateway.Tests.Host.Security;

public sealed class SecretRedactionTests
{
    [TestCase("GET http://h/webhooks/whatsapp/cloud?hub.mode=subscribe&hub.verify_token=s3cr%2Bt&hub.challenge=1 - 200",
        "GET http://h/webhooks/whatsapp/cloud?hub.mode=subscribe&hub.verify_token=***&hub.challenge=1 - 200")]
    [TestCase("GET http://h/reports/sla?token=abc.def&lang=ru", "GET http://h/reports/sla?token=***&lang=ru")]
    [TestCase("GET /files/whatsapp/7?expires=1&signature=f00d", "GET /files/whatsapp/7?expires=1&signature=***")]
    [TestCase("https://x/?API_KEY=1&Access_Token=2#frag", "https://x/?API_KEY=***&Access_Token=***#frag")]
    [TestCase("GET /api/v1/tickets?status=new&q=token", "GET /api/v1/tickets?status=new&q=token")]
    [TestCase("no url here", "no url here")]
    public void Credentials_in_query_strings_are_masked_and_nothing_else(string line, string expected) =>
        Assert.That(Secrets.RedactUrls(line), Is.EqualTo(expected));
}
