using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using SupportGateway.Mail.Inbound;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Replies;

namespace SupportGateway.Host.Cli;

/// <summary>
/// <c>mail inspect &lt;file.eml&gt;</c>: what the gateway reads from a message, as JSON;
/// <c>mail reply-text &lt;file.eml&gt; [--signature]</c>: only the new text of a reply, without quotes and signature (or the signature).
/// </summary>
internal static class MailCommands
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Cyrillic stays readable in the terminal instead of \u-escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var mail = new Command("mail", "Look at messages the way the e-mail channel reads them.");
        var file = new Argument<FileInfo>("file") { Description = "An .eml file (RFC 5322 message)." };
        var inspect = new Command("inspect", "Print the parsed message as JSON.") { file };
        inspect.SetAction((parse, ct) => InspectAsync(parse.GetValue(file)!, ct));
        mail.Subcommands.Add(inspect);
        var signature = new Option<bool>("--signature") { Description = "Print the signature (sign-off, delimited block, client footer) instead." };
        var replyText = new Command("reply-text", "Print only the new text of a reply: quotes and signature removed.") { file, signature };
        replyText.SetAction((parse, ct) => ReplyTextAsync(parse.GetValue(file)!, parse.GetValue(signature), ct));
        mail.Subcommands.Add(replyText);
        return mail;
    }

    private static async Task<int> ReplyTextAsync(FileInfo file, bool signature, CancellationToken cancellationToken)
    {
        var (message, exitCode) = await ReadAsync(file, cancellationToken);
        if (message is null)
            return exitCode;
        var reply = ReplyExtractor.FromMessage(message);
        Console.WriteLine(signature ? reply.Signature : reply.Reply);
        return 0;
    }

    /// <summary>Reads the file as the e-mail channel does: a message MimeKit refuses is read leniently, never refused.</summary>
    private static async Task<(InboundMail? Message, int ExitCode)> ReadAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            await Console.Error.WriteLineAsync($"error: {file.FullName} does not exist.");
            return (null, 2);
        }
        return (InboundMail.Read(await File.ReadAllBytesAsync(file.FullName, cancellationToken)), 0);
    }

    private static async Task<int> InspectAsync(FileInfo file, CancellationToken cancellationToken)
    {
        var (message, exitCode) = await ReadAsync(file, cancellationToken);
        if (message is null)
            return exitCode;
        var summary = new
        {
            subject = message.Subject,
            from = message.From.Select(Address),
            to = message.To.Select(Address),
            cc = message.Cc.Select(Address),
            date = message.Date?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            messageId = message.MessageId,
            inReplyTo = message.InReplyTo.FirstOrDefault(),
            references = message.References,
            text = message.Text,
            htmlPresent = message.HtmlBody is not null,
            attachments = message.Attachments.Select(a => new
            {
                fileName = a.FileName,
                contentType = a.ContentType,
                size = a.Content.Length,
                contentId = a.ContentId,
                inline = a.Inline,
            }),
            isAutoReply = message.IsAutoReply,
            isBounce = message.IsBounce,
        };
        Console.WriteLine(JsonSerializer.Serialize(summary, Json));
        return 0;
    }

    private static object Address(MailAddress a) => new { address = a.Address, name = a.Name };
}
