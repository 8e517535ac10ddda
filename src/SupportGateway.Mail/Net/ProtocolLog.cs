namespace SupportGateway.Mail.Net;

/// <summary>Receives each protocol line a client sends or reads, with secrets already replaced by "********".</summary>
public interface IProtocolLog
{
    void Sent(string line);

    void Received(string line);
}

/// <summary>Where the connection is secured: in TLS from the start, upgraded by STARTTLS, or plain (loopback only).</summary>
public enum MailSecurity
{
    ImplicitTls,
    StartTls,
    /// <summary>No TLS at all: refused for any host but loopback, so credentials never cross a network in clear.</summary>
    PlainLoopbackOnly,
}

/// <summary>The connection is unusable (dropped, timed out, or the server spoke nonsense): reconnect.</summary>
public sealed class MailProtocolException(string message, Exception? inner = null) : IOException(message, inner);
