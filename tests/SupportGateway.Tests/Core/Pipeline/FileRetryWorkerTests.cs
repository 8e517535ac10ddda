using Microsoft.Extensions.DependencyInjection;
using SupportGateway.Core.Pipeline;
using SupportGateway.Core.Tickets;
using SupportGateway.Tests.Support;

namespace SupportGateway.Tests.Core.Pipeline;

/// <summary>Files fetched again after their message was stored: backoff, a bounded number of tries, and work that outlives a process.</summary>
[TestFixture(StorageEngine.Sqlite)]
[TestFixture(StorageEngine.Postgres)]
public sealed class FileRetryWorkerTests(StorageEngine engine)
{
    private ManualTime _time = null!;
    private ScriptedSource _source = null!;
    private CoreHarness _core = null!;

    [SetUp]
    public async Task SetUp()
    {
        _time = new ManualTime(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));
        _source = new ScriptedSource();
        _core = await CoreHarness.StartAsync(engine, s =>
        {
            s.AddSingleton<TimeProvider>(_time);
            s.AddSingleton<IFileSource>(_source);
        }, new Dictionary<string, string?>
        {
            ["SupportGateway:FileRetries:MaxAttempts"] = "3",
            ["SupportGateway:FileRetries:FirstRetryDelay"] = "00:00:30",
            ["SupportGateway:FileRetries:MaxRetryDelay"] = "00:10:00",
        });
    }

    [TearDown]
    public async Task TearDown()
    {
        // Null when SetUp failed (no PostgreSQL cluster): its message is the one to read.
        if (_core is not null)
            await _core.DisposeAsync();
        _core = null!;
    }

    /// <summary>A worker as a fresh process would have it: nothing in memory, only the database.</summary>
    private FileRetryWorker Worker() => ActivatorUtilities.CreateInstance<FileRetryWorker>(_core.Services);

    private async Task<long> IngestAsync()
    {
        var message = Messages.From("ext:7", "Скан во вложении") with { MissingFiles = [new MissingFile(ScriptedSource.SourceName, "media-1", "скан.pdf")] };
        return (await _core.Get<InboundProcessor>().IngestAsync(message, CancellationToken.None)).MessageId!.Value;
    }

    private async Task<IReadOnlyList<AttachmentRow>> AttachmentsAsync(long messageId)
    {
        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        return await _core.Get<MessageStore>().AttachmentsOfMessagesAsync(db, [messageId], CancellationToken.None);
    }

    private async Task<string?> StateAsync()
    {
        var db = await _core.ReadAsync();
        await using var connection = db.Connection;
        return await db.ScalarAsync<string>("SELECT state FROM file_retries", null, CancellationToken.None);
    }

    [Test]
    public async Task A_file_is_tried_after_its_delay_with_backoff_and_attached_to_its_message_when_it_comes()
    {
        _source.FailuresLeft = 1;
        var messageId = await IngestAsync();
        Assert.That(await Worker().RunDueAsync(CancellationToken.None), Is.Zero, "not before the first delay");

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.That(await Worker().RunDueAsync(CancellationToken.None), Is.EqualTo(1));
        Assert.That(await AttachmentsAsync(messageId), Is.Empty);
        Assert.That(await Worker().RunDueAsync(CancellationToken.None), Is.Zero, "the next try waits longer");

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await Worker().RunDueAsync(CancellationToken.None), Is.EqualTo(1));
        var file = (await AttachmentsAsync(messageId)).Single();
        Assert.That((file.FileName, file.ContentType, file.Size), Is.EqualTo(("скан.pdf", "application/pdf", (long)ScriptedSource.Content.Length)));
        Assert.That(await StateAsync(), Is.EqualTo("done"));
        Assert.That(_source.References, Is.EqualTo(new[] { "media-1", "media-1" }));
        Assert.That(await _core.CountAsync("audit WHERE action = 'attachment_added'"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_file_that_keeps_failing_is_given_up_after_the_last_try_and_one_that_is_gone_at_once()
    {
        _source.FailuresLeft = 100;
        await IngestAsync();
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(15));
            await Worker().RunDueAsync(CancellationToken.None);
        }
        Assert.That(_source.References, Has.Count.EqualTo(3), "MaxAttempts");
        Assert.That(await StateAsync(), Is.EqualTo("failed"));
        Assert.That(await _core.CountAsync("audit WHERE action = 'attachment_lost'"), Is.EqualTo(1));

        _source.Gone = true;
        await IngestAsync();
        _time.Advance(TimeSpan.FromMinutes(1));
        await Worker().RunDueAsync(CancellationToken.None);
        Assert.That(_source.References, Has.Count.EqualTo(4), "one try for a file the provider no longer has");
        Assert.That(await _core.CountAsync("file_retries WHERE state = 'failed'"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_file_claimed_by_a_process_that_died_is_tried_again_by_the_next_after_the_lease()
    {
        var messageId = await IngestAsync();
        _time.Advance(TimeSpan.FromMinutes(1));
        // The first process claims the row and dies before it fetched anything.
        await using (var session = await _core.Get<SupportGateway.Core.Storage.Database>().BeginAsync(CancellationToken.None))
        {
            Assert.That(await _core.Get<FileRetryStore>().ClaimAsync(session, _time.GetUtcNow().ToUnixTimeMilliseconds(), 300_000, 20, CancellationToken.None), Has.Count.EqualTo(1));
            await session.CommitAsync(CancellationToken.None);
        }
        Assert.That(await Worker().RunDueAsync(CancellationToken.None), Is.Zero, "still leased");
        _time.Advance(TimeSpan.FromMinutes(6));
        Assert.That(await Worker().RunDueAsync(CancellationToken.None), Is.EqualTo(1));
        Assert.That(await AttachmentsAsync(messageId), Has.Count.EqualTo(1));
    }

    private sealed class ScriptedSource : IFileSource
    {
        public const string SourceName = "test.scripted";
        public static readonly byte[] Content = "%PDF-1.4\n"u8.ToArray();

        public int FailuresLeft { get; set; }

        public bool Gone { get; set; }

        public List<string> References { get; } = [];

        public string Name => SourceName;

        public Task<InboundAttachment> FetchAsync(string reference, CancellationToken cancellationToken)
        {
            References.Add(reference);
            if (Gone)
                throw new FileGoneException("no longer there");
            if (FailuresLeft-- > 0)
                throw new HttpRequestException("503 from the provider");
            return Task.FromResult(new InboundAttachment { FileName = "скан.pdf", ContentType = "application/pdf", Content = Content });
        }
    }
}
