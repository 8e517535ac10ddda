namespace SupportGateway.Tests.Support;

/// <summary>A token command for the OAuth2 <c>Command</c> provider: each run prints the next numbered token, as JSON with an hour's lifetime.</summary>
internal static class TokenCommand
{
    public static (string Command, List<string> Arguments) Numbered(string directory, string prefix = "token-")
    {
        var counter = Path.Combine(directory, "token-calls");
        var script = $$"""n=$(cat '{{counter}}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{{counter}}'; printf '{"access_token":"{{prefix}}%s","token_type":"Bearer","expires_in":3600}\n' $n""";
        return ("/bin/sh", ["-c", script]);
    }

    /// <summary>How many times the command ran.</summary>
    public static int Calls(string directory)
    {
        var counter = Path.Combine(directory, "token-calls");
        return File.Exists(counter) ? int.Parse(File.ReadAllText(counter).Trim(), System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}
