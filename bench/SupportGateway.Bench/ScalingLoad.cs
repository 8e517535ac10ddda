using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using SupportGateway.Core.Pipeline;

/// <summary>
/// The scaling benchmark's intake load: closed loop over HTTP, 60% new requests from fresh contacts and 40% follow-ups
/// from the contact of an earlier ticket, the same mix the in-process capture of <see cref="CommitCeiling"/> replays.
/// </summary>
internal sealed class ScalingLoad(HttpClient client, string apiKey)
{
    public const double FollowUpShare = 0.4;
    public const string Description = "Не открывается отчёт по продажам, ошибка 500.";
    public const string FollowUpText = "Ещё одна деталь: ошибка повторяется после перезагрузки.";

    private static readonly Dictionary<string, string> Details = new() { ["appVersion"] = "5.2.1", ["os"] = "Windows 11" };

    private readonly ConcurrentBag<(string Number, string Contact)> _tickets = [];
    private long _contacts;

    /// <summary>The same message as the intake API makes of a new request's body (<c>IntakeNormalizer</c>).</summary>
    public static InboundMessage NewRequest(string email) => new()
    {
        Channel = "api",
        ExternalId = $"auto:{Guid.CreateVersion7():N}",
        Sender = new SenderIdentity { Identity = $"email:{email}", Name = "Bench User", Email = email },
        Hints = new ThreadHints { StartNew = true },
        Text = Description,
        TechnicalDetails = Details,
    };

    public static InboundMessage FollowUp(string number, string email) => new()
    {
        Channel = "api",
        ExternalId = $"auto:{Guid.CreateVersion7():N}",
        Sender = new SenderIdentity { Identity = $"email:{email}", Name = "Bench User", Email = email },
        Hints = new ThreadHints { TicketNumber = number },
        Text = FollowUpText,
    };

    public sealed record Result(long Messages, double Seconds, double P50, double P99, long Failures, string? FirstFailure)
    {
        public double Rate => Messages / Seconds;
    }

    /// <summary><paramref name="connections"/> clients, each sending its next request when the last is answered.</summary>
    public async Task<Result> RunAsync(int connections, TimeSpan duration, string label, Action<string> progress)
    {
        var latencies = new List<double>[connections];
        long failures = 0;
        string? firstFailure = null;
        var clock = Stopwatch.StartNew();
        using var ticker = new Timer(_ => progress($"  {label}: {clock.Elapsed.TotalSeconds:F0} s, {latencies.Sum(l => l?.Count ?? 0)} answered"), null, 5000, 5000);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(worker => Task.Run(async () =>
        {
            var (mine, random) = (latencies[worker] = [], new Random(worker * 7919 + Environment.TickCount));
            while (clock.Elapsed < duration)
            {
                var followUp = !_tickets.IsEmpty && random.NextDouble() < FollowUpShare;
                var earlier = followUp ? Pick(random) : default;
                var contact = followUp ? earlier.Contact : $"user-{Interlocked.Increment(ref _contacts)}-{Guid.NewGuid():N}@example.com";
                using var request = new HttpRequestMessage(HttpMethod.Post, followUp ? $"/api/v1/requests/{earlier.Number}/messages" : "/api/v1/requests")
                {
                    Content = new StringContent(JsonSerializer.Serialize(followUp
                        ? (object)new { text = FollowUpText, contact = new { name = "Bench User", email = contact } }
                        : new { description = Description, contact = new { name = "Bench User", email = contact }, technicalDetails = Details }), Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("X-Api-Key", apiKey);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request);
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.Created)
                    {
                        Interlocked.Increment(ref failures);
                        Interlocked.CompareExchange(ref firstFailure, $"{(int)response.StatusCode} {body[..Math.Min(body.Length, 200)]}", null);
                        continue;
                    }
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (!followUp)
                        _tickets.Add((JsonDocument.Parse(body).RootElement.GetProperty("ticketNumber").GetString()!, contact));
                }
                catch (HttpRequestException ex)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, ex.Message, null);
                }
            }
        })));
        var elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToList();
        return new Result(all.Count, elapsed, P(all, 0.50), P(all, 0.99), failures, firstFailure);
    }

    /// <summary>A ticket from the first ones made: a bag has no index, so a few are copied out now and then.</summary>
    private (string Number, string Contact) Pick(Random random)
    {
        var known = _known;
        if (known.Length < 1024 && known.Length < _tickets.Count)
            known = _known = [.. _tickets.Take(1024)];
        return known[random.Next(known.Length)];
    }

    private (string Number, string Contact)[] _known = [];

    private static double P(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
