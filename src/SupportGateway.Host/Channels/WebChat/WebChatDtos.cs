using SupportGateway.Host.Agents;

namespace SupportGateway.Host.Channels.WebChat;

/// <summary>A request as its visitor sees it: the ticket and its public messages, each file with its download path.</summary>
internal sealed record WebChatConversationDto(TicketSummaryDto Ticket, IReadOnlyList<MessageDto> Messages);

/// <summary>A new request's answer: the visitor token (kept by the widget, sent as X-Visitor-Token) and the conversation.</summary>
internal sealed record WebChatCreatedDto(string Token, WebChatConversationDto Conversation);

/// <summary>The widget's form for a new request (multipart/form-data); <c>clientId</c> makes a retried post the same request.</summary>
internal sealed record WebChatRequestForm(string Description, string? Name, string? Email, string? Type, string? Lang, string? ClientId,
    IFormFileCollection? Files);

/// <summary>The widget's form for a message; <c>verdict</c> (<c>confirms</c> or <c>rejects</c>) answers a resolution notice.</summary>
internal sealed record WebChatMessageForm(string Text, string? Verdict, string? Lang, string? ClientId, IFormFileCollection? Files);
