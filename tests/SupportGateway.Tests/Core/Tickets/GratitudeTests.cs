using SupportGateway.Core.Tickets;

namespace SupportGateway.Tests.Core.Tickets;

public sealed class GratitudeTests
{
    [TestCase("Спасибо!")]
    [TestCase("спасибо большое")]
    [TestCase("Спасибо, всё работает 👍")]
    [TestCase("спс")]
    [TestCase("Благодарю за помощь!")]
    [TestCase("Заработало, спасибо")]
    [TestCase("👍")]
    [TestCase("Thanks!")]
    [TestCase("Thank you so much, it works now")]
    [TestCase("ok thx")]
    [TestCase("✅")]
    [TestCase("Спасибо, всё пришло!")]
    [TestCase("Got it, thanks")]
    public void A_message_that_only_thanks_or_confirms_is_gratitude(string text) => Assert.That(Gratitude.IsGratitude(text), Is.True, text);

    [TestCase("Спасибо, но теперь не печатает второй принтер")]
    [TestCase("Не работает")]
    [TestCase("ok")]
    [TestCase("Thanks, but the invoice is still wrong")]
    [TestCase("")]
    [TestCase("Спасибо! А ещё подскажите, как выгрузить отчёт за март? Он нужен сегодня для бухгалтерии, там много строк и файл большой")]
    public void A_message_with_anything_more_is_not(string text) => Assert.That(Gratitude.IsGratitude(text), Is.False, text);

    [TestCase(TicketStatus.Resolved, CustomerVerdict.Confirms, TicketStatus.Closed)]
    [TestCase(TicketStatus.Closed, CustomerVerdict.Confirms, null)]
    [TestCase(TicketStatus.InProgress, CustomerVerdict.Confirms, null)]
    [TestCase(TicketStatus.Clarification, CustomerVerdict.Confirms, null)]
    [TestCase(TicketStatus.Resolved, CustomerVerdict.Rejects, TicketStatus.InProgress)]
    [TestCase(TicketStatus.Closed, CustomerVerdict.Rejects, TicketStatus.InProgress)]
    [TestCase(TicketStatus.Resolved, CustomerVerdict.None, null)]
    [TestCase(TicketStatus.Closed, CustomerVerdict.None, TicketStatus.InProgress)]
    public void A_confirmation_closes_a_resolved_ticket_and_never_reopens_one(TicketStatus status, CustomerVerdict verdict, TicketStatus? next) =>
        Assert.That(TicketWorkflow.AfterCustomerFollowUp(status, verdict), Is.EqualTo(next));
}
