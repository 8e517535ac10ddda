using System.Net;
using System.Net.Sockets;

namespace SupportGateway.Host.Limits;

/// <summary>The address a client is counted under.</summary>
internal static class ClientAddress
{
    /// <summary>
    /// The peer's address (after <c>X-Forwarded-For</c> from a trusted proxy, see <see cref="AbuseLimits"/>), IPv4 as
    /// IPv4 also on a dual-stack socket, and IPv6 by its /64: one subscriber holds a whole /64, so counting single IPv6
    /// addresses would let one client take as many keys as it likes. No address (a test server, a Unix socket) is one key.
    /// </summary>
    public static IPAddress Of(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
            return IPAddress.None;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || IPAddress.IsLoopback(address))
            return address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
