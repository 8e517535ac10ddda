using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace SupportGateway.Host;

internal static partial class Secrets
{
    /// <summary>
    /// Masks the values of query parameters that carry credentials in any URL of <paramref name="text"/>: Meta's
    /// <c>hub.verify_token</c>, the report link's <c>token</c>, a file link's <c>signature</c>, and the usual names
    /// (<c>key</c>, <c>access_token</c>, <c>code</c>, <c>secret</c>, <c>password</c>).
    /// </summary>
    public static string RedactUrls(string text) =>
        text.Contains('?', StringComparison.Ordinal) || text.Contains('&', StringComparison.Ordinal) ? SecretParameter().Replace(text, "$1***") : text;

    [GeneratedRegex(@"([?&](?:hub\.verify_token|token|access_token|id_token|refresh_token|signature|sig|key|api_key|apikey|code|secret|client_secret|password)=)[^&\s#""']*",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretParameter();

    public static bool FixedTimeEquals(string expected, string actual) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(actual)));

    /// <summary>A short, non-reversible tag for a secret, safe to store or log.</summary>
    public static string Fingerprint(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))[..12];

    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
