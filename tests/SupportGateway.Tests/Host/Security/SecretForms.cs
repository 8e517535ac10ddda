using System.Net;
using System.Text;

namespace SupportGateway.Tests.Host.Security;

/// <summary>The ways a secret can show in text: as it is, URL-encoded, and base64 (standard or URL-safe) at any offset inside a longer value.</summary>
internal static class SecretForms
{
    public static IEnumerable<string> Of(string secret)
    {
        yield return secret;
        yield return Uri.EscapeDataString(secret);
        yield return WebUtility.UrlEncode(secret);
        var bytes = Encoding.UTF8.GetBytes(secret);
        for (var offset = 0; offset < 3; offset++)
        {
            // Base64 of the secret inside something longer ("sid:token" in basic auth) keeps a stable middle:
            // drop the group that mixes in the bytes before it and the one after it.
            var encoded = Convert.ToBase64String([.. new byte[offset], .. bytes]);
            var core = encoded[(offset == 0 ? 0 : 4)..^4];
            yield return core;
            yield return core.Replace('+', '-').Replace('/', '_');
        }
    }

    /// <summary>The secrets (named) whose any form occurs in <paramref name="text"/>.</summary>
    public static IEnumerable<string> FoundIn(string text, IReadOnlyDictionary<string, string> secrets) =>
        secrets.Where(s => Of(s.Value).Distinct().Any(form => text.Contains(form, StringComparison.Ordinal))).Select(s => s.Key);
}
