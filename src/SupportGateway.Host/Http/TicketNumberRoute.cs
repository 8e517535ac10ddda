using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Http;

/// <summary>
/// One answer for a ticket number in a route, on every route that takes one: not a ticket number at all is 400
/// (the caller's mistake, whatever the ticket), a well-formed number that names no ticket is left to the endpoint's 404.
/// </summary>
internal static class TicketNumberRoute
{
    private static readonly string[] Names = ["number", "ticketNumber"];

    public static TBuilder ValidateTicketNumbers<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesProblemForRouteValues(StatusCodes.Status400BadRequest, Names).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var numbers = http.RequestServices.GetRequiredService<TicketNumberFormat>();
            foreach (var name in Names)
            {
                if (http.Request.RouteValues.TryGetValue(name, out var value) && value is string text && !numbers.TryParse(text, out _))
                    return Problems.BadRequest($"'{text}' is not a ticket number; one looks like {numbers.Render(numbers.Start)} (the last digit is a check digit).", name);
            }
            return await next(context);
        });
}
