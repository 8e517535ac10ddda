using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using SupportGateway.Core;

namespace SupportGateway.Host.Http;

/// <summary>Reads a JSON body under a size limit, turning every failure into a precise problem.</summary>
internal static class RequestBody
{
    public static async Task<T> ReadJsonAsync<T>(HttpContext context, long maxBytes, CancellationToken cancellationToken) where T : class
    {
        var request = context.Request;
        if (request.ContentLength > maxBytes)
            throw new ProblemException(Problems.TooLarge($"The body is {request.ContentLength} bytes; the limit is {maxBytes}."));
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = maxBytes;
        if (!(request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ?? false))
            throw new ProblemException(Problems.Make(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the body as application/json."));
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, CoreJson.Options, cancellationToken)
                ?? throw new ProblemException(Problems.BadRequest("The body is empty; a JSON object is expected."));
        }
        catch (JsonException ex) when (ex.InnerException is JsonException)
        {
            // The reader's own error (truncated, a stray character): where it stopped, not its internal state.
            throw new ProblemException(Problems.BadRequest(
                $"The body is not valid JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1})."));
        }
        catch (JsonException ex)
        {
            var at = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" at {ex.Path}";
            throw new ProblemException(Problems.BadRequest($"The JSON is malformed{at}: {FirstSentence(ex.Message)}", ex.Path?.TrimStart('$', '.')));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ProblemException(Problems.TooLarge($"The body is over the limit of {maxBytes} bytes."));
        }
    }

    /// <summary>The body <see cref="ReadJsonAsync{T}"/> reads, in the OpenAPI document, with the problems it answers.</summary>
    public static RouteHandlerBuilder ReadsJson<T>(this RouteHandlerBuilder builder, bool optional = false) where T : class =>
        builder.Accepts<T>(optional, "application/json").ProducesProblems(StatusCodes.Status400BadRequest,
            StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);

    /// <summary>
    /// The whole body as bytes, or null when it is longer than <paramref name="maxBytes"/> (declared or as it arrives).
    /// Read from the request's pipe and copied once into an array of its exact length: webhooks are read on every
    /// delivery, and a scratch buffer and a growing stream per request were most of what intake allocated.
    /// </summary>
    public static async Task<byte[]?> ReadBytesAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
            return null;
        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }
            // A read cancelled before the body ended is no body: a partial one must never be stored as whole.
            if (result.IsCanceled)
                throw new OperationCanceledException(cancellationToken);
            if (result.IsCompleted)
            {
                var bytes = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return bytes;
            }
            // Nothing consumed yet: the pipe keeps what came and returns more with it next time.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    /// <summary>Runs an endpoint body, answering any <see cref="ProblemException"/> it throws.</summary>
    public static async Task<IResult> GuardAsync(Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (ProblemException ex)
        {
            return ex.Problem;
        }
    }
}
