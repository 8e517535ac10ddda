using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Attachments;

/// <summary>Mail, Telegram and WhatsApp cannot tell a sender their file was refused: the core keeps it, defused.</summary>
public sealed class StoredFileTests
{
    private CoreHarness _core = null!;

    [SetUp]
    public async Task SetUp() => _core = await CoreHarness.StartAsync();

    [TearDown]
    public async Task TearDown() => await _core.DisposeAsync();

    [TestCase("email")]
    [TestCase("telegram")]
    [TestCase("whatsapp")]
    public async Task A_disguised_program_from_a_channel_that_cannot_refuse_is_kept_as_a_plain_file_with_a_clean_name(string channel)
    {
        var program = SampleFiles.WindowsProgram();
        var message = Messages.From($"{channel}:ivan", "Счёт во вложении", channel) with
        {
            Attachments =
            [
                new InboundAttachment { FileName = "..\\..\\счёт\u202Egnp.exe", ContentType = "image/png", Content = program, ContentId = "x@y", Inline = true },
                new InboundAttachment { FileName = "CON.png", ContentType = "image/png", Content = SampleFiles.OnePixelPng, Inline = true },
            ],
        };

        var result = await _core.Get<InboundProcessor>().IngestAsync(message, CancellationToken.None);

        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        var files = await _core.Get<MessageStore>().AttachmentsOfMessagesAsync(db, [result.MessageId!.Value], CancellationToken.None);
        Assert.That(files.Select(f => (f.FileName, f.ContentType, f.Inline, f.Size)), Is.EqualTo(new[]
        {
            ("счётgnp.exe", "application/octet-stream", false, (long)program.Length),
            ("_CON.png", "image/png", true, (long)SampleFiles.OnePixelPng.Length),
        }));
        Assert.That(await _core.Get<MessageStore>().AttachmentContentAsync(db, files[0].Id, CancellationToken.None), Is.EqualTo(program), "nothing received is lost");
    }
}
