namespace SupportGateway.Mail.Replies;

/// <summary>A reply split into what its author wrote, the signature under it and the quoted history.</summary>
/// <param name="Reply">The new text, trimmed. When nothing but quotes was found it is the whole text: nothing is dropped.</param>
/// <param name="Quote">Quoted or forwarded history removed from the reply, with its attribution lines.</param>
/// <param name="Signature">The signature block (after "-- " or a "Sent from my …" line), if any.</param>
/// <param name="Unquoted">The text with only the quoted history taken out: the reply and its signature, as written.</param>
public sealed record ReplyText(string Reply, string Quote, string Signature, string Unquoted);
