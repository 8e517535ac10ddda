using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SupportGateway.Host.Http;

/// <summary>
/// The two ways in, named in the OpenAPI document: an intake key in <c>X-Api-Key</c> and an agent's key as
/// <c>Authorization: Bearer</c>. A group marks its endpoints with <see cref="RequiresScheme{TBuilder}"/>.
/// </summary>
internal static class ApiSecurity
{
    public const string ApiKey = "ApiKey";
    public const string Bearer = "Bearer";

    private sealed record SchemeMetadata(string Name);

    public static TBuilder RequiresScheme<TBuilder>(this TBuilder builder, string scheme) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new SchemeMetadata(scheme));

    public static void Describe(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKey] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-Api-Key",
                Description = "A product's intake key (SupportGateway:Intake:ApiKeys).",
            };
            document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "An agent's key (SupportGateway:Agents:N:ApiKey).",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<SchemeMetadata>().LastOrDefault() is { } scheme)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme.Name, context.Document)] = [] });
            }
            return Task.CompletedTask;
        });
    }
}
