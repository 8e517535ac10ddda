using MimeKit;
using MimeKit.Utils;

namespace SupportGateway.Mail.Inbound;

/// <summary>
/// Address fields through MimeKit's parser, one address at a time where the whole list fails: MimeKit refuses a
/// list for one bad member (a leading comma, "Name &lt;&gt;", "Name a@b" without brackets, a bare name), and the
/// others are still who the mail was from or to. A member without an address is kept with an empty one.
/// </summary>
internal static class MailboxList
{
    public static IEnumerable<(string Name, string Address)> Read(ParserOptions options, byte[] raw)
    {
        if (InternetAddressList.TryParse(options, raw, out var list))
            return list.Mailboxes.Select(m => (m.Name ?? "", m.Address ?? ""));
        return Members(raw).SelectMany(member => One(options, member));
    }

    private static IEnumerable<(string Name, string Address)> One(ParserOptions options, byte[] member)
    {
        if (InternetAddressList.TryParse(options, member, out var list))
            return list.Mailboxes.Select(m => (m.Name ?? "", m.Address ?? ""));
        var text = member.AsSpan();
        var open = text.IndexOf((byte)'<');
        if (open >= 0)
        {
            var close = text[open..].IndexOf((byte)'>');
            var address = System.Text.Encoding.UTF8.GetString(close < 0 ? text[(open + 1)..] : text.Slice(open + 1, close - 1)).Trim();
            return [(Phrase(options, text[..open]), address)];
        }
        // "Name a@b": the address is the last word with an '@'.
        var words = System.Text.Encoding.Latin1.GetString(text).Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var at = Array.FindLastIndex(words, w => w.Contains('@'));
        if (at < 0)
            return [(Phrase(options, text), "")]; // a bare name ("Bcc: Array"): who it was, with nowhere to answer
        var name = System.Text.Encoding.Latin1.GetBytes(string.Join(' ', words.Take(at).Concat(words.Skip(at + 1))));
        return [(Phrase(options, name), words[at].Trim('<', '>', '"', '\''))];
    }

    private static string Phrase(ParserOptions options, ReadOnlySpan<byte> phrase) =>
        Rfc2047.DecodePhrase(options, phrase.ToArray()).Trim().Trim('"', '\'', ' ');

    /// <summary>The list cut at commas outside quoted strings, comments and angle brackets (RFC 5322 §3.4).</summary>
    private static IEnumerable<byte[]> Members(byte[] raw)
    {
        var (start, quoted, depth, angle) = (0, false, 0, false);
        for (var i = 0; i <= raw.Length; i++)
        {
            var b = i < raw.Length ? raw[i] : (byte)',';
            if (quoted)
            {
                if (b == '\\')
                    i++; // a quoted pair (RFC 5322 §3.2.1)
                else if (b == '"')
                    quoted = false;
                continue;
            }
            switch (b)
            {
                case (byte)'"':
                    quoted = true;
                    break;
                case (byte)'(':
                    depth++;
                    break;
                case (byte)')':
                    depth = Math.Max(0, depth - 1);
                    break;
                case (byte)'<':
                    angle = true;
                    break;
                case (byte)'>':
                    angle = false;
                    break;
                case (byte)',' or (byte)';' when depth == 0 && !angle:
                    if (raw.AsSpan(start, i - start).Trim(" \t\r\n"u8).Length > 0)
                        yield return raw[start..i];
                    start = i + 1;
                    break;
            }
        }
    }
}
