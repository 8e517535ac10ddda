using System.Text;
using System.Text.Json.Nodes;

namespace SupportGateway.Tests.Support;

/// <summary>
/// Deterministic damage to inputs strangers send: every choice comes from one seeded <see cref="Random"/>, so a case
/// number and the seed replay a failure exactly. Bytes (bit flips, truncation, inserted garbage, invalid UTF-8), JSON
/// structure (wrong types, removed and repeated fields, huge values, deep nesting, odd unicode), form encoding and
/// multipart bodies, and the Content-Type they travel under.
/// </summary>
internal sealed class InputMutator(int seed)
{
    private readonly Random _random = new(seed);

    public int Seed { get; } = seed;

    /// <summary>The seed of a run: SG_FUZZ_SEED when set (to replay), else a fixed one.</summary>
    public static int SeedFromEnvironment(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("SG_FUZZ_SEED"), out var seed) ? seed : fallback;

    /// <summary>The number of cases per target: SG_FUZZ_CASES when set, else <paramref name="fallback"/>.</summary>
    public static int CasesFromEnvironment(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("SG_FUZZ_CASES"), out var cases) && cases > 0 ? cases : fallback;

    public int Next(int max) => _random.Next(max);

    public bool Chance(int percent) => _random.Next(100) < percent;

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    // Text a parser and a person both trip over: bidi overrides, zero-width and combining marks, a NUL, a lone
    // surrogate (only as a JSON escape: it has no UTF-8 form), astral emoji, Cyrillic look-alikes, markup.
    private static readonly string[] OddText =
    [
        "\u202Egnp.exe", "\u200B\u200C\u200D\uFEFF", "e\u0301\u0301\u0301\u0301", "\0", "\U0001F600\U0001F4A9", "Ѕаmрlе", "<script>alert(1)</script>",
        "%00", "../../etc/passwd", "\r\n\r\n", "\"'\\", "SG-10008", "\u2028\u2029", "ﷺ", "𝕳𝖊𝖑𝖑𝖔", new string('я', 5000),
    ];

    private static readonly string[] OddJsonEscapes = ["\\ud800", "\\udfff", "\\u0000", "\\ud83d", "\\uffff", "\\u202e"];

