using System.Text;
using MailKit;

namespace SupportGateway.Tests.Support;

/// <summary>MailKit's own protocol logger, as the gateway configures it (secrets redacted), writing to memory for a test to read.</summary>
internal sealed class Transcript
{
    private readonly MemoryStream _stream = new();

    public Transcript() => Logger = new ProtocolLogger(_stream, leaveOpen: true) { RedactSecrets = true, ClientPrefix = "C: ", ServerPrefix = "S: " };

    public ProtocolLogger Logger { get; }

    public string Text
    {
        get
        {
            lock (_stream)
                return Encoding.UTF8.GetString(_stream.ToArray());
        }
    }

    public IReadOnlyList<string> Lines => Text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
}
