using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using SupportGateway.Mail.Mime;

namespace SupportGateway.Host.Cli;

/// <summary><c>mail inspect &lt;file.eml&gt;</c>: what the gateway reads from a message, as JSON.</summary>
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
        return mail;
    }

    private static async Task<int> InspectAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            await Console.Error.WriteLineAsync($"error: {file.FullName} does not exist.");
            return 2;
        }
        MimeMessage message;
        try
        {
            message = MimeParser.Parse(await File.ReadAllBytesAsync(file.FullName, cancellationToken));
        }
        catch (MimeParseException ex)
        {
            await Console.Error.WriteLineAsync($"error: {file.Name}: {ex.Message}");
            return 1;
        }
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
                contentType = a.ContentType.MimeType,
                size = a.DecodedContent().Length,
                contentId = a.ContentId,
                inline = a.Disposition?.IsInline == true,
            }),
            isAutoReply = message.IsAutoReply,
            isBounce = message.IsBounce,
        };
        Console.WriteLine(JsonSerializer.Serialize(summary, Json));
        return 0;
    }

    private static object Address(MailAddress a) => new { address = a.Address, name = a.Name };
}
