namespace SupportGateway.Core.Attachments;

/// <summary>
/// A kind of file the gateway recognises by its first bytes, and the media types and extensions that claim it.
/// </summary>
/// <param name="Description">How a person reads it ("a PNG image").</param>
/// <param name="MediaType">The type its bytes prove, given to a file sent without one; null when the bytes alone do not say
/// (a ZIP may be a .docx, an OLE file a .doc or an .msi).</param>
/// <param name="Verifiable">A claim of this kind is false unless the bytes show it: PNG, JPEG, GIF, WebP, PDF, ZIP and OLE
/// files always start with their signature. Scripts and HTML may start with anything, so a claim of those cannot be checked.</param>
/// <param name="Active">Something a computer runs or a browser executes: never shown inline, never given a harmless type.</param>
public sealed record FileFormat(string Description, string? MediaType, bool Verifiable, bool Active,
    IReadOnlyList<string> Types, IReadOnlyList<string> Extensions)
{
    public static readonly FileFormat Png = new("a PNG image", "image/png", true, false, ["image/png", "image/x-png", "image/apng"], [".png", ".apng"]);
    public static readonly FileFormat Jpeg = new("a JPEG image", "image/jpeg", true, false, ["image/jpeg", "image/jpg", "image/pjpeg"], [".jpg", ".jpeg", ".jpe", ".jfif"]);
    public static readonly FileFormat Gif = new("a GIF image", "image/gif", true, false, ["image/gif"], [".gif"]);
    public static readonly FileFormat WebP = new("a WebP image", "image/webp", true, false, ["image/webp"], [".webp"]);
    public static readonly FileFormat Pdf = new("a PDF document", "application/pdf", true, false, ["application/pdf", "application/x-pdf"], [".pdf"]);

    /// <summary>ZIP and what is built on it: OOXML (Word, Excel, PowerPoint since 2007), OpenDocument, EPUB, JAR, APK.</summary>
    public static readonly FileFormat Zip = new("a ZIP archive", null, true, false,
        ["application/zip", "application/x-zip-compressed", "application/x-zip", "application/vnd.openxmlformats-officedocument.*",
         "application/vnd.oasis.opendocument.*", "application/vnd.ms-excel.*", "application/vnd.ms-word.*", "application/vnd.ms-powerpoint.*",
         "application/epub+zip", "application/java-archive", "application/vnd.android.package-archive", "application/vnd.ms-xpsdocument", "application/oxps"],
        [".zip", ".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".pptx", ".pptm", ".ppsx", ".odt", ".ods", ".odp", ".odg",
         ".epub", ".jar", ".apk", ".xps", ".oxps"]);

    /// <summary>OLE compound files (MS-CFB): Office 97–2003, Outlook's .msg, Windows Installer packages.</summary>
    public static readonly FileFormat Ole = new("an OLE compound file", null, true, false,
        ["application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/vnd.ms-outlook", "application/x-msi",
         "application/x-ole-storage", "application/vnd.visio", "application/vnd.ms-publisher", "application/cdfv2"],
        [".doc", ".dot", ".xls", ".xlt", ".ppt", ".pps", ".msg", ".msi", ".vsd", ".pub"]);

    public static readonly FileFormat Executable = new("a program", "application/x-msdownload", false, true,
        ["application/x-msdownload", "application/x-dosexec", "application/vnd.microsoft.portable-executable", "application/x-msdos-program",
         "application/x-executable", "application/x-elf", "application/x-sharedlib", "application/x-mach-binary", "application/java-vm",
         "application/x-ms-shortcut"],
        [".exe", ".dll", ".com", ".scr", ".pif", ".cpl", ".sys", ".ocx", ".efi", ".so", ".dylib", ".class", ".lnk", ".appref-ms"]);

    public static readonly FileFormat Script = new("a script", "application/x-sh", false, true,
        ["application/x-sh", "application/x-shellscript", "text/x-shellscript", "application/javascript", "text/javascript",
         "application/x-javascript", "application/x-bat", "application/x-msdos-program", "application/x-powershell", "text/vbscript",
         "application/x-python-code", "text/x-python"],
        [".sh", ".bash", ".bat", ".cmd", ".ps1", ".psm1", ".vbs", ".vbe", ".js", ".jse", ".mjs", ".wsf", ".wsh", ".py", ".pl", ".rb", ".reg", ".jnlp"]);

    /// <summary>HTML runs script when opened; so does SVG.</summary>
    public static readonly FileFormat Html = new("an HTML page", "text/html", false, true,
        ["text/html", "application/xhtml+xml", "application/hta"],
        [".html", ".htm", ".xhtml", ".shtml", ".mht", ".mhtml", ".hta"]);

    public static readonly FileFormat Svg = new("an SVG image", "image/svg+xml", false, true, ["image/svg+xml"], [".svg", ".svgz"]);

    public static readonly IReadOnlyList<FileFormat> All = [Png, Jpeg, Gif, WebP, Pdf, Zip, Ole, Executable, Script, Html, Svg];

    /// <summary>Whether <paramref name="mediaType"/> (lower case, no parameters) names this kind.</summary>
    public bool IsClaimedBy(string mediaType) => Types.Any(t => TypePattern.Matches(t, mediaType));

    public static FileFormat? OfType(string mediaType) => All.FirstOrDefault(f => f.IsClaimedBy(mediaType));

    public static FileFormat? OfName(string fileName)
    {
        var extension = Path.GetExtension(fileName);
        return extension.Length == 0 ? null : All.FirstOrDefault(f => f.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase));
    }
}

/// <summary>A media type pattern: <c>image/png</c>, <c>image/*</c>, or a prefix ending in <c>*</c> (<c>application/vnd.oasis.opendocument.*</c>).</summary>
public static class TypePattern
{
    public static bool Matches(string pattern, string mediaType) =>
        pattern.EndsWith('*') ? mediaType.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase)
        : string.Equals(pattern, mediaType, StringComparison.OrdinalIgnoreCase);

    public static bool IsValid(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern) || pattern.Count(c => c == '/') != 1)
            return false;
        var slash = pattern.IndexOf('/');
        var star = pattern.IndexOf('*');
        return slash > 0 && slash < pattern.Length - 1 && (star < 0 || star == pattern.Length - 1 && star > slash)
            && pattern.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '*' or '.' or '+' or '-' or '_');
    }
}
