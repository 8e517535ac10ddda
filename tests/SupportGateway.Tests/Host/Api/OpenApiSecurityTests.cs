using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>The OpenAPI document names how each API endpoint is entered.</summary>
public sealed class OpenApiSecurityTests
{
    [Test]
    public async Task Every_api_endpoint_is_described_with_its_security_scheme()
    {
        using var gateway = new GatewayFactory();
        using var client = gateway.CreateClient();
        await using var json = await client.GetStreamAsync("/openapi/v1.json");
        var (document, diagnostic) = await OpenApiDocument.LoadAsync(json, "json");

        Assert.That(diagnostic?.Errors, Is.Empty);
        var schemes = document!.Components!.SecuritySchemes!;
        Assert.That(schemes["ApiKey"].Type, Is.EqualTo(SecuritySchemeType.ApiKey));
        Assert.That(schemes["ApiKey"].In, Is.EqualTo(ParameterLocation.Header));
        Assert.That(schemes["ApiKey"].Name, Is.EqualTo("X-Api-Key"));
        Assert.That(schemes["Bearer"].Type, Is.EqualTo(SecuritySchemeType.Http));
        Assert.That(schemes["Bearer"].Scheme, Is.EqualTo("bearer"));

        var endpoints = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1/", StringComparison.Ordinal) && e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .ToList();
        Assert.That(endpoints, Has.Count.GreaterThanOrEqualTo(10));
        foreach (var endpoint in endpoints)
        {
            var path = "/" + endpoint.RoutePattern.RawText!.Trim('/').Replace(":long", "", StringComparison.Ordinal);
            var method = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Single();
            Assert.That(document.Paths.TryGetValue(path, out var item), Is.True, $"{method} {path} is in the document");
            var operation = item!.Operations![HttpMethod.Parse(method)];
            var expected = path.StartsWith("/api/v1/requests", StringComparison.Ordinal) ? "ApiKey" : "Bearer";
            Assert.That(operation.Security?.SelectMany(r => r.Keys).Select(k => k.Reference.Id), Is.EqualTo(new[] { expected }), $"{method} {path}");
        }
    }
}
