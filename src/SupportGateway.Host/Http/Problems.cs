using Microsoft.AspNetCore.Http.HttpResults;

namespace SupportGateway.Host.Http;

/// <summary>RFC 7807 problem details for every error the gateway answers with.</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string detail, string? field = null) => Make(StatusCodes.Status400BadRequest, "Invalid request", detail, field);

    public static ProblemHttpResult Unauthorized(string detail) => Make(StatusCodes.Status401Unauthorized, "Not authenticated", detail);

    public static ProblemHttpResult Forbidden(string detail) => Make(StatusCodes.Status403Forbidden, "Not allowed", detail);

    public static ProblemHttpResult NotFound(string detail) => Make(StatusCodes.Status404NotFound, "Not found", detail);

    public static ProblemHttpResult Conflict(string detail, string? field = null) => Make(StatusCodes.Status409Conflict, "Not allowed in this state", detail, field);

    public static ProblemHttpResult TooLarge(string detail, string? field = null) => Make(StatusCodes.Status413PayloadTooLarge, "Too large", detail, field);

    /// <summary>Over an abuse limit; <paramref name="limit"/> names it (the widget words the open-requests one differently).</summary>
    public static ProblemHttpResult TooMany(string detail, string limit) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
            extensions: new Dictionary<string, object?> { ["limit"] = limit });

    /// <summary>A file whose bytes contradict its type or name, or of a type not accepted (<see cref="Core.Attachments.AttachmentPolicy"/>).</summary>
    public static ProblemHttpResult FileRefused(string detail, string field) => Make(StatusCodes.Status415UnsupportedMediaType, "File refused", detail, field);

    /// <summary>A body in a media type the endpoint does not read; <paramref name="expected"/> names the one it does.</summary>
    public static ProblemHttpResult UnsupportedType(string expected) =>
        Make(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"Send the body as {expected}.");

    public static ProblemHttpResult Parked(long inboundId) => Make(StatusCodes.Status503ServiceUnavailable, "Stored, not processed",
        $"The request was stored as dead letter {inboundId} and will be processed when it is replayed.");

    /// <summary>
    /// The storage cannot take writes (a full disk, a held lock, the server gone): nothing of the request was kept; or,
    /// when <paramref name="outcomeUnknown"/>, the server went away during its commit and could not be asked since.
    /// </summary>
    public static ProblemHttpResult StorageUnavailable(string reason, bool outcomeUnknown = false) =>
        TypedResults.Problem(detail: outcomeUnknown
                ? $"The storage went away while this request was being stored ({reason}), and whether it was kept is not known. "
                    + "Send it again after Retry-After with the same Idempotency-Key (the widget's clientId, the same webhook delivery): "
                    + "if it was kept, the answer is its ticket, not a second one."
                : $"The gateway cannot store anything now ({reason}); nothing of this request was kept. Send it again after Retry-After.",
            statusCode: StatusCodes.Status503ServiceUnavailable, title: "Storage unavailable",
            extensions: new Dictionary<string, object?> { ["reason"] = reason, ["kept"] = outcomeUnknown ? "unknown" : "nothing" });

    public static ProblemHttpResult Make(int status, string title, string detail, string? field = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title,
            extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });
}

/// <summary>A request that cannot be served, carried to the endpoint's single problem exit.</summary>
internal sealed class ProblemException(ProblemHttpResult problem) : Exception(problem.ProblemDetails.Detail)
{
    public ProblemHttpResult Problem { get; } = problem;
}
