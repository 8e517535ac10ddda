using SupportGateway.Core.Tickets;
using SupportGateway.Host.Channels.Email;

namespace SupportGateway.Tests.Host.Email;

public sealed class ReplyCommandsTests
{
    [Test]
    public void English_and_russian_commands_at_the_top_become_changes_and_the_rest_is_the_answer()
    {
        var en = ReplyCommands.Parse("\n#status clarification\n#priority high\n#type mass incident\n#assign me\nWhich printer model is it?\n#not a command", "anna@x.ru");
        Assert.That(en.Changes, Is.EqualTo(new TicketChanges(TicketStatus.Clarification, null, TicketPriority.High, TicketType.MassIncident, "anna@x.ru")));
        Assert.That((en.Text, en.Errors.Count, en.Lines.Count, en.Internal), Is.EqualTo(("Which printer model is it?\n#not a command", 0, 4, false)));

        var ru = ReplyCommands.Parse("#решено не воспроизводится\n#приоритет низкий\n#тип консультация\n#назначить никому\n#внутр\nПроверил на стенде.", "anna@x.ru");
        Assert.That(ru.Changes, Is.EqualTo(new TicketChanges(TicketStatus.Resolved, TicketResolution.NotReproducible, TicketPriority.Low, TicketType.Consultation, "")));
        Assert.That((ru.Text, ru.Internal), Is.EqualTo(("Проверил на стенде.", true)));

        Assert.That(ReplyCommands.Parse("#resolve\nDone.", "a@x.ru").Changes, Is.EqualTo(new TicketChanges(TicketStatus.Resolved, TicketResolution.Solved)));
        Assert.That(ReplyCommands.Parse("#статус в работе", "a@x.ru").Changes.Status, Is.EqualTo(TicketStatus.InProgress));
    }

    [Test]
    public void Unknown_commands_and_values_are_errors_and_plain_text_is_no_command()
    {
        var bad = ReplyCommands.Parse("#urgent yes\n#priority whenever\nText", "a@x.ru");
        Assert.That(bad.Errors, Has.Count.EqualTo(2));
        Assert.That(bad.Errors[0], Does.Contain("unknown command #urgent"));
        Assert.That(bad.Errors[1], Does.Contain("'whenever'"));

        var plain = ReplyCommands.Parse("Hello,\n#1 is the first step.", "a@x.ru");
        Assert.That((plain.HasChanges, plain.Errors.Count, plain.Text), Is.EqualTo((false, 0, "Hello,\n#1 is the first step.")));
    }
}
