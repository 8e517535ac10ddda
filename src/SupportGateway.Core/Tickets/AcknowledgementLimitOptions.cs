namespace SupportGateway.Core.Tickets;

/// <summary>
/// At most <see cref="PerAddress"/> acknowledgements to one address per <see cref="Window"/>, on every channel: a brake on
/// loops with auto-responders (e-mail) and on floods (any channel). Further new tickets are still opened, only not
/// acknowledged (audit <c>acknowledgement_suppressed</c>). It sits with the endpoints' abuse limits in
/// <c>SupportGateway:Limits</c>; 0 turns it off.
/// </summary>
public sealed class AcknowledgementLimitOptions
{
    public const string Section = "SupportGateway:Limits:Acknowledgements";

    public int PerAddress { get; set; } = 5;

    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);
}
