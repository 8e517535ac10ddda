using SupportGateway.Host.Channels;

namespace SupportGateway.Tests.Host;

/// <summary>The /bind command both chat channels share.</summary>
public sealed class ChatGroupsTests
{
    [TestCase("/bind ACME-7", "ACME-7")]
    [TestCase("  /BIND   ACME-7  ", "ACME-7")]
    [TestCase("/bind@support_bot ACME-7", "ACME-7")]
    [TestCase("/bind", "")]
    [TestCase("/bind@support_bot", "")]
    [TestCase("/bind\nACME-7", "ACME-7")]
    public void Bind_names_the_account_after_the_command(string text, string account) =>
        Assert.That(ChatGroups.BindTarget(text), Is.EqualTo(account));

    [TestCase("/binder ACME-7")]
    [TestCase("please /bind ACME-7")]
    [TestCase("Не работает почта")]
    public void Anything_else_is_not_the_command(string text) => Assert.That(ChatGroups.BindTarget(text), Is.Null);
}
