using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace SupportGateway.Tests.Support;

/// <summary>
/// The OAuth 2.0 token introspection endpoint (RFC 7662) that the test Dovecot's oauth2 passdb asks, on the fixed port
/// tests/mail-servers.sh names: a form POST with <c>token=…</c>, answered with <c>{"active":…,"username":…}</c>.
/// It stands in for Microsoft's or Google's token checks, which only their own servers perform.
/// </summary>
internal sealed class IntrospectionServer : IAsyncDisposable
{
    public const int Port = 2580;

    private readonly HttpListener _listener = new();
    private readonly Func<string, string?> _userOf;
    private readonly ConcurrentQueue<string> _asked = new();
    private readonly Task _serving;

    /// <param name="userOf">The user a token is active for, or null when the token is expired, revoked or unknown.</param>
    public IntrospectionServer(Func<string, string?> userOf)
    {
        _userOf = userOf;
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = ServeAsync();
    }

    /// <summary>Every token Dovecot asked about, in order.</summary>
    public IReadOnlyList<string> Asked => [.. _asked];

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var form = System.Web.HttpUtility.ParseQueryString(await reader.ReadToEndAsync());
            var token = form["token"] ?? "";
            _asked.Enqueue(token);
            var user = _userOf(token);
            var body = JsonSerializer.SerializeToUtf8Bytes(user is null ? new { active = false } : (object)new { active = true, username = user, scope = "https://mail.google.com/" });
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }
}

/// <summary>A logger provider that keeps every line, for tests that count what the gateway logged.</summary>
internal sealed class RecordingLoggerProvider : Microsoft.Extensions.Logging.ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, Microsoft.Extensions.Logging.LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(string Category, Microsoft.Extensions.Logging.LogLevel Level, string Message)> Lines => [.. _lines];

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(string, Microsoft.Extensions.Logging.LogLevel, string)> lines) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => lines.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}
