using System.Globalization;
using Microsoft.Extensions.Options;

namespace SupportGateway.Core.Attachments;

/// <summary>A file as the gateway keeps it.</summary>
/// <param name="Refusal">Why the file is not what it claims or not allowed, said to the sender where the channel can tell them;
/// null when it is fine. A refused file that is stored anyway (mail, messengers) is stored as a plain file.</param>
public sealed record VettedFile(string FileName, string ContentType, bool Inline, string? Refusal);

/// <summary>
/// The one place a received file is judged: its name cleaned, its type checked against its first bytes and the allow-list,
/// an image's declared size bounded. Every stored attachment passes here (<see cref="Tickets.MessageStore"/>), whatever
/// the channel; channels that can answer the sender ask first and refuse.
/// </summary>
public sealed class AttachmentPolicy(IOptions<AttachmentOptions> options)
{
    public const string OctetStream = "application/octet-stream";

    private readonly IReadOnlyList<string> _allowed = options.Value.EffectiveAllowedTypes;
    private readonly long _maxPixels = options.Value.MaxImagePixels;

    public VettedFile Vet(string? fileName, string? contentType, ReadOnlySpan<byte> content, bool inline = false)
    {
        var name = FileNames.Clean(fileName);
        var declared = Essence(contentType);
        var detected = FileSignatures.Detect(content);
        var named = FileFormat.OfName(name);
        var typed = declared == OctetStream ? null : FileFormat.OfType(declared);
        if (Contradiction(typed, named, detected, declared) is { } claim)
            return Plain(name, $"'{name}' claims to be {claim.Description} but its content is {detected?.Description ?? "something else"}.");
        var type = declared == OctetStream && detected is { Active: false, MediaType: { } proven } ? proven : declared;
        // What the file would do once opened: its bytes or its name may say more than the type it came with
        // (text/plain is served as text, with nosniff, whatever it contains; its name still decides what a download becomes).
        var judged = detected is { Active: true } && declared != "text/plain" ? detected.MediaType!
            : named is { Active: true } ? named.MediaType! : type;
        if (!_allowed.Any(pattern => TypePattern.Matches(pattern, judged)))
            return Plain(name, $"'{name}' is {Describe(detected ?? named, judged)}, a kind of file not accepted here.");
        if (detected is not null && ImageSize.Pixels(detected, content) is { } pixels && pixels > _maxPixels)
            return Plain(name, string.Create(CultureInfo.InvariantCulture, $"'{name}' declares {pixels:N0} pixels; images may have at most {_maxPixels:N0}."));
        return new VettedFile(name, type == declared ? WithCharset(type, contentType) : type, inline && type != OctetStream, null);
    }

    /// <summary>The claim the bytes contradict: a checkable kind that is not there, or a program or page claimed as something else.</summary>
    private static FileFormat? Contradiction(FileFormat? typed, FileFormat? named, FileFormat? detected, string declared)
    {
        if (typed is { Verifiable: true } && typed != detected)
            return typed;
        if (named is { Verifiable: true } && named != detected)
            return named;
        // Text types may carry script or markup as text: shown as text/plain with nosniff, it stays text.
        if (detected is { Active: true } && declared != OctetStream && !detected.IsClaimedBy(declared) && declared != "text/plain")
            return typed ?? new FileFormat(declared, null, false, false, [], []);
        return null;
    }

    private static VettedFile Plain(string name, string refusal) => new(name, OctetStream, false, refusal);

    private static string Describe(FileFormat? format, string type) => format is null ? $"of type {type}" : $"{format.Description} ({type})";

    /// <summary>A text keeps its charset (RFC 2046 §4.1.2); no other parameter is kept.</summary>
    private static string WithCharset(string type, string? contentType) =>
        type.StartsWith("text/", StringComparison.Ordinal) && contentType is not null
        && System.Text.RegularExpressions.Regex.Match(contentType, @";\s*charset\s*=\s*""?([A-Za-z0-9._:-]{1,40})""?", System.Text.RegularExpressions.RegexOptions.IgnoreCase) is { Success: true } m
            ? $"{type}; charset={m.Groups[1].Value.ToLowerInvariant()}" : type;

    /// <summary>The media type without parameters, lower case; <see cref="OctetStream"/> when absent or malformed (RFC 2046 §4.5.1).</summary>
    public static string Essence(string? contentType)
    {
        var type = (contentType ?? "").Split(';', 2)[0].Trim().ToLowerInvariant();
        return TypePattern.IsValid(type) && !type.Contains('*') ? type : OctetStream;
    }
}
