using Microsoft.Extensions.Options;

namespace SupportGateway.Host.Agents;

public sealed class AgentOptions
{
    public string Name { get; set; } = "";
    public string Email { get; set; } = "";
    public string ApiKey { get; set; } = "";
}

/// <summary>The configured agents (<c>SupportGateway:Agents</c>) and a constant-time key lookup.</summary>
public sealed class AgentDirectory
{
    public const string Section = "SupportGateway:Agents";

    private readonly AgentOptions[] _agents;

    public AgentDirectory(IOptions<List<AgentOptions>> options) => _agents = [.. options.Value];

    public IReadOnlyList<AgentOptions> All => _agents;

    public AgentOptions? FindByEmail(string? email) =>
        email is null ? null : Array.Find(_agents, a => string.Equals(a.Email, email.Trim(), StringComparison.OrdinalIgnoreCase));

    public AgentOptions? FindByKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
            return null;
        AgentOptions? found = null;
        foreach (var agent in _agents)
        {
            // Compare against every key so the time taken does not tell which one nearly matched.
            if (Secrets.FixedTimeEquals(agent.ApiKey, key))
                found = agent;
        }
        return found;
    }
}

internal sealed class AgentOptionsValidator : IValidateOptions<List<AgentOptions>>
{
    public ValidateOptionsResult Validate(string? name, List<AgentOptions> options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Count; i++)
        {
            var agent = options[i];
            if (string.IsNullOrWhiteSpace(agent.Name))
                failures.Add($"{AgentDirectory.Section}:{i}:Name: must not be empty");
            if (!agent.Email.Contains('@', StringComparison.Ordinal))
                failures.Add($"{AgentDirectory.Section}:{i}:Email: must be an email address, got '{agent.Email}'");
            if (agent.ApiKey.Length < 12)
                failures.Add($"{AgentDirectory.Section}:{i}:ApiKey: must be at least 12 characters");
        }
        foreach (var duplicate in options.GroupBy(a => a.ApiKey).Where(g => g.Count() > 1 && g.Key.Length > 0))
            failures.Add($"{AgentDirectory.Section}: two agents share one ApiKey ({string.Join(", ", duplicate.Select(a => a.Email))})");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
