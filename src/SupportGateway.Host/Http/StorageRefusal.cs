using System.Globalization;
using SupportGateway.Core.Storage;

namespace SupportGateway.Host.Http;

/// <summary>
/// Answers 503 with Retry-After and problem details for any request that met an unavailable storage: refused at once
/// by the ingress during an outage (<see cref="StorageUnavailableException"/>), or failed on a full disk or a held lock
/// (<see cref="StorageAvailability.Observe"/>, which starts the outage). Webhook providers retry a 503; nothing of
/// the request was stored, so the retry is the only copy that counts. When its commit's answer was lost and the server
/// could not be asked, the problem says the outcome is unknown (<c>kept: unknown</c>): the retry, with the same key, is
/// answered with the ticket if it was kept.
/// </summary>
internal static class StorageRefusal
{
    public static IApplicationBuilder UseStorageRefusal(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && context.RequestServices.GetRequiredService<StorageAvailability>() is var availability
            && availability.Observe(ex))
        {
            var (reason, retryAfter) = ex is StorageUnavailableException refused ? (refused.Reason, refused.RetryAfter)
                : availability.Outage is { } outage ? (outage.Reason, availability.RetryAfter(outage))
                : ("the storage failed", TimeSpan.FromSeconds(1));
            context.Response.Headers.RetryAfter = ((long)retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            await Problems.StorageUnavailable(reason, ex is StorageUnavailableException { OutcomeUnknown: true }).ExecuteAsync(context);
        }
    });
}
