using System.Globalization;
using System.Text;
using SupportGateway.Mail.Net;

namespace SupportGateway.Mail.Imap;

/// <summary>Where and how to read a mailbox.</summary>
public sealed record ImapClientOptions : MailServerOptions
{
    public ImapClientOptions() => Port = 143;

    /// <summary>
    /// Capabilities to act as if the server had not offered them, for a server whose implementation of one is
    /// broken (for example "MOVE" makes moves use COPY, STORE \Deleted and EXPUNGE instead).
    /// </summary>
    public IReadOnlySet<string> IgnoredCapabilities { get; init; } = new HashSet<string>();
}

/// <summary>The selected mailbox (folder): its UID validity, the next UID, and the message count, kept current.</summary>
public sealed class ImapMailbox(string name)
{
    public string Name { get; } = name;

    /// <summary>When this changes, every UID seen before means nothing (RFC 9051 §2.3.1.1).</summary>
    public uint UidValidity { get; internal set; }

    public uint UidNext { get; internal set; }

    /// <summary>The number of messages, updated by EXISTS and EXPUNGE responses.</summary>
    public uint Exists { get; internal set; }

    public bool ReadOnly { get; internal set; }

    public override string ToString() => $"{Name} (UIDVALIDITY {UidValidity}, UIDNEXT {UidNext}, {Exists} messages)";
}

/// <summary>What to fetch besides the UID.</summary>
[Flags]
public enum ImapFetchItems
{
    Uid = 0,
    Flags = 1,
    Size = 2,
    InternalDate = 4,
    /// <summary>The whole message (BODY.PEEK[], so the \Seen flag is left alone).</summary>
    Body = 8,
    All = Flags | Size | InternalDate | Body,
}

/// <summary>One message's fetched data; items not asked for are null.</summary>
public sealed class ImapMessage(uint uid)
{
    public uint Uid { get; } = uid;

    public IReadOnlyList<string>? Flags { get; internal set; }

    public long? Size { get; internal set; }

    public DateTimeOffset? InternalDate { get; internal set; }

    public byte[]? Body { get; internal set; }

    public override string ToString() => $"UID {Uid}{(Size is { } size ? $", {size} octets" : "")}";
}

public enum ImapStoreMode { Add, Remove, Replace }

/// <summary>What a server reported about the selected mailbox outside any request: new mail, removals, flag changes.</summary>
public sealed record ImapMailboxChange(string Kind, uint Number);

/// <summary>The server answered NO or BAD: the connection stays usable. <see cref="Code"/> is the bracketed code, such as TRYCREATE.</summary>
public sealed class ImapCommandException(string command, ImapResponse response)
    : Exception($"{command} refused: {response.Status}{(response.Code.Count > 0 ? " [" + string.Join(' ', response.Code) + "]" : "")} {response.Text}")
{
    public string Status { get; } = response.Status ?? "";

    public string? Code { get; } = response.CodeName;

    public string Text { get; } = response.Text;
}

/// <summary>UID sets on the wire (RFC 9051 §9, sequence-set): "1:5,7,9:12", split so no command line grows too long.</summary>
public static class ImapUidSet
{
    public static IEnumerable<string> Format(IEnumerable<uint> uids, int maxLength = 1000)
    {
        var sorted = uids.Distinct().Order().ToList();
        var set = new StringBuilder();
        for (var i = 0; i < sorted.Count;)
        {
            var first = sorted[i];
            var last = first;
            while (++i < sorted.Count && sorted[i] == last + 1)
                last = sorted[i];
            var range = first == last ? first.ToString(CultureInfo.InvariantCulture) : $"{first}:{last}";
            if (set.Length > 0 && set.Length + range.Length + 1 > maxLength)
            {
                yield return set.ToString();
                set.Clear();
            }
            set.Append(set.Length > 0 ? "," : "").Append(range);
        }
        if (set.Length > 0)
            yield return set.ToString();
    }
}
