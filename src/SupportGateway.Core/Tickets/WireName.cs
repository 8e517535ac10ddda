using System.Collections.Concurrent;
using System.Text.Json;

namespace SupportGateway.Core.Tickets;

/// <summary>snake_case names for enums, the same in JSON, in the database and in agent commands.</summary>
public static class WireName
{
    private static readonly ConcurrentDictionary<Type, (Dictionary<Enum, string> ToName, Dictionary<string, Enum> FromName)> Maps = new();

    public static string Of<T>(T value) where T : struct, Enum => Map(typeof(T)).ToName[value];

    public static bool TryParse<T>(string? name, out T value) where T : struct, Enum
    {
        value = default;
        if (name is null || !Map(typeof(T)).FromName.TryGetValue(name.Trim(), out var found))
            return false;
        value = (T)found;
        return true;
    }

    public static T Parse<T>(string name) where T : struct, Enum =>
        TryParse<T>(name, out var value) ? value : throw new FormatException($"'{name}' is not a {typeof(T).Name} value.");

    public static IEnumerable<string> AllOf<T>() where T : struct, Enum => Map(typeof(T)).ToName.Values;

    private static (Dictionary<Enum, string> ToName, Dictionary<string, Enum> FromName) Map(Type type) => Maps.GetOrAdd(type, static t =>
    {
        var toName = new Dictionary<Enum, string>();
        var fromName = new Dictionary<string, Enum>(StringComparer.OrdinalIgnoreCase);
        foreach (Enum value in Enum.GetValues(t))
        {
            var name = JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
            toName[value] = name;
            fromName[name] = value;
        }
        return (toName, fromName);
    });
}
