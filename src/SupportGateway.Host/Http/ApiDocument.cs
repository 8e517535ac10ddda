using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace SupportGateway.Host.Http;

/// <summary>
/// What the OpenAPI document (<c>/openapi/v1.json</c>) says of each endpoint beyond its route: the codes it answers
/// with, errors as RFC 7807 problem details, and the bodies it reads. Endpoints that read their body themselves
/// (to check signatures on the raw bytes, or to answer every JSON error precisely) declare it here.
/// </summary>
internal static class ApiDocument
{
    public const string ProblemJson = "application/problem+json";

    /// <summary>A POST that reads nothing from its body says so, so that a body left undescribed is seen as a mistake.</summary>
    public sealed record NoBody;

    /// <summary>A text answer; kept apart from <c>Produces</c>, which holds one type per status and would replace a JSON answer of the same status.</summary>
    internal sealed record TextResponse(int StatusCode, string ContentType);

    /// <summary>Query or header values a handler reads itself (not bound as parameters), all optional strings.</summary>
    private sealed record ReadValues(ParameterLocation In, string[] Names);

    public static void Describe(OpenApiOptions options)
    {
        ApiSecurity.Describe(options);
        options.AddSchemaTransformer((schema, context, _) =>
        {
            // The generator calls every constructor parameter required, but null is never written (CoreJson) and an
            // absent field reads as null: only a field that is always there, or that the server refuses without, is.
            if (schema.Required is { Count: > 0 } required && context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object)
            {
                foreach (var property in context.JsonTypeInfo.Properties.Where(p => p.IsGetNullable && !AlwaysThere(p)))
                    required.Remove(property.Name);
            }
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            foreach (var values in context.Description.ActionDescriptor.EndpointMetadata.OfType<ReadValues>())
            {
                operation.Parameters ??= [];
                foreach (var name in values.Names.Where(n => !operation.Parameters.Any(p => p.Name == n && p.In == values.In)))
                    operation.Parameters.Add(new OpenApiParameter { Name = name, In = values.In, Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
            }
            foreach (var text in context.Description.ActionDescriptor.EndpointMetadata.OfType<TextResponse>())
            {
                var responses = operation.Responses ??= [];
                var code = text.StatusCode.ToString(CultureInfo.InvariantCulture);
                if (!responses.TryGetValue(code, out var response))
                    responses[code] = response = new OpenApiResponse { Description = ReasonPhrases.GetReasonPhrase(text.StatusCode) };
                if (response is OpenApiResponse concrete)
                    concrete.Content ??= new Dictionary<string, OpenApiMediaType>();
                response.Content![text.ContentType] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
            }
            return Task.CompletedTask;
        });
        // A rate-limited endpoint answers 429 (RFC 6585 §4) with Retry-After when its limit is hit, whoever limits it.
        options.AddOperationTransformer(async (operation, context, ct) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<EnableRateLimitingAttribute>().Any() && !metadata.OfType<DisableRateLimitingAttribute>().Any()
                && operation.Responses is { } responses && !responses.ContainsKey("429"))
            {
                responses["429"] = new OpenApiResponse
                {
                    Description = "Too many requests; Retry-After says when to try again.",
                    Headers = new Dictionary<string, IOpenApiHeader> { ["Retry-After"] = new OpenApiHeader { Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } } },
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        [ProblemJson] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: ct) },
                    },
                };
            }
        });
    }

    private static bool AlwaysThere(JsonPropertyInfo property)
    {
        var attributes = property.AttributeProvider?.GetCustomAttributes(inherit: false) ?? [];
        return attributes.OfType<RequiredAttribute>().Any()
            || attributes.OfType<JsonIgnoreAttribute>().Any(i => i.Condition == JsonIgnoreCondition.Never);
    }

    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statusCodes) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statusCodes)
            builder.ProducesProblem(status);
        return builder;
    }

    /// <summary>Names the query or header values a handler reads from the request itself.</summary>
    public static TBuilder Reads<TBuilder>(this TBuilder builder, ParameterLocation where, params string[] names) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ReadValues(where, names));

    public static RouteHandlerBuilder TakesNoBody(this RouteHandlerBuilder builder) => builder.WithMetadata(new NoBody());

    /// <summary>A text answer (plain, HTML, XML, CSV, an event stream) of the given media type.</summary>
    public static RouteHandlerBuilder ProducesText(this RouteHandlerBuilder builder, int statusCode, string contentType) =>
        builder.WithMetadata(new TextResponse(statusCode, contentType));

    /// <summary>A stored file, served with its own media type.</summary>
    public static RouteHandlerBuilder ProducesFile(this RouteHandlerBuilder builder) =>
        builder.Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream");

    /// <summary>Declares a 400 on every endpoint whose route carries one of <paramref name="names"/>.</summary>
    public static TBuilder ProducesProblemForRouteValues<TBuilder>(this TBuilder builder, int statusCode, IReadOnlyCollection<string> names)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            if (endpoint is RouteEndpointBuilder route && route.RoutePattern.Parameters.Any(p => names.Contains(p.Name)))
                endpoint.Metadata.Add(new ProducesResponseTypeMetadata(statusCode, typeof(ProblemDetails), [ProblemJson]));
        });
        return builder;
    }
}
