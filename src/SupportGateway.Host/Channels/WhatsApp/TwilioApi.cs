using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using Twilio.Clients;
using Twilio.Http;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// Our HTTP to Twilio: the SDK's <see cref="TwilioRestClient"/> (it has no base-URL option, so a handler sends its
/// requests for api.twilio.com to <see cref="TwilioOptions.ApiBaseUrl"/>: a test double, or Twilio itself), and media
/// downloads with HTTP basic auth. The auth token goes only to Twilio's API host and never into a log or a message.
/// </summary>
internal sealed class TwilioApi : IDisposable
{
    public const string Host = "api.twilio.com";

    // Twilio's limit is 16 MB per message; a little over leaves room for a file the limit let through.
    public const long MaxMedia = 20L * 1024 * 1024;

    private readonly System.Net.Http.HttpClient _http;
    private readonly AuthenticationHeaderValue _basic;

    public TwilioApi(IOptions<WhatsAppOptions> options)
    {
        var settings = options.Value.Twilio;
        var target = Uri.TryCreate(settings.ApiBaseUrl, UriKind.Absolute, out var parsed) ? parsed : new Uri("https://" + Host);
        _http = new System.Net.Http.HttpClient(new BaseUrlHandler(target) { InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) } })
        {
            Timeout = TimeSpan.FromSeconds(30),
            MaxResponseContentBufferSize = MaxMedia,
        };
        Rest = new TwilioRestClient(settings.AccountSid ?? "", settings.AuthToken ?? "", httpClient: new SystemNetHttpClient(_http));
        _basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.AccountSid}:{settings.AuthToken}")));
    }

    public TwilioRestClient Rest { get; }

    /// <summary>
    /// A MediaUrl of an inbound message. Twilio answers with a redirect to its file store, which HttpClient follows
    /// without the Authorization header.
    /// </summary>
    public async Task<byte[]> DownloadAsync(Uri url, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(System.Net.Http.HttpMethod.Get, url);
        if (string.Equals(url.Host, Host, StringComparison.OrdinalIgnoreCase))
            request.Headers.Authorization = _basic;
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} for {url.AbsolutePath}", null, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Requests for api.twilio.com go to the configured base URL (its path, if any, goes first).</summary>
    private sealed class BaseUrlHandler(Uri target) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { } uri && string.Equals(uri.Host, Host, StringComparison.OrdinalIgnoreCase)
                && !string.Equals(target.Host, Host, StringComparison.OrdinalIgnoreCase))
            {
                request.RequestUri = new UriBuilder(target) { Path = target.AbsolutePath.TrimEnd('/') + uri.AbsolutePath, Query = uri.Query.TrimStart('?') }.Uri;
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
