namespace SupportGateway.Core.Contacts;

/// <summary>
/// <c>SupportGateway:Organisations</c>: customer companies known in advance. A sender whose e-mail domain is one of
/// an organisation's <see cref="Domains"/> belongs to it, and colleagues from that domain may follow up on each
/// other's tickets.
/// </summary>
public sealed class OrganisationOptions
{
    public const string Section = "SupportGateway:Organisations";

    public string AccountNumber { get; set; } = "";

    public string? Name { get; set; }

    public List<string> Domains { get; set; } = [];

    /// <summary>The service level of this customer's contract (a name in <c>SupportGateway:Sla:Policies</c>); the default when empty.</summary>
    public string? SlaPolicy { get; set; }

    /// <summary>The organisation whose domains include <paramref name="email"/>'s domain.</summary>
    public static OrganisationOptions? ByEmail(IEnumerable<OrganisationOptions> organisations, string? email)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        if (at < 0)
            return null;
        var domain = email![(at + 1)..].Trim().TrimEnd('>');
        return organisations.FirstOrDefault(o => o.Domains.Any(d => string.Equals(d.Trim().TrimStart('@'), domain, StringComparison.OrdinalIgnoreCase)));
    }
}
