namespace SupportGateway.Mail.Replies;

/// <summary>A reply split into what its author wrote, the signature under it and the quoted history.</summary>
/// <param name="Reply">The new text, trimmed. When nothing but quotes was found it is the whole text: nothing is dropped.</param>
/// <param name="Quote">Quoted or forwarded history removed from the reply, with its attribution lines.</param>
/// <param name="Signature">
/// The signature block: a sign-off with the name under it ("С уважением,\nОльга Смирнова"), a block after the "-- "
/// delimiter, or a client's footer ("Sent from my iPhone"), if any.
/// </param>
/// <param name="Unquoted">The text with only the quoted history taken out: the reply and its signature, as written.</param>
/// <param name="SignOff">The part of <paramref name="Signature"/> that is a sign-off and name block, before any "-- " delimiter.</param>
/// <param name="ReplyWithSignOff">The reply and its sign-off as written, without a delimited signature or footer: what extractors that know only "-- " keep.</param>
public sealed record ReplyText(string Reply, string Quote, string Signature, string Unquoted, string SignOff, string ReplyWithSignOff)
{
    /// <summary>Nothing was taken out: the whole text is the reply.</summary>
    public static ReplyText Whole(string text) => new(text, "", "", text, "", text);
}
