using System.Diagnostics;
using System.Text;
using SupportGateway.Mail.Mime;
using SupportGateway.Mail.Replies;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>
/// Random damage to corpus messages: truncations, byte flips, broken boundaries, inserted and repeated
/// chunks. Nothing may throw but the documented <see cref="MimeParseException"/>, and nothing may hang.
/// The seed is fixed so a failure reproduces; SG_FUZZ_SEED and SG_FUZZ_CASES explore further.
/// </summary>
public sealed class MimeFuzzTests
{
    [Test]
    public async Task Mutated_corpus_messages_parse_or_fail_with_the_parse_error()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SG_FUZZ_SEED"), out var s) ? s : 20261122;
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SG_FUZZ_CASES"), out var c) ? c : 4000;
        var files = Corpus.MimeMessages().Select(File.ReadAllBytes).ToList();
        var random = new Random(seed);
        var (parsed, refused, slowest, slowestCase) = (0, 0, TimeSpan.Zero, -1);

        var run = Task.Run(() =>
        {
            for (var n = 0; n < cases; n++)
            {
                var input = Mutate(files[random.Next(files.Count)], random);
                var watch = Stopwatch.StartNew();
                try
                {
                    ReadEverything(MimeParser.Parse(input));
                    parsed++;
                }
                catch (MimeParseException)
                {
                    refused++;
                }
                catch (Exception ex)
                {
                    throw new AssertionException($"case {n} (seed {seed}) threw {ex.GetType().Name}: {ex.Message}", ex);
                }
                if (watch.Elapsed > slowest)
                    (slowest, slowestCase) = (watch.Elapsed, n);
            }
        });
        // A hang guard, not a speed target: thousands of cases take a few seconds.
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(3)));
        Assert.That(finished, Is.SameAs(run), $"fuzzing hung; the slowest finished case was {slowestCase}");
        await run;
        TestContext.Out.WriteLine($"fuzz seed {seed}: {cases} cases, {parsed} parsed, {refused} refused with MimeParseException; slowest case {slowestCase} took {slowest.TotalMilliseconds:F1} ms");
        Assert.That(parsed + refused, Is.EqualTo(cases));
    }

    private static void ReadEverything(MimeMessage message)
    {
        _ = (message.Subject, message.From, message.To, message.Cc, message.Date, message.MessageId, message.InReplyTo, message.References);
        _ = (message.Text, message.HtmlBody, message.IsAutoReply, message.IsBounce);
        foreach (var attachment in message.Attachments)
            _ = (attachment.FileName, attachment.ContentId, attachment.DecodedContent().Length);
        _ = ReplyExtractor.FromMessage(message);
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var data = new List<byte>(original);
        for (var m = random.Next(1, 4); m > 0 && data.Count > 0; m--)
        {
            var at = random.Next(data.Count);
            switch (random.Next(6))
            {
                case 0:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 1:
                    for (var k = random.Next(1, 24); k > 0; k--)
                        data[random.Next(data.Count)] = (byte)random.Next(256);
                    break;
                case 2:
                    DamageBoundary(data, random);
                    break;
                case 3:
                    data.InsertRange(at, Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256)));
                    break;
                case 4:
                    var length = Math.Min(random.Next(1, 4096), data.Count - at);
                    data.InsertRange(at, data.GetRange(at, length));
                    break;
                default:
                    // Structural bytes where they hurt most: a line break, a colon, a dash pair, an encoded-word opener.
                    var pieces = new[] { "\r\n", "\n", ":", "--", "=?", "?=", "\"", ";", "\r\n\r\n", "=\r\n" };
                    data.InsertRange(at, Encoding.ASCII.GetBytes(pieces[random.Next(pieces.Length)]));
                    break;
            }
        }
        return [.. data];
    }

    /// <summary>Cuts, renames or drops one "--boundary" line.</summary>
    private static void DamageBoundary(List<byte> data, Random random)
    {
        var text = Encoding.Latin1.GetString([.. data]);
        var at = text.IndexOf("\n--", random.Next(text.Length), StringComparison.Ordinal);
        if (at < 0)
            at = text.IndexOf("\n--", StringComparison.Ordinal);
        if (at < 0)
            return;
        var end = text.IndexOf('\n', at + 1);
        end = end < 0 ? text.Length : end;
        var cut = at + 3 + random.Next(Math.Max(1, end - at - 3));
        data.RemoveRange(cut, Math.Min(end, data.Count) - cut);
    }
}
