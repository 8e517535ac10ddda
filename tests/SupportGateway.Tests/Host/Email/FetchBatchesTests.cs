using MailKit;
using SupportGateway.Host.Channels.Email;

namespace SupportGateway.Tests.Host.Email;

/// <summary>A backlog is fetched in batches bounded by count and by the messages' sizes, in UID order, nothing skipped.</summary>
public sealed class FetchBatchesTests
{
    private static readonly UniqueId[] Uids = [.. Enumerable.Range(1, 7).Select(i => new UniqueId((uint)i))];

    private static List<uint[]> Batches(Dictionary<uint, long> sizes, int count, long bytes) =>
        [.. MailboxReader.Batches(Uids, sizes.ToDictionary(s => new UniqueId(s.Key), s => s.Value), count, bytes).Select(b => b.Select(u => u.Id).ToArray())];

    [Test]
    public void Small_mails_go_by_count()
    {
        Assert.That(Batches(Uids.ToDictionary(u => u.Id, _ => 1_000L), count: 3, bytes: 1_000_000),
            Is.EqualTo(new[] { new uint[] { 1, 2, 3 }, [4, 5, 6], [7] }));
    }

    [Test]
    public void Large_mails_go_a_few_at_a_time_and_one_larger_than_the_bound_alone()
    {
        var sizes = new Dictionary<uint, long> { [1] = 400, [2] = 400, [3] = 400, [4] = 5_000, [5] = 100, [6] = 100, [7] = 900 };
        Assert.That(Batches(sizes, count: 100, bytes: 1_000),
            Is.EqualTo(new[] { new uint[] { 1, 2 }, [3], [4], [5, 6], [7] }));
    }

    [Test]
    public void A_message_without_a_size_gone_meanwhile_counts_as_nothing()
    {
        Assert.That(Batches([], count: 100, bytes: 1_000), Is.EqualTo(new[] { new uint[] { 1, 2, 3, 4, 5, 6, 7 } }));
    }
}
