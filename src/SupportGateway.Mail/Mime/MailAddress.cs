namespace SupportGateway.Mail.Mime;

/// <summary>A mailbox: display name (may be empty) and address.</summary>
public sealed record MailAddress(string Name, string Address)
{
    public override string ToString() => Name.Length == 0 ? Address : $"\"{Name}\" <{Address}>";
}