    /// <summary>Raw damage, one to three mutations: bit flips, truncation, garbage, invalid UTF-8, a repeated chunk.</summary>
    public byte[] Bytes(byte[] original)
    {
        var data = new List<byte>(original);
        for (var m = _random.Next(1, 4); m > 0; m--)
        {
            var at = data.Count == 0 ? 0 : _random.Next(data.Count);
            switch (_random.Next(7))
            {
                case 0:
                    for (var k = _random.Next(1, 8); k > 0 && data.Count > 0; k--)
                    {
                        var i = _random.Next(data.Count);
                        data[i] ^= (byte)(1 << _random.Next(8));
                    }
                    break;
                case 1:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 2:
                    data.InsertRange(at, Enumerable.Range(0, _random.Next(1, 32)).Select(_ => (byte)_random.Next(256)));
                    break;
                case 3:
                    // Invalid UTF-8: a lone continuation byte, an overlong slash, a truncated sequence, a surrogate's encoding, 0xFF.
                    byte[][] invalid = [[0x80], [0xC0, 0xAF], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xFF], [0xF4, 0x90, 0x80, 0x80]];
                    data.InsertRange(at, invalid[_random.Next(invalid.Length)]);
                    break;
                case 4:
                    var length = Math.Min(_random.Next(1, 512), data.Count - at);
                    data.InsertRange(at, data.GetRange(at, length));
                    break;
                case 5:
                    if (data.Count > 0)
                        data.RemoveRange(at, Math.Min(_random.Next(1, 64), data.Count - at));
                    break;
                default:
                    string[] structural = ["{", "}", "[", "]", "\"", ",", ":", "\\", "&", "=", "%", "\r\n", "--"];
                    data.InsertRange(at, Encoding.ASCII.GetBytes(structural[_random.Next(structural.Length)]));
                    break;
            }
        }
        return [.. data];
    }

    /// <summary>A structural mutation of a JSON document, as text (some mutations, repeated keys, exist only as text).</summary>
    public string Json(JsonNode original)
    {
        var root = original.DeepClone();
        var kind = _random.Next(10);
        if (kind == 0)
            return Nest(root.ToJsonString());
        if (kind == 1)
            return RepeatKey(root.ToJsonString());
        if (kind == 2)
            return EscapeOddly(root.ToJsonString());
        var nodes = Descendants(root).ToList();
        var target = nodes[_random.Next(nodes.Count)];
        switch (kind)
        {
            case 3 or 4:
                return Replace(root, target, WrongType(target));
            case 5:
                if (target.Parent is JsonObject parent)
                    parent.Remove(target.GetPropertyName());
                else if (target.Parent is JsonArray array)
                    array.Remove(target);
                else
                    return "null";
                return root.ToJsonString();
            case 6:
                return Replace(root, target, Huge());
            case 7:
                return Replace(root, target, JsonValue.Create(Pick(OddText)));
            case 8:
                if (target is JsonObject obj)
                    obj["x" + _random.Next(1000)] = WrongType(null);
                else if (target is JsonArray items)
                    for (var k = _random.Next(1, 50); k > 0; k--)
                        items.Add(items.Count > 0 ? items[0]?.DeepClone() : null);
                else
                    return Replace(root, target, new JsonArray(target.DeepClone(), target.DeepClone()));
                return root.ToJsonString();
            default:
                // Several at once: the parsers' error paths after a first surprise.
                var text = root.ToJsonString();
                return Encoding.UTF8.GetString(Bytes(Encoding.UTF8.GetBytes(text)));
        }
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            foreach (var d in Descendants(child))
                yield return d;
        }
    }

    private static string Replace(JsonNode root, JsonNode target, JsonNode? value)
    {
        switch (target.Parent)
        {
            case JsonObject parent:
                parent[target.GetPropertyName()] = value;
                return root.ToJsonString();
            case JsonArray array:
                array[array.IndexOf(target)] = value;
                return root.ToJsonString();
            default:
                return value?.ToJsonString() ?? "null";
        }
    }

    /// <summary>The same place holding another JSON type: string, number, object, array, null or boolean.</summary>
    private JsonNode? WrongType(JsonNode? was) => _random.Next(8) switch
    {
        0 => JsonValue.Create(was?.ToJsonString() ?? "text"),
        1 => JsonValue.Create(_random.Next(-5, 5) * 1_000_000_007L),
        2 => JsonValue.Create(3.25),
        3 => new JsonObject { ["a"] = 1 },
        4 => new JsonArray(1, "two", null),
        5 => null,
        6 => JsonValue.Create(_random.Next(2) == 0),
        _ => new JsonObject(),
    };

    /// <summary>Values past every limit: long strings, numbers outside 32 and 64 bits, a big array.</summary>
    private JsonNode Huge() => _random.Next(6) switch
    {
        0 => JsonValue.Create(new string('A', _random.Next(10_000, 300_000))),
        1 => JsonValue.Create(long.MaxValue),
        2 => JsonNode.Parse("1e400")!,
        3 => JsonNode.Parse("-99999999999999999999999999999")!,
        4 => new JsonArray([.. Enumerable.Range(0, 5000).Select(i => (JsonNode?)JsonValue.Create(i))]),
        _ => JsonValue.Create(string.Concat(Enumerable.Repeat("Ж\U0001F600", 20_000))),
    };

    /// <summary>The document wrapped in thousands of arrays or objects, or its first value so nested.</summary>
    private string Nest(string json)
    {
        var depth = _random.Next(64, 5000);
        return _random.Next(2) == 0
            ? new string('[', depth) + json + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + json + new string('}', depth);
    }

    /// <summary>A property repeated with another value: which one wins differs between parsers.</summary>
    private string RepeatKey(string json)
    {
        var at = json.IndexOf("\":", _random.Next(Math.Max(1, json.Length / 2)), StringComparison.Ordinal);
        if (at < 0)
            return json + json;
        var start = json.LastIndexOf('"', at - 1);
        if (start < 0)
            return json;
        var key = json[start..(at + 2)];
        return json.Insert(start, key + Pick(["null", "\"x\"", "12", "{}", "[]", "true"]) + ",");
    }

    /// <summary>An escape a JSON parser accepts but a lone surrogate or a NUL makes dangerous to carry on.</summary>
    private string EscapeOddly(string json)
    {
        var at = json.IndexOf("\":\"", StringComparison.Ordinal);
        for (var skip = _random.Next(6); skip > 0 && at >= 0; skip--)
            at = json.IndexOf("\":\"", at + 3, StringComparison.Ordinal) is var next and >= 0 ? next : at;
        return at < 0 ? json : json.Insert(at + 3, Pick(OddJsonEscapes));
    }

    /// <summary>Form fields damaged: removed, repeated, emptied, huge, oddly encoded; the encoding itself broken.</summary>
    public List<KeyValuePair<string, string>> Fields(IReadOnlyList<KeyValuePair<string, string>> original)
    {
        var fields = original.ToList();
        for (var m = _random.Next(1, 3); m > 0; m--)
        {
            var i = fields.Count == 0 ? 0 : _random.Next(fields.Count);
            switch (_random.Next(7))
            {
                case 0 when fields.Count > 0:
                    fields.RemoveAt(i);
                    break;
                case 1 when fields.Count > 0:
                    fields.Insert(i, new(fields[i].Key, Pick(OddText)));
                    break;
                case 2 when fields.Count > 0:
                    fields[i] = new(fields[i].Key, "");
                    break;
                case 3 when fields.Count > 0:
                    fields[i] = new(fields[i].Key, new string('Щ', _random.Next(5_000, 120_000)));
                    break;
                case 4 when fields.Count > 0:
                    fields[i] = new(fields[i].Key, Pick(OddText) + fields[i].Value);
                    break;
                case 5:
                    fields.Add(new(Pick(OddText), Pick(OddText)));
                    break;
                default:
                    if (fields.Count > 0)
                        fields[i] = new(fields[i].Key, WrongTypeText());
                    break;
            }
        }
        return fields;
    }

    /// <summary>A value of the wrong kind for a form field: JSON, a number past 64 bits, a negative, a fraction.</summary>
    private string WrongTypeText() => Pick(["{\"a\":1}", "[1,2]", "null", "-1", "1e400", "99999999999999999999999", "3.5", "true", "NaN"]);

    /// <summary>A form body as bytes, its percent-encoding sometimes broken (stray %, invalid UTF-8 escapes, bare separators).</summary>
    public byte[] FormBody(IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        var text = string.Join("&", fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value)));
        if (Chance(40))
        {
            string[] damage = ["%", "%G1", "%C3%28", "%ED%A0%80", "%FF%FE", "&&&", "=&=", "+++", "%%", "&=x", "%0", "%E2%82"];
            var at = text.Length == 0 ? 0 : _random.Next(text.Length);
            text = text.Insert(at, Pick(damage));
        }
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>
    /// A multipart/form-data body for <paramref name="fields"/> and <paramref name="files"/>, damaged or whole:
    /// truncated, without its closing boundary, with a boundary that is not the declared one, broken part headers.
    /// Returns the body and the Content-Type that goes with it (sometimes with a wrong or missing boundary).
    /// </summary>
    public (byte[] Body, string ContentType) Multipart(IReadOnlyList<KeyValuePair<string, string>> fields, IReadOnlyList<(string Name, string FileName, string Type, byte[] Content)> files)
    {
        var boundary = "----sgfuzz" + _random.Next(1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        var body = new List<byte>();
        void Add(string text) => body.AddRange(Encoding.UTF8.GetBytes(text));
        foreach (var (name, value) in fields)
        {
            Add($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n");
            Add(value);
            Add("\r\n");
        }
        foreach (var (name, fileName, type, content) in files)
        {
            Add($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{fileName}\"\r\nContent-Type: {type}\r\n\r\n");
            body.AddRange(content);
            Add("\r\n");
        }
        Add($"--{boundary}--\r\n");
        var contentType = $"multipart/form-data; boundary={boundary}";
        var bytes = body.ToArray();
        switch (_random.Next(9))
        {
            case 0:
                return (bytes[..(bytes.Length == 0 ? 0 : _random.Next(bytes.Length))], contentType);
            case 1:
                // The closing boundary line gone: the reader meets the end of the body inside a part.
                return (bytes[..^(boundary.Length + 6)], contentType);
            case 2:
                return (bytes, "multipart/form-data; boundary=" + boundary[..^1]);
            case 3:
                return (bytes, "multipart/form-data");
            case 4:
                return (bytes, "multipart/form-data; boundary=" + new string('b', 200));
            case 5:
                var text = Encoding.UTF8.GetString(bytes);
                var header = text.IndexOf("Content-Disposition", StringComparison.Ordinal);
                string[] broken = ["Content-Disposition: form-data; name=", "Content-Disposition:\r\n", "X: " + new string('h', 20_000) + "\r\n", "Content-Disposition: form-data; name=\"a\"; filename*=UTF-8''%FF\r\n"];
                return (Encoding.UTF8.GetBytes(header < 0 ? text : text.Insert(header, Pick(broken))), contentType);
            case 6:
                return (Bytes(bytes), contentType);
            default:
                return (bytes, contentType);
        }
    }

    /// <summary>A Content-Type other than the endpoint's: none, the wrong family, a broken parameter.</summary>
    public string? WrongContentType() => Pick<string?>([
        null, "text/plain", "application/xml", "application/octet-stream", "application/json; charset=utf-16", "application/x-www-form-urlencoded",
        "multipart/form-data", "multipart/mixed; boundary=x", "text/html; charset=\"", "image/png", "*/*", ";;;", "application/jsonp",
    ]);
}
