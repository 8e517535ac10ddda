using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Flows;
using Google.Apis.Auth.OAuth2.Responses;
using Microsoft.Identity.Client;

namespace SupportGateway.Host.Channels.Email;

/// <summary>Hands out a mailbox's OAuth 2.0 access token; <c>fresh</c> asks for a new one instead of a kept one.</summary>
internal interface IAccessTokenSource
{
    Task<string> GetAsync(bool fresh, CancellationToken cancellationToken);
}

/// <summary>One token source per mailbox, kept for the life of the host so that tokens are reused until shortly before they expire.</summary>
internal sealed class MailTokens(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, IAccessTokenSource> _sources = new(StringComparer.OrdinalIgnoreCase);

    public IAccessTokenSource For(MailboxOptions mailbox) => _sources.GetOrAdd(mailbox.Name, _ => Create(mailbox));

    private IAccessTokenSource Create(MailboxOptions mailbox)
    {
        var options = mailbox.OAuth2 ?? throw new InvalidOperationException($"mailbox {mailbox.Name} has no OAuth2 settings");
        var user = mailbox.Imap.Username ?? mailbox.Smtp.Username ?? mailbox.Address;
        return options.Provider switch
        {
            OAuth2Provider.Microsoft => new MicrosoftTokens(options),
            OAuth2Provider.Google => new GoogleTokens(options, user),
            _ => new ExternalTokens(options, time),
        };
    }
}

/// <summary>
/// Microsoft 365, app-only: the client-credentials grant of the app registration (MSAL keeps the token and renews it
/// before it expires). Exchange Online takes the token for IMAP and SMTP with the <c>.default</c> scope of outlook.office365.com.
/// </summary>
internal sealed class MicrosoftTokens(OAuth2Options options) : IAccessTokenSource
{
    private readonly IConfidentialClientApplication _app = ConfidentialClientApplicationBuilder.Create(options.ClientId)
        .WithClientSecret(options.ClientSecret)
        .WithAuthority(options.Authority ?? $"https://login.microsoftonline.com/{options.TenantId}")
        .Build();

    private readonly string[] _scopes = options.Scopes.Count > 0 ? [.. options.Scopes] : ["https://outlook.office365.com/.default"];

    public async Task<string> GetAsync(bool fresh, CancellationToken cancellationToken) =>
        (await _app.AcquireTokenForClient(_scopes).WithForceRefresh(fresh).ExecuteAsync(cancellationToken)).AccessToken;
}

/// <summary>
/// Google Workspace: a service account acting for the mailbox's user (domain-wide delegation), or a refresh token the
/// user granted. Google.Apis.Auth keeps the access token and renews it before it expires.
/// </summary>
internal sealed class GoogleTokens : IAccessTokenSource
{
    private readonly ServiceAccountCredential? _serviceAccount;
    private readonly UserCredential? _user;

    public GoogleTokens(OAuth2Options options, string user)
    {
        var scopes = options.Scopes.Count > 0 ? options.Scopes : ["https://mail.google.com/"];
        if (options.ServiceAccountKeyFile is { Length: > 0 } keyFile)
        {
            var key = CredentialFactory.FromFile<ServiceAccountCredential>(keyFile);
            _serviceAccount = (ServiceAccountCredential)key.ToGoogleCredential().CreateScoped(scopes).CreateWithUser(user).UnderlyingCredential;
        }
        else
        {
            var flow = new GoogleAuthorizationCodeFlow(new GoogleAuthorizationCodeFlow.Initializer
            {
                ClientSecrets = new ClientSecrets { ClientId = options.ClientId, ClientSecret = options.ClientSecret },
                Scopes = scopes,
            });
            _user = new UserCredential(flow, user, new TokenResponse { RefreshToken = options.RefreshToken });
        }
    }

    public async Task<string> GetAsync(bool fresh, CancellationToken cancellationToken)
    {
        if (_serviceAccount is { } account)
        {
            if (fresh)
                await account.RequestAccessTokenAsync(cancellationToken);
            return await account.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
        }
        if (fresh)
            await _user!.RefreshTokenAsync(cancellationToken);
        return await _user!.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
    }
}

/// <summary>
/// Anything else: a command that prints a token (plain, or JSON with <c>access_token</c> and <c>expires_in</c>), or a
/// file another program keeps current. A token with a known lifetime is kept until shortly before it ends.
/// </summary>
internal sealed class ExternalTokens(OAuth2Options options, TimeProvider time) : IAccessTokenSource
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string Token, DateTimeOffset Until)? _kept;

    public async Task<string> GetAsync(bool fresh, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!fresh && _kept is { } kept && time.GetUtcNow() < kept.Until)
                return kept.Token;
            var output = options.Provider == OAuth2Provider.File
                ? await File.ReadAllTextAsync(options.TokenFile!, cancellationToken)
                : await RunAsync(cancellationToken);
            var (token, lifetime) = Parse(output);
            // Renew five minutes early, or halfway through a shorter life.
            _kept = lifetime is { } life ? (token, time.GetUtcNow() + life - TimeSpan.FromTicks(Math.Min(RenewBefore.Ticks, life.Ticks / 2))) : null;
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private (string Token, TimeSpan? Lifetime) Parse(string output)
    {
        var text = output.Trim();
        var source = options.Provider == OAuth2Provider.File ? $"the token file {options.TokenFile}" : $"the token command {options.Command}";
        if (!text.StartsWith('{'))
            return text.Length > 0 && !text.Any(char.IsWhiteSpace) ? (text, null) : throw new InvalidOperationException($"{source} gave no token");
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        if (!root.TryGetProperty("access_token", out var token) || token.GetString() is not { Length: > 0 } value)
            throw new InvalidOperationException($"{source} printed JSON without access_token");
        TimeSpan? lifetime = root.TryGetProperty("expires_in", out var expires)
            ? TimeSpan.FromSeconds(expires.ValueKind == JsonValueKind.String ? double.Parse(expires.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : expires.GetDouble())
            : null;
        return (value, lifetime);
    }

    private async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(options.Command!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in options.Arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"the token command {options.Command} did not start");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CommandTimeout);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
            _ = process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            // Its error output is not shown: a token command may print secrets there.
            return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"the token command {options.Command} exited with code {process.ExitCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the token command {options.Command} gave no token within {CommandTimeout.TotalSeconds:0} s");
        }
    }
}
