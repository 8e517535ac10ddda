using System.Globalization;
using System.Text;

namespace SupportGateway.Core.Attachments;

/// <summary>
/// A sender's file name made safe to store, show and save: no path, no control or bidi characters, no Windows device
/// name, no trailing dot or space, and short enough for every file system, keeping the extension.
/// </summary>
public static class FileNames
{
    public const string Fallback = "file";

    /// <summary>UTF-8 bytes of a cleaned name: ext4, NTFS and APFS all allow 255; the rest is margin for a suffix.</summary>
    public const int MaxBytes = 200;

    private const int MaxExtensionLength = 16;

    // Windows reserves these names with any extension ("con.txt"), superscript digits included.
    private static readonly HashSet<string> DeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
    };

    /// <summary>The cleaned name; <see cref="Fallback"/> when nothing is left. Cleaning a cleaned name changes nothing.</summary>
    public static string Clean(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            return Fallback;
        var text = Characters(LastSegment(name)).Trim(' ', '.');
        if (text.Length == 0)
            return Fallback;
        var stem = text.Split('.')[0].TrimEnd(' ');
        if (DeviceNames.Contains(stem))
            text = "_" + text;
        return Shorten(text);
    }

    /// <summary>Both separators count, whatever the platform: a name is never a path ("..\..\boot.ini").</summary>
    private static string LastSegment(string name)
    {
        var cut = name.LastIndexOfAny(['/', '\\']);
        return cut < 0 ? name : name[(cut + 1)..];
    }

    private static string Characters(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            switch (Rune.GetUnicodeCategory(rune))
            {
                // Controls, bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069), zero-width and line separators:
                // "invoice\u202Efdp.exe" shows as "invoiceexe.pdf".
                case UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                    or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                    or UnicodeCategory.OtherNotAssigned:
                    break;
                // Characters Windows refuses in names; a space for any other kind of blank.
                case UnicodeCategory.SpaceSeparator:
                    builder.Append(' ');
                    break;
                default:
                    builder.Append(rune.Value is '<' or '>' or ':' or '"' or '|' or '?' or '*' ? "_" : rune.ToString());
                    break;
            }
        }
        // Composed (NFC) last: removing an invisible character may bring a letter and its accent together.
        var text = builder.ToString();
        return text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
    }

    private static string Shorten(string name)
    {
        if (Encoding.UTF8.GetByteCount(name) <= MaxBytes)
            return name;
        var dot = name.LastIndexOf('.');
        var extension = dot > 0 && name.Length - dot <= MaxExtensionLength ? name[dot..] : "";
        var budget = MaxBytes - Encoding.UTF8.GetByteCount(extension);
        var stem = new StringBuilder();
        var used = 0;
        // Cut between text elements, so no surrogate pair or combining sequence is split.
        var elements = StringInfo.GetTextElementEnumerator(extension.Length > 0 ? name[..dot] : name);
        while (elements.MoveNext())
        {
            var element = elements.GetTextElement();
            used += Encoding.UTF8.GetByteCount(element);
            if (used > budget)
                break;
            stem.Append(element);
        }
        return stem.ToString().TrimEnd(' ', '.') + extension;
    }
}
