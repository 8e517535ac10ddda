using SupportGateway.Core.Tickets;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Commands on the first lines of an agent's mail ("#status clarification", "#resolve solved", "#priority high",
/// "#type incident", "#assign someone@example.com", "#internal"), in English or Russian ("#статус уточнение",
/// "#решено", "#приоритет высокий", "#тип инцидент", "#назначить мне", "#внутр"). The first line that is not a
/// command ends them; what follows is the answer.
/// </summary>
internal sealed record ReplyCommands(TicketChanges Changes, bool Internal, IReadOnlyList<string> Lines, string Text, IReadOnlyList<string> Errors)
{
    private static readonly Dictionary<string, string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["status"] = "status", ["статус"] = "status",
        ["resolve"] = "resolve", ["resolved"] = "resolve", ["решено"] = "resolve", ["решить"] = "resolve", ["решён"] = "resolve", ["решен"] = "resolve",
        ["priority"] = "priority", ["приоритет"] = "priority",
        ["type"] = "type", ["тип"] = "type",
        ["assign"] = "assign", ["назначить"] = "assign", ["исполнитель"] = "assign",
        ["internal"] = "internal", ["note"] = "internal", ["внутр"] = "internal", ["внутреннее"] = "internal", ["заметка"] = "internal",
    };

    private static readonly Dictionary<string, TicketStatus> Statuses = new(StringComparer.OrdinalIgnoreCase)
    {
        ["в работе"] = TicketStatus.InProgress, ["в работу"] = TicketStatus.InProgress, ["уточнение"] = TicketStatus.Clarification,
        ["на уточнении"] = TicketStatus.Clarification, ["решено"] = TicketStatus.Resolved, ["решена"] = TicketStatus.Resolved,
        ["закрыто"] = TicketStatus.Closed, ["закрыта"] = TicketStatus.Closed, ["закрыть"] = TicketStatus.Closed,
    };

    private static readonly Dictionary<string, TicketResolution> Resolutions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["решено"] = TicketResolution.Solved, ["решена"] = TicketResolution.Solved, ["не воспроизводится"] = TicketResolution.NotReproducible,
        ["ошибка пользователя"] = TicketResolution.UserError, ["инфраструктура"] = TicketResolution.Infrastructure, ["жалоба"] = TicketResolution.Complaint,
        ["отказ"] = TicketResolution.Declined, ["отклонено"] = TicketResolution.Declined,
    };

    private static readonly Dictionary<string, TicketPriority> Priorities = new(StringComparer.OrdinalIgnoreCase)
    {
        ["экстренный"] = TicketPriority.Emergency, ["аварийный"] = TicketPriority.Emergency, ["критический"] = TicketPriority.Emergency,
        ["высокий"] = TicketPriority.High, ["средний"] = TicketPriority.Medium, ["низкий"] = TicketPriority.Low,
    };

    private static readonly Dictionary<string, TicketType> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["инцидент"] = TicketType.Incident, ["массовый инцидент"] = TicketType.MassIncident, ["массовый"] = TicketType.MassIncident,
        ["консультация"] = TicketType.Consultation, ["доработка"] = TicketType.Development, ["запрос на доработку"] = TicketType.Development,
        ["дефект"] = TicketType.Defect, ["жалоба"] = TicketType.Complaint,
    };

    public bool HasChanges => Changes != new TicketChanges();

    /// <param name="agentEmail">The author, for "#assign me".</param>
    public static ReplyCommands Parse(string text, string agentEmail)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var changes = new TicketChanges();
        var isInternal = false;
        var commands = new List<string>();
        var errors = new List<string>();
        var i = 0;
        for (; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 && commands.Count == 0)
                continue;
            if (!line.StartsWith('#') || line.Length < 2 || !char.IsLetter(line[1]))
                break;
            commands.Add(line);
            var space = line.IndexOfAny([' ', '\t']);
            var word = space < 0 ? line[1..] : line[1..space];
            var value = space < 0 ? "" : line[(space + 1)..].Trim();
            if (!Names.TryGetValue(word, out var name))
            {
                errors.Add($"unknown command #{word} (known: #status, #resolve, #priority, #type, #assign, #internal)");
                continue;
            }
            switch (name)
            {
                case "status" when Value(value, Statuses) is { } status:
                    changes = changes with { Status = status };
                    break;
                case "resolve" when value.Length == 0 || Value(value, Resolutions) is not null:
                    changes = changes with { Status = TicketStatus.Resolved, Resolution = value.Length == 0 ? TicketResolution.Solved : Value(value, Resolutions) };
                    break;
                case "priority" when Value(value, Priorities) is { } priority:
                    changes = changes with { Priority = priority };
                    break;
                case "type" when Value(value, Types) is { } type:
                    changes = changes with { Type = type };
                    break;
                case "assign" when value.Length > 0:
                    changes = changes with
                    {
                        Assignee = value.ToLowerInvariant() is "me" or "мне" or "я" or "себе" ? agentEmail
                            : value.ToLowerInvariant() is "none" or "nobody" or "никому" or "-" ? "" : value,
                    };
                    break;
                case "internal":
                    isInternal = true;
                    break;
                default:
                    errors.Add($"#{word}: '{value}' is not a value it takes");
                    break;
            }
        }
        var rest = string.Join("\n", lines.Skip(i)).Trim();
        return new ReplyCommands(changes, isInternal, commands, rest, errors);
    }

    /// <summary>A value by its wire name ("in_progress", also "in-progress" and "in progress") or a Russian alias.</summary>
    private static T? Value<T>(string value, Dictionary<string, T> aliases) where T : struct, Enum
    {
        var normal = value.Trim().TrimEnd('.', '!').Replace('-', '_').Replace(' ', '_');
        if (WireName.TryParse<T>(normal, out var parsed))
            return parsed;
        return aliases.TryGetValue(value.Trim().TrimEnd('.', '!'), out var alias) ? alias : null;
    }
}
