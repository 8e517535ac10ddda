using System.Diagnostics;
using System.Text;
using SupportGateway.Mail.Inbound;
using SupportGateway.Mail.Replies;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Mail;

/// <summary>
/// Random damage to corpus messages: truncations, byte flips, broken boundaries, inserted and repeated
/// chunks. Every one is read (by MimeKit, or leniently when MimeKit refuses it), nothing throws, nothing hangs,
/// and a lenient reading loses no byte: its text holds the whole message.
/// The seed is fixed so a failure reproduces; SG_FUZZ_SEED and SG_FUZZ_CASES explore further.
/// </summary>
public sealed class MimeFuzzTests
{
    [Test]
    public async Task Mutated_corpus_messages_are_read_without_an_exception_and_nothing_is_lost()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SG_FUZZ_SEED"), out var s) ? s : 20261122;
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SG_FUZZ_CASES"), out var c) ? c : 4000;
        var files = Corpus.MimeMessages().Select(File.ReadAllBytes).ToList();
        var random = new Random(seed);
        var (parsed, lenient, slowest, slowestCase) = (0, 0, TimeSpan.Zero, -1);

        var run = Task.Run(() =>
        {
            for (var n = 0; n < cases; n++)
            {
                var input = Mutate(files[random.Next(files.Count)], random);
                var watch = Stopwatch.StartNew();
                try
                {
                    var message = InboundMail.Read(input);
                    ReadEverything(message);
                    if (message.IsLenient)
                    {
                        lenient++;
                        // Read after its leading blank lines or with the blank line its header lacked, it is a whole
                        // message; read as text, the text is every byte.
                        var whole = SupportGateway.Mail.Mime.Charsets.DecodeUnlabelled(input);
                        Assert.That(!message.LenientReason!.EndsWith(InboundMail.ReadAsText, StringComparison.Ordinal) || string.IsNullOrWhiteSpace(whole) || message.Text == whole,
                            $"case {n} (seed {seed}): a lenient reading ({message.LenientReason}) lost bytes");
                    }
                    else
                    {
                        parsed++;
                    }
                }
                catch (AssertionException)
                {
                    throw;
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
        TestContext.Out.WriteLine($"fuzz seed {seed}: {cases} cases, {parsed} parsed by MimeKit, {lenient} read leniently; slowest case {slowestCase} took {slowest.TotalMilliseconds:F1} ms");
        Assert.That(parsed + lenient, Is.EqualTo(cases));
    }

    private static void ReadEverything(InboundMail message)
    {
        _ = (message.Subject, message.From, message.To, message.Cc, message.Date, message.MessageId, message.InReplyTo, message.References);
        _ = (message.Text, message.HtmlBody, message.IsAutoReply, message.IsBounce);
        foreach (var attachment in message.Attachments)
            _ = (attachment.FileName, attachment.ContentId, attachment.Content.Length);
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
