using System.Text;

namespace SupportGateway.Mail.Imap;

/// <summary>
/// Mailbox names on the wire (RFC 3501 §5.1.3): printable ASCII stands for itself, "&amp;" is "&amp;-", and any other
/// run of characters is "&amp;" + UTF-16BE in base64 with "," for "/" and no padding + "-". "Отправленные" is
/// "&amp;BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-".
/// </summary>
public static class ModifiedUtf7
{
    public static string Encode(string name)
    {
        var output = new StringBuilder(name.Length);
        for (var i = 0; i < name.Length;)
        {
            var c = name[i];
            if (c is >= ' ' and <= '~')
            {
                output.Append(c == '&' ? "&-" : c);
                i++;
                continue;
            }
            var start = i;
            while (i < name.Length && name[i] is < ' ' or > '~')
                i++;
            var base64 = Convert.ToBase64String(Encoding.BigEndianUnicode.GetBytes(name[start..i])).TrimEnd('=').Replace('/', ',');
            output.Append('&').Append(base64).Append('-');
        }
        return output.ToString();
    }

    /// <summary>Decodes a name from the server; a malformed shift is kept as it was rather than failing.</summary>
    public static string Decode(string wire)
    {
        if (!wire.Contains('&'))
            return wire;
        var output = new StringBuilder(wire.Length);
        for (var i = 0; i < wire.Length; i++)
        {
            var end = wire[i] == '&' ? wire.IndexOf('-', i + 1) : -1;
            if (end < 0)
            {
                output.Append(wire[i]);
                continue;
            }
            if (end == i + 1)
            {
                output.Append('&');
                i = end;
                continue;
            }
            var base64 = wire[(i + 1)..end].Replace(',', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            try
            {
                output.Append(Encoding.BigEndianUnicode.GetString(Convert.FromBase64String(base64)));
                i = end;
            }
            catch (FormatException)
            {
                output.Append(wire[i]);
            }
        }
        return output.ToString();
    }
}
