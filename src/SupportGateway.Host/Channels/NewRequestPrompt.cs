namespace SupportGateway.Host.Channels;

/// <summary>
/// The answer to a bare "new request" command on a chat channel (Telegram's /new, WhatsApp's /new or "новая
/// заявка"): the chat has let go of its ticket, and the customer's next message opens the new one.
/// </summary>
internal static class NewRequestPrompt
{
    public const string Russian = "Опишите новую проблему одним сообщением.";
    public const string English = "Describe the new problem in one message.";

    /// <summary>In the customer's language when known (true Russian, false English), else in both.</summary>
    public static string Text(bool? russian) => russian switch
    {
        true => Russian,
        false => English,
        null => $"{Russian}\n{English}",
    };
}
