using System.Text.RegularExpressions;
using SupportGateway.Host.Channels.Api;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Deploy;

/// <summary>
/// samples/nginx/supportgateway.conf stays a configuration nginx accepts (its upstream's servers replaced by loopback
/// addresses, as tests/nginx.sh does for the cluster tests), and keeps what the gateway relies on behind a balancer.
/// </summary>
public sealed partial class NginxSampleTests
{
    private static readonly string Repository = Corpus.RepositoryRoot();
    private static readonly string Sample = Path.Combine(Repository, "samples", "nginx", "supportgateway.conf");

    [Test]
    public async Task The_sample_passes_nginx_t_with_the_upstream_addresses_substituted()
    {
        var (exit, output) = await Shell.RunAsync($"bash tests/nginx.sh test '{Sample}' 127.0.0.1:15081 127.0.0.1:15082 127.0.0.1:15083", Repository);
        Assert.That(exit, Is.Zero, output);
        Assert.That(output, Does.Contain("is valid"));
    }

    [Test]
    public void The_sample_streams_the_web_chat_unbuffered_and_lets_the_gateway_answer_its_own_size_limits()
    {
        var text = File.ReadAllText(Sample);
        var webchat = Location().Match(text);
        Assert.That(webchat.Success, "a location for /webchat/");
        Assert.That(webchat.Value, Does.Contain("proxy_buffering off;"));
        Assert.That(Seconds(ReadTimeout().Match(webchat.Value).Groups[1].Value), Is.GreaterThan(15), "longer than the stream's 15 s ping");
        Assert.That(text, Does.Contain("proxy_http_version 1.1;").And.Contain("proxy_set_header Connection \"\";"));
        Assert.That(text, Does.Contain("X-Forwarded-For $proxy_add_x_forwarded_for").And.Contain("X-Forwarded-Proto $scheme"));

        // Above the gateway's own limits, so an oversized body gets the gateway's 413 with problem details, not nginx's page.
        var intake = new IntakeOptions();
        var widget = new SupportGateway.Host.Channels.WebChat.WebChatOptions();
        var bodies = BodySize().Matches(text).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) << 20).ToList();
        Assert.That(bodies, Has.Count.EqualTo(2), "one for the server, one for the widget");
        Assert.That(bodies[0], Is.GreaterThan(intake.MaxRequestBytes));
        Assert.That(BodySize().Match(webchat.Value).Success, "the widget's location has its own limit");
        Assert.That(bodies[1], Is.GreaterThanOrEqualTo(widget.MaxRequestBytes));
        Assert.That(UpstreamServer().Matches(text), Has.Count.GreaterThanOrEqualTo(2), "several instances, each with max_fails and fail_timeout");
    }

    private static int Seconds(string value)
    {
        var number = int.Parse(value.TrimEnd('s', 'm', 'h'), System.Globalization.CultureInfo.InvariantCulture);
        return value.EndsWith('h') ? number * 3600 : value.EndsWith('m') ? number * 60 : number;
    }

    [GeneratedRegex(@"location /webchat/ \{[^}]*\}")]
    private static partial Regex Location();

    [GeneratedRegex(@"proxy_read_timeout (\d+[smh]?);")]
    private static partial Regex ReadTimeout();

    [GeneratedRegex(@"client_max_body_size (\d+)m;")]
    private static partial Regex BodySize();

    [GeneratedRegex(@"server \S+:\d+ max_fails=\d+ fail_timeout=\d+s; # upstream-server")]
    private static partial Regex UpstreamServer();
}
