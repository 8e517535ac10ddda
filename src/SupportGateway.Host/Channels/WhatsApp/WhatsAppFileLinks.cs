using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Channels.WhatsApp;

/// <summary>
/// Signed links that expire, through which Twilio fetches the files of agents' answers (Twilio sends media only by
/// URL): <c>{PublicBaseUrl}/files/whatsapp/{attachment id}?expires={unix s}&amp;signature={HMAC}</c>. The HMAC-SHA256
/// key is derived from the Twilio auth token (HMAC of a fixed label under it), so there is no further secret to keep
/// and a new auth token voids every link; neither the key nor a signature is logged. Only a file of a message sent
/// to a customer is served, never a customer's file or an internal note's.
/// </summary>
internal sealed class WhatsAppFileLinks(IOptions<WhatsAppOptions> options, TimeProvider time)
{
    public const string Path = "/files/whatsapp";

    /// <summary>Twilio fetches a message's media while it accepts the message; an hour leaves room for its retries.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private byte[] Key => HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.Twilio.AuthToken ?? ""), "SupportGateway WhatsApp file links v1"u8);

    public Uri For(AttachmentRow file)
    {
        var expires = (time.GetUtcNow() + Lifetime).ToUnixTimeSeconds();
        var baseUrl = options.Value.PublicBaseUrl!.TrimEnd('/');
        return new Uri(string.Create(CultureInfo.InvariantCulture, $"{baseUrl}{Path}/{file.Id}?expires={expires}&signature={Sign(file.Id, expires)}"));
    }

    public enum Verdict { Valid, BadSignature, Expired }

    public Verdict Check(long id, string? expires, string? signature)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var at) || string.IsNullOrEmpty(signature)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(id, at)), Encoding.ASCII.GetBytes(signature)))
            return Verdict.BadSignature;
        return time.GetUtcNow().ToUnixTimeSeconds() > at ? Verdict.Expired : Verdict.Valid;
    }

    private string Sign(long id, long expires) =>
        Base64Url(HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}.{expires}"))));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

}

/// <summary>The endpoint behind <see cref="WhatsAppFileLinks"/>.</summary>
internal static class WhatsAppFileEndpoint
{
    private const string OutboundFileSql = """
        SELECT a.id, a.message_id, a.file_name, a.content_type, a.size, a.content_id, a.inline, a.sha256
        FROM attachments a JOIN messages m ON m.id = a.message_id
        WHERE a.id = @id AND m.direction = 'out' AND m.internal = @no
        """;

    /// <summary><c>GET /files/whatsapp/{id}</c>: 403 for a wrong signature, 410 once expired, 404 for no such file; else the file.</summary>
    public static IEndpointRouteBuilder MapWhatsAppFiles(this IEndpointRouteBuilder app)
    {
        app.MapGet(WhatsAppFileLinks.Path + "/{id:long}", async Task<IResult> (long id, string? expires, string? signature, HttpContext http, WhatsAppFileLinks links,
            IOptions<WhatsAppOptions> settings, Database database, MessageStore messages, CancellationToken ct) =>
        {
            if (!settings.Value.Twilio.Enabled)
                return Problems.NotFound("Files are served only for WhatsApp through Twilio, which is not configured here.");
            switch (links.Check(id, expires, signature))
            {
                case WhatsAppFileLinks.Verdict.BadSignature:
                    return Problems.Forbidden("The link's signature does not hold.");
                case WhatsAppFileLinks.Verdict.Expired:
                    return Problems.Make(StatusCodes.Status410Gone, "Link expired", "This file link has expired.");
            }
            await using var connection = await database.OpenAsync(ct);
            var db = new SqlScope(connection);
            if (await db.SingleOrDefaultAsync<AttachmentRow>(OutboundFileSql, new { id, no = false }, ct) is not { } file
                || await messages.AttachmentContentAsync(db, id, ct) is not { } content)
                return Problems.NotFound($"File {id} does not exist.");
            // Twilio shows the file's name from Content-Disposition (it takes none with the message).
            var disposition = new ContentDispositionHeaderValue("inline");
            disposition.SetHttpFileName(file.FileName);
            http.Response.Headers.ContentDisposition = disposition.ToString();
            http.Response.Headers.CacheControl = "private, no-store";
            return TypedResults.Bytes(content, file.ContentType);
        }).WithTags("WhatsApp").WithSummary("A file of an agent's answer, for Twilio to fetch through a signed link that expires").ProducesFile()
            .ProducesProblems(StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status410Gone);
        return app;
    }
}
