using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SupportGateway.Tests.Support;

/// <summary>
/// A loopback server that plays one scripted session, for server behaviour a local Dovecot or Postfix cannot show
/// (Exchange, Gmail, Yandex, Mail.ru). Script lines are "S: text" (sent with CRLF), "C: text" (the next line the
/// client must send; "C: *" takes any line), "S: &lt;close&gt;", and "S: &lt;wait&gt;" (say nothing until the client hangs
/// up). The first difference ends the session and is
/// reported in <see cref="Failure"/>. MailKit's IMAP tags carry a letter that changes with every client in the process
/// (A00000000, B00000000…): a script's tags are labels, matched to whatever tag the client sends in their place and used
/// in the server's answers to it.
/// </summary>
internal sealed class ReplayServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _session;
    private readonly List<string> _received = [];
    private static readonly System.Text.RegularExpressions.Regex Tag = new(@"^[A-Z]+\d{4,8}(?= |$)");
    private readonly Dictionary<string, string> _tags = new(StringComparer.Ordinal);

    public ReplayServer(string script)
    {
        _listener.Start();
        var lines = script.Replace("\r\n", "\n").Trim('\n').Split('\n').Select(l => l.TrimStart()).Where(l => l.Length > 0).ToList();
        _session = Task.Run(() => PlayAsync(lines));
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string? Failure { get; private set; }

    /// <summary>Every line the client sent.</summary>
    public IReadOnlyList<string> Received => _received;

    /// <summary>Waits for the script to end (it must end within 10 s) and returns <see cref="Failure"/>.</summary>
    public async Task<string?> FinishedAsync()
    {
        await _session.WaitAsync(TimeSpan.FromSeconds(10));
        return Failure;
    }

    private async Task PlayAsync(List<string> lines)
    {
        using var client = await _listener.AcceptTcpClientAsync();
        await using var stream = client.GetStream();
        var buffer = new List<byte>();
        var chunk = new byte[4096];
        foreach (var line in lines)
        {
            if (line == "S: <close>")
                return;
            if (line == "S: <wait>")
            {
                try
                {
                    while (await stream.ReadAsync(chunk).AsTask().WaitAsync(TimeSpan.FromSeconds(5)) > 0)
                    {
                    }
                }
                catch (Exception ex) when (ex is TimeoutException or IOException)
                {
                    Failure = "the client never hung up";
                }
                return;
            }
            if (line.StartsWith("S: ", StringComparison.Ordinal) || line == "S:")
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(Tag.Replace(line[Math.Min(3, line.Length)..], m => _tags.GetValueOrDefault(m.Value, m.Value), 1) + "\r\n"));
                continue;
            }
            var expected = line[Math.Min(3, line.Length)..];
            string? actual;
            while ((actual = TakeLine(buffer)) is null)
            {
                int read;
                try
                {
                    read = await stream.ReadAsync(chunk).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (Exception ex) when (ex is TimeoutException or IOException)
                {
                    read = 0;
                }
                if (read == 0)
                {
                    Failure = $"expected the client to send \"{expected}\", but it sent nothing more";
                    return;
                }
                buffer.AddRange(chunk.AsSpan(0, read));
            }
            _received.Add(actual);
            if (Tag.Match(expected) is { Success: true } label && Tag.Match(actual) is { Success: true } tag)
            {
                _tags[label.Value] = tag.Value;
                expected = tag.Value + expected[label.Length..];
            }
            if (expected != "*" && actual != expected)
            {
                Failure = $"expected the client to send \"{expected}\", but it sent \"{actual}\"";
                // The client then sees a closed connection; this line says why.
                TestContext.Progress.WriteLine("replay: " + Failure);
                return;
            }
        }
    }

    private static string? TakeLine(List<byte> buffer)
    {
        var end = buffer.IndexOf((byte)'\n');
        if (end < 0)
            return null;
        var line = Encoding.UTF8.GetString(buffer.GetRange(0, end).ToArray()).TrimEnd('\r');
        buffer.RemoveRange(0, end + 1);
        return line;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _session.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception)
        {
            // The session's outcome is asserted through FinishedAsync; disposal only releases the port.
        }
    }
}
