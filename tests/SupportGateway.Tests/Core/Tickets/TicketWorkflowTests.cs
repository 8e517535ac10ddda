using SupportGateway.Core.Tickets;

namespace SupportGateway.Tests.Core.Tickets;

public sealed class TicketWorkflowTests
{
    [TestCase(TicketStatus.New, TicketStatus.InProgress, true)]
    [TestCase(TicketStatus.InProgress, TicketStatus.Clarification, true)]
    [TestCase(TicketStatus.Clarification, TicketStatus.InProgress, true)]
    [TestCase(TicketStatus.InProgress, TicketStatus.Resolved, true)]
    [TestCase(TicketStatus.Resolved, TicketStatus.Closed, true)]
    [TestCase(TicketStatus.Resolved, TicketStatus.InProgress, true)]
    [TestCase(TicketStatus.Closed, TicketStatus.InProgress, true)]
    [TestCase(TicketStatus.Closed, TicketStatus.Resolved, false)]
    [TestCase(TicketStatus.Closed, TicketStatus.New, false)]
    [TestCase(TicketStatus.InProgress, TicketStatus.New, false)]
    [TestCase(TicketStatus.Resolved, TicketStatus.Clarification, false)]
    public void One_table_decides_transitions(TicketStatus from, TicketStatus to, bool allowed) =>
        Assert.That(TicketWorkflow.CanTransition(from, to), Is.EqualTo(allowed));

    [Test]
    public void No_status_moves_to_itself() =>
        Assert.That(Enum.GetValues<TicketStatus>().Where(s => TicketWorkflow.CanTransition(s, s)), Is.Empty);

    [Test]
    public void A_customer_answer_ends_clarification_and_nothing_else()
    {
        Assert.That(TicketWorkflow.AfterCustomerFollowUp(TicketStatus.Clarification), Is.EqualTo(TicketStatus.InProgress));
        Assert.That(TicketWorkflow.AfterCustomerFollowUp(TicketStatus.InProgress), Is.Null);
        Assert.That(TicketWorkflow.AfterCustomerFollowUp(TicketStatus.New), Is.Null);
    }

    [Test]
    public void Wire_names_are_the_regulation_value_sets()
    {
        Assert.That(WireName.AllOf<TicketStatus>(), Is.EqualTo(new[] { "new", "in_progress", "clarification", "resolved", "closed" }));
        Assert.That(WireName.AllOf<TicketPriority>(), Is.EqualTo(new[] { "emergency", "high", "medium", "low" }));
        Assert.That(WireName.AllOf<TicketType>(),
            Is.EqualTo(new[] { "incident", "mass_incident", "consultation", "development", "defect", "complaint" }));
        Assert.That(WireName.AllOf<TicketResolution>(),
            Is.EqualTo(new[] { "solved", "not_reproducible", "user_error", "infrastructure", "complaint", "declined" }));
    }

    [TestCase(null, "Принтер не печатает", "en", "ru")]
    [TestCase(null, "Printer is broken", "ru", "ru")]
    [TestCase(null, "Printer is broken", "en", "en")]
    [TestCase(null, "SG-10427 не работает VPN", "en", "ru")]
    [TestCase("ru-RU", "Printer is broken", "en", "ru")]
    [TestCase("en", "Принтер", "ru", "en")]
    [TestCase("de", "12345", "ru", "ru")]
    public void Language_comes_from_hint_then_script_then_default(string? hint, string text, string fallback, string expected) =>
        Assert.That(CustomerLanguage.Choose(hint, text, fallback), Is.EqualTo(expected));
}
