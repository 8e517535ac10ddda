using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using SupportGateway.Host.Http;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Host.Api;

/// <summary>
/// The served OpenAPI document describes every endpoint the gateway maps, as the app itself lists them: a new
/// endpoint without its description fails here.
/// </summary>
public sealed partial class OpenApiDocumentTests
{
    private const string ProblemJson = "application/problem+json";

    [Test]
    public async Task Every_mapped_endpoint_is_described_with_its_body_codes_and_problems()
    {
        using var gateway = new GatewayFactory();
        using var client = gateway.CreateClient();
        await using var json = await client.GetStreamAsync("/openapi/v1.json");
        var (document, diagnostic) = await OpenApiDocument.LoadAsync(json, "json");
        Assert.That(diagnostic?.Errors, Is.Empty);

        var endpoints = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var left = endpoints.Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true }).Select(e => e.RoutePattern.RawText);
        Assert.That(left, Is.EqualTo(new[] { "/openapi/{documentName}.json" }), "only the document itself is left out of it");
        var described = endpoints.Except(endpoints.Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true })).ToList();
        Assert.That(described, Has.Count.GreaterThanOrEqualTo(30));

        Assert.Multiple(() =>
        {
            foreach (var endpoint in described)
            {
                foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods)
                {
                    var path = DocumentPath(endpoint.RoutePattern.RawText!);
                    var name = $"{method} {path}";
                    if (!document!.Paths.TryGetValue(path, out var item) || item.Operations?.TryGetValue(HttpMethod.Parse(method), out var operation) != true)
                    {
                        Assert.Fail($"{name} is not in the document");
                        continue;
                    }
                    Assert.That(operation!.Summary, Is.Not.Null.And.Not.Empty, $"{name} has a summary");
                    CheckBody(endpoint, method, operation, name);
                    CheckResponses(endpoint, operation, name);
                }
            }
        });
    }

    [Test]
    public async Task Schemas_require_what_the_server_refuses_without_or_always_writes()
    {
        using var gateway = new GatewayFactory();
        using var client = gateway.CreateClient();
        await using var json = await client.GetStreamAsync("/openapi/v1.json");
        var (document, _) = await OpenApiDocument.LoadAsync(json, "json");
        var schemas = document!.Components!.Schemas!;

        Assert.Multiple(() =>
        {
            // The intake API answers 400 without them; everything else in a request may be left out.
            Assert.That(schemas["IntakeRequest"].Required, Is.EquivalentTo(new[] { "description", "contact" }));
            Assert.That(schemas["IntakeAttachment"].Required, Is.EquivalentTo(new[] { "fileName", "contentBase64" }));
            Assert.That(schemas["TicketPatchRequest"].Required, Is.Null.Or.Empty);
            // A null is left out of an answer, unless the answer always has the column (the SLA report).
            Assert.That(schemas["TicketSummaryDto"].Required, Does.Contain("number").And.Not.Contain("resolution").And.Not.Contain("assignee"));
            Assert.That(schemas["SlaReportLineDto"].Required, Does.Contain("shareMet"));
        });
    }

    /// <summary>A body the endpoint reads is described with a schema per media type; a POST, PUT or PATCH that reads none says so.</summary>
    private static void CheckBody(RouteEndpoint endpoint, string method, OpenApiOperation operation, string name)
    {
        var accepts = endpoint.Metadata.GetMetadata<IAcceptsMetadata>();
        if (accepts is null)
        {
            if (method is "POST" or "PUT" or "PATCH")
                Assert.That(endpoint.Metadata.GetMetadata<ApiDocument.NoBody>(), Is.Not.Null, $"{name} declares its body, or that it takes none");
            Assert.That(operation.RequestBody, Is.Null, $"{name} takes no body");
            return;
        }
        var content = operation.RequestBody?.Content;
        Assert.That(content?.Keys, Is.EquivalentTo(accepts.ContentTypes), $"{name}: the body's media types");
        foreach (var (type, media) in content ?? new Dictionary<string, OpenApiMediaType>())
            Assert.That(media.Schema?.Properties, Is.Not.Null.And.Not.Empty, $"{name}: the {type} body has a schema with its fields");
    }

    /// <summary>
    /// A declared success (2xx, 3xx) with a schema or no content, and each error as problem details; a page or a probe that
    /// answers a person (HTML, plain text) may answer its errors in the type of its success. A rate-limited endpoint documents its 429.
    /// </summary>
    private static void CheckResponses(RouteEndpoint endpoint, OpenApiOperation operation, string name)
    {
        var declared = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Select(m => m.StatusCode)
            .Concat(endpoint.Metadata.OfType<ApiDocument.TextResponse>().Select(t => t.StatusCode)).ToHashSet();
        Assert.That(declared.Where(code => code is >= 200 and < 400), Is.Not.Empty, $"{name} declares its success");
        var responses = operation.Responses ?? [];
        var success = responses.Where(r => r.Key[0] is '2' or '3').ToList();
        Assert.That(success, Is.Not.Empty, $"{name} documents its success");
        foreach (var (code, response) in success)
        {
            foreach (var (type, media) in response.Content ?? new Dictionary<string, OpenApiMediaType>())
                Assert.That(media.Schema, Is.Not.Null, $"{name} {code} {type} has a schema");
        }
        // A sign-in form redirects to its page (303) or answers with the page again.
        var successTypes = success.SelectMany(r => r.Value.Content?.Keys ?? []).Concat(success.Any(r => r.Key[0] == '3') ? ["text/html"] : []).ToHashSet();
        foreach (var (code, response) in responses.Where(r => r.Key[0] is '4' or '5'))
        {
            var types = response.Content?.Keys.ToList() ?? [];
            Assert.That(types, Is.Not.Empty, $"{name} {code} has a body");
            foreach (var type in types)
            {
                if (type == ProblemJson)
                    Assert.That(response.Content![type].Schema?.Properties?.Keys, Is.SupersetOf(new[] { "title", "status", "detail" }), $"{name} {code} is problem details");
                else
                    Assert.That(type is "text/html" or "text/plain" && successTypes.Contains(type), Is.True, $"{name} {code} {type}: problem details, or a page's own type");
            }
        }
        if (endpoint.Metadata.GetMetadata<EnableRateLimitingAttribute>() is not null && endpoint.Metadata.GetMetadata<DisableRateLimitingAttribute>() is null)
            Assert.That(responses.TryGetValue("429", out var limited) && limited.Content?.ContainsKey(ProblemJson) == true, Is.True, $"{name} documents its 429");
    }

    /// <summary>The route as the document names it: constraints dropped (<c>{id:long}</c> is <c>{id}</c>), the root as <c>/</c>.</summary>
    private static string DocumentPath(string route) => "/" + Constraint().Replace(route, "{$1}").Trim('/');

    [GeneratedRegex(@"\{(\w+):[^}]+\}")]
    private static partial Regex Constraint();
}
