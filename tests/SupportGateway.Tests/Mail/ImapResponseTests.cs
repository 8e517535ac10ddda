using System.Buffers;
using System.Text;
using SupportGateway.Mail.Imap;

namespace SupportGateway.Tests.Mail;

/// <summary>The sans-IO response reader, modified UTF-7 names and UID sets, without any server.</summary>
public sealed class ImapResponseTests
{
    [Test]
    public void A_fetch_with_a_literal_is_read_only_once_every_octet_is_there()
    {
        var body = "Subject: Тест\r\n\r\nline one\r\n)\r\n";
        var wire = Encoding.UTF8.GetBytes($"* 12 FETCH (UID 345 FLAGS (\\Seen $Forwarded) RFC822.SIZE {Encoding.UTF8.GetByteCount(body)} INTERNALDATE \" 7-Jul-2026 02:44:25 -0700\" BODY[] {{{Encoding.UTF8.GetByteCount(body)}}}\r\n{body} X-TAIL NIL)\r\nA0001 OK done\r\n");

        for (var cut = 1; cut < wire.Length - 17; cut += 7)
        {
            var partial = new ReadOnlySequence<byte>(wire, 0, cut);
            Assert.That(ImapResponse.TryRead(ref partial, out _), Is.False, $"complete after only {cut} octets");
        }
        var buffer = new ReadOnlySequence<byte>(wire);
        Assert.That(ImapResponse.TryRead(ref buffer, out var response), Is.True);

        Assert.That(response!.Kind, Is.EqualTo(ImapResponseKind.Untagged));
        var items = response.Data[2].Items;
        Assert.That(response.Data[1].IsAtom("FETCH") && response.Data[0].TryGetNumber(out var seq) && seq == 12);
        Assert.That(items.Select(i => i.ToString()).Where((_, i) => i % 2 == 0), Is.EqualTo(new[] { "UID", "FLAGS", "RFC822.SIZE", "INTERNALDATE", "BODY[]", "X-TAIL" }));
        Assert.That(items[3].Items.Select(f => f.Text), Is.EqualTo(new[] { "\\Seen", "$Forwarded" }));
        Assert.That(Encoding.UTF8.GetString(items[9].Bytes), Is.EqualTo(body), "a ')' inside the literal is data");
        Assert.That(items[11].Kind, Is.EqualTo(ImapTokenKind.Nil));
        Assert.That(ImapClient.ParseDate(items[7].Text!), Is.EqualTo(new DateTimeOffset(2026, 7, 7, 2, 44, 25, TimeSpan.FromHours(-7))));

        Assert.That(ImapResponse.TryRead(ref buffer, out var tagged), Is.True);
        Assert.That((tagged!.Kind, tagged.Tag, tagged.Status, tagged.Text), Is.EqualTo((ImapResponseKind.Tagged, "A0001", "OK", "done")));
        Assert.That(buffer.Length, Is.Zero);
    }

    [Test]
    public void Status_responses_carry_their_code_and_text()
    {
        var response = Read("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Flags permitted.\r\n");
        Assert.That((response.Status, response.CodeName, response.Text), Is.EqualTo(("OK", "PERMANENTFLAGS", "Flags permitted.")));
        Assert.That(response.Code[1].Items.Select(f => f.Text), Is.EqualTo(new[] { "\\Deleted", "\\Seen", "\\*" }));

        var copy = Read("A0007 OK [COPYUID 1427955509 4:6 101:103] Moved\r\n");
        Assert.That(copy.Code.Select(t => t.Text), Is.EqualTo(new[] { "COPYUID", "1427955509", "4:6", "101:103" }));

        var refused = Read("A0002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
        Assert.That((refused.Status, refused.CodeName), Is.EqualTo(("NO", "AUTHENTICATIONFAILED")));

        var continuation = Read("+ idling\r\n");
        Assert.That((continuation.Kind, continuation.Text), Is.EqualTo((ImapResponseKind.Continuation, "idling")));
        Assert.That(Read("+\r\n").Kind, Is.EqualTo(ImapResponseKind.Continuation), "Yahoo and others send a bare '+'");
    }

    [Test]
    public void Sections_quoted_strings_and_bare_line_feeds_are_read_leniently()
    {
        var response = Read("* 3 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] \"a \\\"quoted\\\" \\\\ word\" UID 9)\n");
        var items = response.Data[2].Items;
        Assert.That(items[0].Text, Is.EqualTo("BODY[HEADER.FIELDS (FROM SUBJECT)]"));
        Assert.That(items[1].Text, Is.EqualTo("a \"quoted\" \\ word"));
        Assert.That(items[3].Text, Is.EqualTo("9"));

        var search = Read("* SEARCH 2 84 882 \r\n");
        Assert.That(search.Data.Skip(1).Select(t => t.Text), Is.EqualTo(new[] { "2", "84", "882" }), "a trailing space is tolerated");
    }

    [Test]
    public void Nonsense_and_oversized_literals_are_protocol_errors()
    {
        Assert.That(() => Read("A0001 MAYBE later\r\n"), Throws.TypeOf<SupportGateway.Mail.Net.MailProtocolException>());
        var huge = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes($"* 1 FETCH (BODY[] {{{ImapResponse.MaxLiteral + 1L}}}\r\n"));
        Assert.That(() => ImapResponse.TryRead(ref huge, out _), Throws.TypeOf<SupportGateway.Mail.Net.MailProtocolException>().With.Message.Contains("literal"));
    }

    [TestCase("INBOX", "INBOX")]
    [TestCase("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-")]
    [TestCase("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-")]
    [TestCase("R&D", "R&-D")]
    public void Folder_names_use_modified_utf7(string name, string wire)
    {
        Assert.That(ModifiedUtf7.Encode(name), Is.EqualTo(wire));
        Assert.That(ModifiedUtf7.Decode(wire), Is.EqualTo(name));
    }

    [Test]
    public void Uid_sets_are_compressed_into_ranges_and_split_when_long()
    {
        Assert.That(ImapUidSet.Format([7, 1, 2, 3, 9, 10, 11, 5, 3]), Is.EqualTo(new[] { "1:3,5,7,9:11" }));
        var sparse = Enumerable.Range(0, 2000).Select(i => (uint)(i * 2 + 1)).ToList();
        var sets = ImapUidSet.Format(sparse, maxLength: 500).ToList();
        Assert.That(sets, Has.All.Length.LessThanOrEqualTo(500));
        Assert.That(sets.SelectMany(s => s.Split(',')).Select(uint.Parse), Is.EqualTo(sparse));
    }

    private static ImapResponse Read(string wire)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));
        Assert.That(ImapResponse.TryRead(ref buffer, out var response), Is.True);
        return response!;
    }
}
