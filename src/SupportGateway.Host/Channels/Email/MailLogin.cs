using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using MailKit;
using MailKit.Security;

namespace SupportGateway.Host.Channels.Email;

/// <summary>The server turned down the mailbox's OAuth 2.0 token, a fresh one included: the app's grant or the token source needs fixing.</summary>
internal sealed class MailTokenRejectedException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Connecting and logging in, the same for IMAP and SMTP: the TLS mode, pinned certificates, MailKit's protocol log
/// with secrets redacted, and the password or an OAuth 2.0 token (SASL XOAUTH2).
/// </summary>
internal sealed class MailLogin(MailTokens tokens)
{
    /// <summary>MailKit's protocol log for one session, appended to <c>{mailbox}-{protocol}.log</c>; nothing when not configured.</summary>
    public static IProtocolLogger ProtocolLog(EmailOptions options, MailboxOptions mailbox, string protocol)
    {
        if (options.ProtocolLogDirectory is not { Length: > 0 } directory)
            return new NullProtocolLogger();
        Directory.CreateDirectory(directory);
        return new ProtocolLogger(Path.Combine(directory, $"{mailbox.Name}-{protocol}.log"), append: true) { RedactSecrets = true, LogTimestamps = true };
    }

    /// <summary>A fingerprint in canonical form (64 upper-case hex digits), or null when it is not a SHA-256 fingerprint.</summary>
    public static string? Fingerprint(string text)
    {
        var hex = string.Concat(text.Where(c => c is not (':' or ' ' or '-'))).ToUpperInvariant();
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit) ? hex : null;
    }

    /// <summary>Connects with the endpoint's TLS mode; a pinned certificate is trusted as it is, any other must pass the usual checks.</summary>
    public static async Task ConnectAsync(MailService client, MailEndpointOptions endpoint, int tlsPort, int startTlsPort, CancellationToken cancellationToken)
    {
        client.Timeout = (int)Math.Min(int.MaxValue, endpoint.Timeout.TotalMilliseconds);
        var pins = endpoint.PinnedCertificates.Select(Fingerprint).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (pins.Count > 0)
        {
            client.ServerCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None || (certificate is not null && pins.Contains(Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256))));
        }
        var (port, security) = endpoint.Security switch
        {
            MailboxSecurity.SslOnConnect => (tlsPort, SecureSocketOptions.SslOnConnect),
            MailboxSecurity.None => (startTlsPort, SecureSocketOptions.None),
            _ => (startTlsPort, SecureSocketOptions.StartTls),
        };
        await client.ConnectAsync(endpoint.Host, endpoint.Port != 0 ? endpoint.Port : port, security, cancellationToken);
    }

    /// <summary>
    /// Logs in. With OAuth 2.0 a kept token the server refuses (expired or revoked early) is replaced by a fresh one once;
    /// a fresh one refused too is <see cref="MailTokenRejectedException"/>.
    /// </summary>
    public async Task AuthenticateAsync(MailService client, MailboxOptions mailbox, MailEndpointOptions endpoint, CancellationToken cancellationToken)
    {
        if (endpoint.Auth == MailAuth.Password)
        {
            if (!string.IsNullOrEmpty(endpoint.Username))
                await client.AuthenticateAsync(endpoint.Username, endpoint.Password ?? "", cancellationToken);
            return;
        }
        var source = tokens.For(mailbox);
        var user = endpoint.Username!;
        try
        {
            await client.AuthenticateAsync(new SaslMechanismOAuth2(user, await source.GetAsync(fresh: false, cancellationToken)), cancellationToken);
            return;
        }
        catch (AuthenticationException) when (client.IsConnected)
        {
            // Once more with a new token: the kept one may have ended before its stated expiry.
        }
        try
        {
            await client.AuthenticateAsync(new SaslMechanismOAuth2(user, await source.GetAsync(fresh: true, cancellationToken)), cancellationToken);
        }
        catch (AuthenticationException ex)
        {
            throw new MailTokenRejectedException(string.Create(CultureInfo.InvariantCulture,
                $"{endpoint.Host} rejected the OAuth 2.0 token of {mailbox.OAuth2!.Provider} for {user}: {ex.Message}"), ex);
        }
    }
}
