using System.Buffers.Binary;

namespace SupportGateway.Tests.Support;

/// <summary>Files whose first bytes are what their type says, as the gateway checks (the rest is padding).</summary>
internal static class SampleFiles
{
    /// <summary>A valid 1×1 PNG.</summary>
    public static readonly byte[] OnePixelPng = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    /// <summary>A PNG of <paramref name="size"/> bytes: the 1×1 image, then bytes after IEND, which readers ignore.</summary>
    public static byte[] Png(int size)
    {
        var bytes = new byte[Math.Max(size, OnePixelPng.Length)];
        OnePixelPng.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>A PNG header declaring <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public static byte[] PngDeclaring(uint width, uint height)
    {
        var bytes = Png(64);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), height);
        return bytes;
    }

    /// <summary>A JPEG start (SOI, a JFIF APP0, a baseline frame header of 960×720) padded to <paramref name="size"/> bytes.</summary>
    public static byte[] Jpeg(int size, bool random = false)
    {
        var bytes = new byte[Math.Max(size, 64)];
        if (random)
            Random.Shared.NextBytes(bytes);
        byte[] head =
        [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
            0xFF, 0xC0, 0x00, 0x11, 0x08, 0x03, 0xC0, 0x02, 0xD0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
        ];
        head.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>The start of a Windows program: a DOS header whose e_lfanew points at a PE signature.</summary>
    public static byte[] WindowsProgram()
    {
        var bytes = new byte[512];
        bytes[0] = (byte)'M';
        bytes[1] = (byte)'Z';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(0x3C), 0x80);
        "PE\0\0"u8.CopyTo(bytes.AsSpan(0x80));
        return bytes;
    }
}
