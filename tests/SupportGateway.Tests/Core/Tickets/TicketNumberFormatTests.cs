using SupportGateway.Core.Tickets;

namespace SupportGateway.Tests.Core.Tickets;

public sealed class TicketNumberFormatTests
{
    private readonly TicketNumberFormat _format = new("SG", 1000);

    [Test]
    public void Renders_prefix_sequence_and_check_digit()
    {
        Assert.That(_format.Render(1042), Is.EqualTo("SG-10429"));
        Assert.That(_format.Render(1000), Is.EqualTo("SG-10008"));
    }

    [TestCase("572", '4')]
    [TestCase("0", '0')]
    [TestCase("1042", '9')]
    public void Damm_check_digit_matches_published_vectors(string digits, char check)
    {
        Assert.That(Damm.CheckDigit(digits), Is.EqualTo(check));
        Assert.That(Damm.IsValid(digits + check), Is.True);
    }

    [Test]
    public void Every_rendered_number_parses_back_to_its_sequence()
    {
        for (long seq = 0; seq < 20_000; seq++)
        {
            Assert.That(_format.TryParse(_format.Render(seq), out var parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(seq));
        }
    }

    [Test]
    public void Every_single_digit_error_is_rejected()
    {
        for (long seq = 1000; seq < 3000; seq++)
        {
            var digits = _format.Render(seq)[3..].ToCharArray();
            for (var position = 0; position < digits.Length; position++)
            {
                var original = digits[position];
                for (var d = '0'; d <= '9'; d++)
                {
                    if (d == original)
                        continue;
                    digits[position] = d;
                    Assert.That(_format.TryParse("SG-" + new string(digits), out _), Is.False, $"{new string(digits)} from {seq}");
                }
                digits[position] = original;
            }
        }
    }

    [Test]
    public void Every_adjacent_transposition_is_rejected()
    {
        for (long seq = 1000; seq < 20_000; seq++)
        {
            var digits = _format.Render(seq)[3..].ToCharArray();
            for (var i = 0; i + 1 < digits.Length; i++)
            {
                if (digits[i] == digits[i + 1])
                    continue;
                (digits[i], digits[i + 1]) = (digits[i + 1], digits[i]);
                Assert.That(_format.TryParse(new string(digits), out _), Is.False, $"{new string(digits)} from {seq}");
                (digits[i], digits[i + 1]) = (digits[i + 1], digits[i]);
            }
        }
    }

    [TestCase("Re: [SG-10429] printer", 1042)]
    [TestCase("see sg 10429 please", 1042)]
    [TestCase("номер SG10429, принтер", 1042)]
    [TestCase("#SG-10429.", 1042)]
    [TestCase("(SG_10429)", 1042)]
    public void Finds_a_number_written_the_ways_customers_write_it(string text, long expected) =>
        Assert.That(_format.FindFirst(text), Is.EqualTo(expected));

    [TestCase("Re: [SG-10428] wrong check digit")]
    [TestCase("XSG-10429 glued to a word")]
    [TestCase("SG-104291 longer number")]
    [TestCase("no number here")]
    [TestCase("")]
    public void Finds_nothing_where_there_is_no_valid_number(string text) =>
        Assert.That(_format.FindFirst(text), Is.Null);

    [Test]
    public void Finds_all_valid_numbers_once_each_in_order() =>
        Assert.That(_format.FindAll("SG-10429, SG-10008 and again SG-10429, not SG-10009"), Is.EqualTo(new long[] { 1042, 1000 }));

    [Test]
    public void Prefix_is_configurable_and_case_insensitive()
    {
        var format = new TicketNumberFormat("hd", 1);
        var number = format.Render(77);
        Assert.That(number, Does.StartWith("HD-77"));
        Assert.That(format.FindFirst($"ticket {number.ToLowerInvariant()}"), Is.EqualTo(77));
        Assert.That(format.FindFirst($"ticket SG-{number[3..]}"), Is.Null);
    }

    [TestCase("")]
    [TestCase("S G")]
    [TestCase("СГ")]
    public void Rejects_a_prefix_that_is_not_ascii_letters_or_digits(string prefix) =>
        Assert.Throws<ArgumentException>(() => _ = new TicketNumberFormat(prefix, 1));
}
