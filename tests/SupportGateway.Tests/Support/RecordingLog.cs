using SupportGateway.Mail.Net;

namespace SupportGateway.Tests.Support;

/// <summary>A protocol log that keeps every line, "C: " for sent and "S: " for received.</summary>
internal sealed class RecordingLog : IProtocolLog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
                return [.. _lines];
        }
    }

    public void Sent(string line)
    {
        lock (_lines)
            _lines.Add("C: " + line);
    }

    public void Received(string line)
    {
        lock (_lines)
            _lines.Add("S: " + line);
    }
}
