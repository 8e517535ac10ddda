using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Net.Sockets;
using System.Text;

namespace SupportGateway.Mail.Net;

/// <summary>
/// The async shell the SMTP and IMAP clients share: a socket, optional TLS, a receive buffer that sans-IO
/// readers parse from, timeouts, and the protocol log. Every read and write error becomes a
/// <see cref="MailProtocolException"/>: the connection is then unusable.
/// </summary>
internal sealed class MailConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly TimeSpan _timeout;
    private readonly IProtocolLog? _log;
    private readonly string _host;
    private readonly RemoteCertificateValidationCallback? _validation;
    private Stream _stream;
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    private MailConnection(TcpClient tcp, MailServerOptions options)
    {
        _tcp = tcp;
        _host = options.Host;
        _timeout = options.Timeout;
        _log = options.ProtocolLog;
        _validation = options.ServerCertificateValidation;
        _stream = tcp.GetStream();
    }

    public static async Task<MailConnection> OpenAsync(MailServerOptions options, CancellationToken cancellationToken)
    {
        var (host, port) = (options.Host, options.Port);
        if (options.Security == MailSecurity.PlainLoopbackOnly && !IsLoopback(host))
            throw new ArgumentException($"{host} is not a loopback address: plain connections are allowed to loopback only; use TLS or STARTTLS.", nameof(options));
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var cts = Deadline(options.Timeout, cancellationToken);
            await tcp.ConnectAsync(host, port, cts.Token);
            var connection = new MailConnection(tcp, options);
            if (options.Security == MailSecurity.ImplicitTls)
                await connection.StartTlsAsync(cancellationToken);
            return connection;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            tcp.Dispose();
            throw new MailProtocolException($"cannot connect to {host}:{port}: {ex.Message}", ex);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    public bool IsSecure => _stream is SslStream;

    public async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        using var cts = Deadline(_timeout, cancellationToken);
        await Guard(() => ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = _host, RemoteCertificateValidationCallback = _validation }, cts.Token), cancellationToken);
        _stream = ssl;
    }

    /// <summary>Writes bytes; <paramref name="logLine"/> is what the protocol log shows instead (secrets replaced).</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> bytes, string? logLine, CancellationToken cancellationToken)
    {
        if (logLine is not null)
            _log?.Sent(logLine);
        using var cts = Deadline(_timeout, cancellationToken);
        await Guard(async () =>
        {
            await _stream.WriteAsync(bytes, cts.Token);
            await _stream.FlushAsync(cts.Token);
        }, cancellationToken);
    }

    public Task WriteLineAsync(string line, CancellationToken cancellationToken, string? logAs = null) =>
        WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), logAs ?? line, cancellationToken);

    /// <summary>Reads until <paramref name="tryParse"/> finds a whole item in the buffered bytes.</summary>
    public async Task<T> ReadAsync<T>(TryParse<T> tryParse, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var cts = Deadline(timeout ?? _timeout, cancellationToken);
        while (true)
        {
            var data = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            if (tryParse(ref data, out var item))
            {
                var consumed = (int)(_end - _start - data.Length);
                LogReceived(_buffer.AsSpan(_start, consumed));
                _start += consumed;
                return item!;
            }
            await FillAsync(cts.Token, cancellationToken);
        }
    }

    public delegate bool TryParse<T>(ref ReadOnlySequence<byte> buffer, out T? item);

    private async Task FillAsync(CancellationToken token, CancellationToken callerToken)
    {
        if (_start > 0 && _start == _end)
            (_start, _end) = (0, 0);
        if (_end == _buffer.Length)
        {
            // Keep the unread bytes, make room; a large literal grows the buffer.
            var size = _end - _start > _buffer.Length / 2 ? _buffer.Length * 2 : _buffer.Length;
            var next = new byte[size];
            Buffer.BlockCopy(_buffer, _start, next, 0, _end - _start);
            (_buffer, _end, _start) = (next, _end - _start, 0);
        }
        var read = await Guard(() => _stream.ReadAsync(_buffer.AsMemory(_end), token).AsTask(), callerToken);
        if (read == 0)
            throw new MailProtocolException($"{_host} closed the connection");
        _end += read;
    }

    private void LogReceived(ReadOnlySpan<byte> bytes)
    {
        if (_log is null)
            return;
        // Message bodies arrive as literals; the log keeps lines of a reasonable length only.
        foreach (var line in Encoding.UTF8.GetString(bytes.Length > 4096 ? bytes[..4096] : bytes).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
            _log.Received(line.Length > 200 ? line[..200] + "…" : line);
    }

    private static async Task Guard(Func<Task> action, CancellationToken callerToken) => await Guard(async () => { await action(); return 0; }, callerToken);

    private static async Task<T> Guard<T>(Func<Task<T>> action, CancellationToken callerToken)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException) when (callerToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or AuthenticationException or ObjectDisposedException)
        {
            throw ex as MailProtocolException ?? new MailProtocolException(ex is OperationCanceledException ? "the server did not answer in time" : ex.Message, ex);
        }
    }

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
            cts.CancelAfter(timeout);
        return cts;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
