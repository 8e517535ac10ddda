using System.Net.Security;

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

/// <summary>Where a mail server is and how to reach it; the SMTP and IMAP options add their own settings.</summary>
public abstract record MailServerOptions
{
    public required string Host { get; init; }

    public int Port { get; init; }

    public MailSecurity Security { get; init; } = MailSecurity.StartTls;

    public string? UserName { get; init; }

    public string? Password { get; init; }

    /// <summary>How long one read or write may take before the connection counts as broken.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public IProtocolLog? ProtocolLog { get; init; }

    /// <summary>
    /// Decides whether to trust the server's certificate, for a private CA or a pinned self-signed certificate.
    /// Unset, the system's trust store and the host name decide.
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }

    // Credentials stay out of logs and exception messages that print the options.
    protected virtual bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Host = {Host}, Port = {Port}, Security = {Security}, UserName = {UserName}, Password = ********");
        return true;
    }
}
