using System.Buffers.Binary;

namespace SupportGateway.Core.Attachments;

/// <summary>
/// The pixel size an image declares in its header, read without decoding it: a 50 KB PNG may declare 100,000 × 100,000
/// pixels, 40 GB once a viewer decodes it (a "decompression bomb").
/// </summary>
public static class ImageSize
{
    /// <summary>Width × height, or null when the header cannot be read (the file is then treated as not an image of this kind).</summary>
    public static long? Pixels(FileFormat format, ReadOnlySpan<byte> content)
    {
        if (format == FileFormat.Png)
            return Png(content);
        if (format == FileFormat.Gif)
            return content.Length >= 10 ? (long)BinaryPrimitives.ReadUInt16LittleEndian(content[6..]) * BinaryPrimitives.ReadUInt16LittleEndian(content[8..]) : null;
        if (format == FileFormat.WebP)
            return WebP(content);
        if (format == FileFormat.Jpeg)
            return Jpeg(content);
        return null;
    }

    /// <summary>The IHDR chunk comes first (PNG §11.2.2): width and height at bytes 16–23, big-endian.</summary>
    private static long? Png(ReadOnlySpan<byte> content) =>
        content.Length >= 24 && content[12..16].SequenceEqual("IHDR"u8)
            ? (long)BinaryPrimitives.ReadUInt32BigEndian(content[16..]) * BinaryPrimitives.ReadUInt32BigEndian(content[20..])
            : null;

    /// <summary>RFC 9649 §2.5–2.7: the canvas of VP8X, or the frame size of a simple lossy (VP8) or lossless (VP8L) file.</summary>
    private static long? WebP(ReadOnlySpan<byte> content)
    {
        if (content.Length < 30)
            return null;
        var chunk = content[12..16];
        if (chunk.SequenceEqual("VP8X"u8))
            return (long)(ReadUInt24(content[24..]) + 1) * (ReadUInt24(content[27..]) + 1);
        if (chunk.SequenceEqual("VP8L"u8) && content[20] == 0x2F)
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(content[21..]);
            return (long)((bits & 0x3FFF) + 1) * (((bits >> 14) & 0x3FFF) + 1);
        }
        if (chunk.SequenceEqual("VP8 "u8))
            return (long)(BinaryPrimitives.ReadUInt16LittleEndian(content[26..]) & 0x3FFF) * (BinaryPrimitives.ReadUInt16LittleEndian(content[28..]) & 0x3FFF);
        return null;
    }

    private static uint ReadUInt24(ReadOnlySpan<byte> bytes) => (uint)(bytes[0] | bytes[1] << 8 | bytes[2] << 16);

    /// <summary>
    /// Walks the marker segments (ITU T.81 §B.1.1.4) to the first start-of-frame; each step jumps by the segment's
    /// length, so the walk reads a few bytes per segment and never the image data.
    /// </summary>
    private static long? Jpeg(ReadOnlySpan<byte> content)
    {
        var at = 2;
        while (at + 4 <= content.Length)
        {
            if (content[at] != 0xFF)
                return null;
            var marker = content[at + 1];
            if (marker == 0xFF)
            {
                at++; // fill bytes before a marker (§B.1.1.2)
                continue;
            }
            if (marker is 0xD8 or 0x01 or >= 0xD0 and <= 0xD7)
            {
                at += 2; // markers without a length
                continue;
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(content[(at + 2)..]);
            // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC): precision, then height and width.
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return at + 9 <= content.Length ? (long)BinaryPrimitives.ReadUInt16BigEndian(content[(at + 5)..]) * BinaryPrimitives.ReadUInt16BigEndian(content[(at + 7)..]) : null;
            if (marker == 0xDA || length < 2)
                return null; // scan data before any frame header: not a well-formed JPEG
            at += 2 + length;
        }
        return null;
    }
}
