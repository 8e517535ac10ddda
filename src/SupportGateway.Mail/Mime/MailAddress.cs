using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>A mailbox: display name (may be empty) and address.</summary>
public sealed record MailAddress(string Name, string Address)
{
    public override string ToString() => Name.Length == 0 ? Address : $"\"{Name}\" <{Address}>";

    /// <summary>
    /// Parses an address list (RFC 5322 §3.4): groups, quoted and encoded display names, comments,
    /// and what real mailers send instead ("Name a@b", a missing '>', a bare address with a comment).
    /// Structure is read from the bytes first; names are decoded after, so a comma inside an
    /// encoded-word cannot split an address.
    /// </summary>
    public static IReadOnlyList<MailAddress> ParseList(ReadOnlySpan<byte> value)
    {
        var result = new List<MailAddress>();
        var name = new List<byte>();
        string? angle = null, comment = null;
        var i = 0;
        while (i < value.Length)
        {
            var b = value[i];
            switch (b)
            {
                case (byte)'"':
                    i = ReadQuoted(value, i + 1, name);
                    continue;
                case (byte)'(':
                    var commentBytes = new List<byte>();
                    i = ReadComment(value, i + 1, commentBytes);
                    comment ??= EncodedWords.DecodeText(commentBytes.ToArray()).Trim();
                    continue;
                case (byte)'<':
                    var close = value[(i + 1)..].IndexOf((byte)'>');
                    var end = close < 0 ? value.Length : i + 1 + close;
                    angle = Encoding.UTF8.GetString(value[(i + 1)..end]).Trim();
                    i = end + 1;
                    continue;
                case (byte)',' or (byte)';':
                    Finish(result, name, ref angle, ref comment);
                    break;
                case (byte)':' when angle is null && !LooksLikeAddress(name):
                    name.Clear(); // a group's display name (RFC 5322 §3.4 group)
                    comment = null;
                    break;
                default:
                    name.Add(b);
                    break;
            }
            i++;
        }
        Finish(result, name, ref angle, ref comment);
        return result;
    }

    private static bool LooksLikeAddress(List<byte> name) => name.Contains((byte)'@');

    private static void Finish(List<MailAddress> result, List<byte> nameBytes, ref string? angle, ref string? comment)
    {
        var text = EncodedWords.DecodeText(nameBytes.ToArray()).Trim();
        nameBytes.Clear();
        string? address = angle;
        if (address is null)
        {
            // "Name a@b" or a bare "a@b": the address is the last word with an '@'.
            var words = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var at = Array.FindLastIndex(words, w => w.Contains('@'));
            if (at >= 0)
            {
                address = words[at].Trim('<', '>', '"', '\'');
                text = string.Join(' ', words.Take(at).Concat(words.Skip(at + 1)));
            }
        }
        var name = text.Length > 0 ? text.Trim('\'', '"', ' ') : comment ?? "";
        if (!string.IsNullOrWhiteSpace(address))
            result.Add(new MailAddress(name, address.Replace(" ", "", StringComparison.Ordinal)));
        else if (name.Length > 0 || angle is not null)
            result.Add(new MailAddress(name, "")); // "Name <>" or a bare name: who it was, with nowhere to answer
        angle = null;
        comment = null;
    }

    private static int ReadQuoted(ReadOnlySpan<byte> value, int i, List<byte> into)
    {
        while (i < value.Length && value[i] != '"')
        {
            if (value[i] == '\\' && i + 1 < value.Length)
                i++;
            into.Add(value[i++]);
        }
        return i + 1;
    }

    private static int ReadComment(ReadOnlySpan<byte> value, int i, List<byte> into)
    {
        var depth = 1;
        for (; i < value.Length; i++)
        {
            var b = value[i];
            if (b == '\\' && i + 1 < value.Length)
            {
                into.Add(value[++i]);
                continue;
            }
            depth += b == '(' ? 1 : b == ')' ? -1 : 0;
            if (depth == 0)
                return i + 1;
            into.Add(b);
        }
        return i;
    }
}
