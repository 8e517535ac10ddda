using System.Text;

namespace SupportGateway.Core.Attachments;

/// <summary>
/// What a file is by its first bytes (its "magic number"): at most <see cref="HeadBytes"/> are read, nothing is decoded
/// or decompressed, so a bomb costs no more than any other file.
/// </summary>
public static class FileSignatures
{
    /// <summary>PDF readers accept the header anywhere in the first 1024 bytes (ISO 32000-1 §7.5.2, implementation note).</summary>
    public const int HeadBytes = 1024;

    private static readonly byte[] PngMagic = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] OleMagic = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    private static readonly byte[] ElfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];
    private static readonly byte[] ShortcutMagic = [0x4C, 0x00, 0x00, 0x00, 0x01, 0x14, 0x02, 0x00];

    // Mach-O 32/64 in both byte orders, and the universal ("fat") header, which Java class files share: both run.
    private static readonly uint[] MachMagics = [0xFEEDFACE, 0xFEEDFACF, 0xCEFAEDFE, 0xCFFAEDFE, 0xCAFEBABE, 0xBEBAFECA];

    private static readonly string[] HtmlStarts = ["<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta", "<style", "<a ", "<img", "<div", "<form"];

    /// <summary>The kind the bytes show, or null when they match none the gateway knows (plain text, audio, video…).</summary>
    public static FileFormat? Detect(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, HeadBytes)];
        if (head.StartsWith(PngMagic))
            return FileFormat.Png;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
            return FileFormat.Jpeg;
        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
            return FileFormat.Gif;
        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
            return FileFormat.WebP;
        if (head.IndexOf("%PDF-"u8) >= 0)
            return FileFormat.Pdf;
        // Local file header, end of central directory (an empty archive), spanning marker (APPNOTE.TXT §4.3.7, §4.3.16, §8.5.3).
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8) || head.StartsWith("PK\x07\x08"u8))
            return FileFormat.Zip;
        if (head.StartsWith(OleMagic))
            return FileFormat.Ole;
        if (IsExecutable(head))
            return FileFormat.Executable;
        return Text(head);
    }

    private static bool IsExecutable(ReadOnlySpan<byte> head) =>
        // "MZ" alone starts too many texts; a DOS header is 64 bytes (a PE's e_lfanew sits at 0x3C).
        head.StartsWith("MZ"u8) && head.Length >= 64
        || head.StartsWith(ElfMagic)
        || head.StartsWith(ShortcutMagic)
        || head.Length >= 4 && MachMagics.Contains((uint)(head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3]));

    /// <summary>Scripts, HTML and SVG by how their text begins: after a byte-order mark, blanks and (for XML) a declaration or comment.</summary>
    private static FileFormat? Text(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            head = head[3..];
        if (head.StartsWith("#!"u8))
            return FileFormat.Script;
        var text = Encoding.Latin1.GetString(head).TrimStart().ToLowerInvariant();
        if (HtmlStarts.Any(text.StartsWith))
            return FileFormat.Html;
        if (text.StartsWith('<') && text.Contains("<svg", StringComparison.Ordinal))
            return FileFormat.Svg;
        // "<?xml …?><!-- … --><html" and a leading comment before <html> are HTML too.
        if (text.StartsWith('<') && (text.Contains("<html", StringComparison.Ordinal) || text.Contains("<script", StringComparison.Ordinal)))
            return FileFormat.Html;
        return null;
    }
}
