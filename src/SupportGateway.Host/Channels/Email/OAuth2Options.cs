namespace SupportGateway.Host.Channels.Email;

public enum OAuth2Provider { Microsoft, Google, Command, File }

/// <summary>
/// <c>Mailboxes:N:OAuth2</c>: where a mailbox's access tokens come from. The token is presented with SASL XOAUTH2 for the
/// mailbox's <c>Imap:Username</c> (and <c>Smtp:Username</c>); one token serves both endpoints.
/// </summary>
public sealed class OAuth2Options
{
    public OAuth2Provider Provider { get; set; }

    /// <summary>Microsoft: the directory (tenant) id of the app registration.</summary>
    public string? TenantId { get; set; }

    /// <summary>Microsoft: the app's client id; Google: the OAuth client id of a refresh token.</summary>
    public string? ClientId { get; set; }

    /// <summary>Microsoft: the app's client secret; Google: the OAuth client secret of a refresh token.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Microsoft: the sign-in authority; <c>https://login.microsoftonline.com/{TenantId}</c> when unset (national clouds differ).</summary>
    public string? Authority { get; set; }

    /// <summary>Google: a service account's JSON key with domain-wide delegation; it acts as the mailbox's user.</summary>
    public string? ServiceAccountKeyFile { get; set; }

    /// <summary>Google: a refresh token granted by the mailbox's user (with <see cref="ClientId"/> and <see cref="ClientSecret"/>).</summary>
    public string? RefreshToken { get; set; }

    /// <summary>The scopes asked for; unset, the provider's mail scope (<c>https://outlook.office365.com/.default</c>, <c>https://mail.google.com/</c>).</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>
    /// Command: a program run for each token, printing the token or a JSON object with <c>access_token</c> and
    /// <c>expires_in</c> (seconds) on standard output; with an expiry the token is kept until shortly before it.
    /// </summary>
    public string? Command { get; set; }

    public List<string> Arguments { get; set; } = [];

    /// <summary>File: a file holding the current token (kept fresh by something else, such as a sidecar); read for each login.</summary>
    public string? TokenFile { get; set; }

    internal IEnumerable<string> Problems(string key)
    {
        switch (Provider)
        {
            case OAuth2Provider.Microsoft:
                if (string.IsNullOrWhiteSpace(TenantId) && string.IsNullOrWhiteSpace(Authority))
                    yield return $"{key}:TenantId: required for Provider Microsoft";
                if (string.IsNullOrWhiteSpace(ClientId) || string.IsNullOrEmpty(ClientSecret))
                    yield return $"{key}: ClientId and ClientSecret are required for Provider Microsoft";
                break;
            case OAuth2Provider.Google:
                var serviceAccount = !string.IsNullOrWhiteSpace(ServiceAccountKeyFile);
                var refresh = !string.IsNullOrEmpty(RefreshToken);
                if (serviceAccount == refresh)
                    yield return $"{key}: Provider Google needs either ServiceAccountKeyFile or RefreshToken (with ClientId and ClientSecret)";
                else if (serviceAccount && !System.IO.File.Exists(ServiceAccountKeyFile))
                    yield return $"{key}:ServiceAccountKeyFile: '{ServiceAccountKeyFile}' does not exist";
                else if (refresh && (string.IsNullOrWhiteSpace(ClientId) || string.IsNullOrEmpty(ClientSecret)))
                    yield return $"{key}: ClientId and ClientSecret are required with RefreshToken";
                break;
            case OAuth2Provider.Command:
                if (string.IsNullOrWhiteSpace(Command))
                    yield return $"{key}:Command: required for Provider Command";
                break;
            case OAuth2Provider.File:
                if (string.IsNullOrWhiteSpace(TokenFile))
                    yield return $"{key}:TokenFile: required for Provider File";
                break;
        }
    }
}
