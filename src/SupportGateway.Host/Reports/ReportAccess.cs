using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NodaTime;
using SupportGateway.Host.Agents;

namespace SupportGateway.Host.Reports;

/// <summary>
/// Who may see the report page: an agent holding a signed token, from the session cookie or a shared link. A token
/// is the agent's e-mail and an expiry, with an HMAC-SHA256 keyed with that agent's API key; the key itself never
/// leaves the server, and changing it revokes every session and link of that agent at once.
/// </summary>
internal static class ReportAccess
{
    public const string CookieName = "sg_report";
    public const string CookiePath = "/reports";

    public static readonly Duration SessionLifetime = Duration.FromHours(8);
    public static readonly Duration LinkLifetime = Duration.FromHours(24);

    /// <summary>Bound into the MAC, so a token made for the report is good for nothing else keyed with the same secret.</summary>
    private const string Purpose = "supportgateway/sla-report/v1";

    private const int MaxTokenLength = 1024;

    public static string Issue(AgentOptions agent, Instant expires)
    {
        var payload = Encoding.UTF8.GetBytes(FormattableString.Invariant($"{agent.Email}\n{expires.ToUnixTimeSeconds()}"));
        return $"{Base64Url.EncodeToString(payload)}.{Base64Url.EncodeToString(Mac(agent.ApiKey, payload))}";
    }

    /// <summary>The agent the token was issued to, if it is well formed, signed with that agent's current key and not expired.</summary>
    public static AgentOptions? Verify(AgentDirectory agents, string? token, Instant now)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength || token.Split('.') is not [var payloadPart, var macPart])
            return null;
        byte[] payload, mac;
        try
        {
            payload = Base64Url.DecodeFromChars(payloadPart);
            mac = Base64Url.DecodeFromChars(macPart);
        }
        catch (FormatException)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(payload);
        var newline = text.LastIndexOf('\n');
        if (newline < 0 || !long.TryParse(text.AsSpan(newline + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
            return null;
        if (agents.FindByEmail(text[..newline]) is not { } agent || !CryptographicOperations.FixedTimeEquals(Mac(agent.ApiKey, payload), mac))
            return null;
        return Instant.FromUnixTimeSeconds(Math.Min(expires, Instant.MaxValue.ToUnixTimeSeconds())) > now ? agent : null;
    }

    /// <summary>HttpOnly so page scripts never read it, SameSite=Strict so no other site's form or link carries it, and no expiry: the token inside has one.</summary>
    public static CookieOptions Cookie(HttpRequest request) => new()
    {
        HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = request.IsHttps, Path = CookiePath, IsEssential = true,
    };

    private static byte[] Mac(string apiKey, byte[] payload) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(apiKey), (byte[])[.. Encoding.UTF8.GetBytes(Purpose), (byte)'\n', .. payload]);
}
