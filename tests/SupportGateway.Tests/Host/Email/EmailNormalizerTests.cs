using System.Text;
using Microsoft.Extensions.Options;
using SupportGateway.Host.Channels.Email;

namespace SupportGateway.Tests.Host.Email;

/// <summary>The e-mail normaliser without servers: what a stored message becomes, and when the decoding happens.</summary>
public sealed class EmailNormalizerTests
{
    private static EmailNormalizer Normalizer() => new(new StaticMonitor(new EmailOptions
    {
        Mailboxes = [new MailboxOptions { Name = "support", Address = "support@sg.test" }],
    }));

    [Test]
    public async Task A_prepared_message_is_decoded_before_the_ingest_transaction_and_not_again()
    {
        var normalizer = Normalizer();
        var raw = EmailNormalizer.ToRaw("support", Encoding.UTF8.GetBytes("From: Ольга <olga@example.ru>\r\nMessage-ID: <p1@example.ru>\r\nSubject: Счёт\r\n\r\nНе приходит счёт."));
        await normalizer.PrepareAsync(raw, CancellationToken.None);
        var first = normalizer.Normalize(raw);
        Assert.That((first.ExternalId, first.Account, first.Sender.Email, first.Subject, first.Text), Is.EqualTo(("p1@example.ru", "support", "olga@example.ru", "Счёт", "Не приходит счёт.")));
        // The writer takes the prepared result; a payload that was not prepared (a replay) is decoded then.
        var replayed = normalizer.Normalize(raw);
        Assert.That(replayed, Is.Not.SameAs(first));
        Assert.That(replayed.Subject, Is.EqualTo(first.Subject));
    }

    [Test]
    public void A_message_with_blank_lines_before_its_header_keeps_its_sender_behind_the_trace_field()
    {
        var raw = EmailNormalizer.ToRaw("support", Encoding.UTF8.GetBytes("  \r\n\r\nFrom: olga@example.ru\r\nMessage-ID: <p2@example.ru>\r\nSubject: Hi\r\n\r\nText"));
        var message = Normalizer().Normalize(raw);
        Assert.That((message.ExternalId, message.Sender.Email, message.Subject, message.Text), Is.EqualTo(("p2@example.ru", "olga@example.ru", "Hi", "Text")));
    }

    [Test]
    public void A_message_without_a_header_block_is_parked_with_its_raw_bytes_as_it_names_no_sender()
    {
        var raw = EmailNormalizer.ToRaw("support", Encoding.UTF8.GetBytes("just some text, no header at all"));
        Assert.That(raw.ExternalId, Does.StartWith("sha256:"), "deduplicated by its bytes");
        var error = Assert.Throws<InvalidDataException>(() => Normalizer().Normalize(raw));
        Assert.That(error!.Message, Does.Contain("no sender address"));
    }

    private sealed class StaticMonitor(EmailOptions value) : IOptionsMonitor<EmailOptions>
    {
        public EmailOptions CurrentValue => value;

        public EmailOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<EmailOptions, string?> listener) => null;
    }
}
