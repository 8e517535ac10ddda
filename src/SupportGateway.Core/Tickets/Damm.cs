namespace SupportGateway.Core.Tickets;

/// <summary>The Damm check-digit algorithm over decimal digits (H. M. Damm, 2004).</summary>
public static class Damm
{
    // A totally anti-symmetric quasigroup of order 10 (Damm's published table).
    private static ReadOnlySpan<byte> Table =>
    [
        0, 3, 1, 7, 5, 9, 8, 6, 4, 2,
        7, 0, 9, 2, 1, 5, 4, 8, 6, 3,
        4, 2, 0, 6, 8, 7, 1, 3, 5, 9,
        1, 7, 5, 0, 9, 8, 3, 4, 2, 6,
        6, 1, 2, 3, 0, 4, 5, 9, 7, 8,
        3, 6, 7, 4, 2, 0, 9, 5, 8, 1,
        5, 8, 6, 9, 7, 2, 0, 1, 3, 4,
        8, 9, 4, 5, 3, 6, 2, 0, 1, 7,
        9, 4, 3, 8, 6, 1, 7, 2, 0, 5,
        2, 5, 8, 1, 4, 3, 6, 7, 9, 0,
    ];

    public static char CheckDigit(ReadOnlySpan<char> digits) => (char)('0' + Interim(digits));

    public static bool IsValid(ReadOnlySpan<char> digitsWithCheck) =>
        digitsWithCheck.Length > 0 && Interim(digitsWithCheck) == 0;

    private static int Interim(ReadOnlySpan<char> digits)
    {
        var interim = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
                throw new FormatException($"'{c}' is not a decimal digit.");
            interim = Table[interim * 10 + (c - '0')];
        }
        return interim;
    }
}
