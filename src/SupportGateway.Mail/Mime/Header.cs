using System.Text;

namespace SupportGateway.Mail.Mime;

/// <summary>One header field. The raw bytes are kept; the value is decoded on first use.</summary>
public sealed class Header
{
    private string? _value;

    internal Header(string name, ReadOnlyMemory<byte> rawValue, long offset)
    {
        Name = name;
        RawValue = rawValue;
        Offset = offset;
    }

    /// <summary>The field name as written (case preserved).</summary>
    public string Name { get; }

    /// <summary>The bytes after the colon, folding included.</summary>
    public ReadOnlyMemory<byte> RawValue { get; }

    /// <summary>Byte offset of the field in the message.</summary>
    public long Offset { get; }

    /// <summary>The unfolded value with RFC 2047 encoded-words decoded (RFC 5322 §2.2.3, RFC 2047 §6).</summary>
    public string Value => _value ??= EncodedWords.DecodeText(Unfolded(RawValue.Span));

    /// <summary>The unfolded value, bytes as they were (for structured fields parsed later).</summary>
    public byte[] UnfoldedBytes => Unfolded(RawValue.Span);

    internal static byte[] Unfolded(ReadOnlySpan<byte> raw)
    {
        var result = new byte[raw.Length];
        var length = 0;
        foreach (var b in raw)
        {
            if (b is (byte)'\r' or (byte)'\n')
                continue;
            result[length++] = b;
        }
        var start = 0;
        while (start < length && result[start] is (byte)' ' or (byte)'\t')
            start++;
        while (length > start && result[length - 1] is (byte)' ' or (byte)'\t')
            length--;
        return result[start..length];
    }

    public override string ToString() => $"{Name}: {Value}";
}

/// <summary>The header fields of an entity, in order; look-ups ignore case.</summary>
public sealed class HeaderList : List<Header>
{
    /// <summary>The first field with this name, or null.</summary>
    public Header? this[string name] => Find(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    public IEnumerable<Header> All(string name) => this.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The decoded value of the first field with this name, or null.</summary>
    public string? Get(string name) => this[name]?.Value;

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var header in this)
            text.Append(header).Append('\n');
        return text.ToString();
    }
}
