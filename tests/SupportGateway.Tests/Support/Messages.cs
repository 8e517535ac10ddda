using SupportGateway.Core.Pipeline;

namespace SupportGateway.Tests.Support;

internal static class Messages
{
    private static int _counter;

    public static InboundMessage From(string identity, string text, string channel = "api", ThreadHints? hints = null, string? subject = null,
        string? language = null) => new()
    {
        Channel = channel,
        ExternalId = $"test-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid():N}",
        Sender = new SenderIdentity { Identity = identity, Name = identity },
        Hints = hints ?? new ThreadHints(),
        Subject = subject,
        Text = text,
        Language = language,
    };
}
