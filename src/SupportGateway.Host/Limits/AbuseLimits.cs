using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Contacts;
using SupportGateway.Core.Storage;
using SupportGateway.Core.Tickets;
using SupportGateway.Host.Channels.Api;
using SupportGateway.Host.Channels.WebChat;
using SupportGateway.Host.Http;

namespace SupportGateway.Host.Limits;

/// <summary>
/// The abuse limits of the public endpoints, all set up here on ASP.NET Core's rate limiting middleware; an endpoint (or
/// the group it is mapped in) names its policy with <c>RequireRateLimiting</c>. The middleware runs before the endpoint,
/// so a request over a limit is refused before its body is read and nothing of it is stored: 429 with Retry-After
/// (RFC 6585 §4, RFC 9110 §10.2.3) and problem details. The counters live in memory, keyed by visitor token, intake key
/// or client address; checking one costs a dictionary lookup and no database read.
/// </summary>
internal static class AbuseLimits
{
    public const string WebChatRequests = "webchat-requests";
    public const string WebChatMessages = "webchat-messages";
    public const string Intake = "intake";
    public const string Webhooks = "webhooks";
    public const string OpenRequests = "open-requests";

    public static IHostApplicationBuilder AddAbuseLimits(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddSingleton<LimitWindows>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<LimitWindows>((options, windows) => windows.Configure(options));
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<LimitsOptions>>((options, limits) =>
        {
            // Only X-Forwarded-For, only from the configured proxies (the defaults trust loopback), through every trusted hop.
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            options.ForwardLimit = null;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            var (proxies, networks) = limits.Value.ParseProxies();
            proxies.ForEach(options.KnownProxies.Add);
            networks.ForEach(options.KnownIPNetworks.Add);
        });
        return builder;
    }

    /// <summary>The client address from a trusted proxy's X-Forwarded-For (when one is configured), then the limits.</summary>
    public static WebApplication UseAbuseLimits(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.TrustedProxies.Count > 0)
            app.UseForwardedHeaders();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>
    /// A new visitor's token is issued here, before the endpoint (which adopts the token the request carries), so that
    /// its first request counts under it too. A visitor with the most open requests opens no other until one is resolved
    /// or closed (one database read, on new web-chat requests only).
    /// </summary>
    public static RouteHandlerBuilder LimitNewRequests(this RouteHandlerBuilder endpoint) => endpoint.AddEndpointFilter(async (context, next) =>
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var token = http.Request.Headers[WebChatEndpoints.TokenHeader].ToString();
        if (!WebChatNormalizer.IsWellFormedToken(token))
        {
            token = Secrets.NewToken();
            http.Request.Headers[WebChatEndpoints.TokenHeader] = token;
            services.GetRequiredService<LimitWindows>().CountNewVisitor(token);
            return await next(context);
        }
        var limits = services.GetRequiredService<IOptions<LimitsOptions>>().Value.WebChat;
        await using var connection = await services.GetRequiredService<Database>().OpenAsync(http.RequestAborted);
        var db = new SqlScope(connection);
        var contact = await services.GetRequiredService<ContactStore>()
            .FindByIdentityAsync(db, WebChatNormalizer.Channel, WebChatNormalizer.VisitorOf(token), http.RequestAborted);
        var open = contact is { } id ? await services.GetRequiredService<TicketStore>().CountOpenForContactAsync(db, id, http.RequestAborted) : 0;
        return open < limits.OpenRequestsPerVisitor
            ? await next(context)
            : Refuse(http, limits.NewRequestsPerVisitor.Window, OpenRequests,
                $"This visitor already has {open} open requests (at most {limits.OpenRequestsPerVisitor}): continue one of them, or close one first.");
    });

    public static ProblemHttpResult Refuse(HttpContext http, TimeSpan retryAfter, string limit, string detail)
    {
        http.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Problems.TooMany(detail, limit);
    }

    internal static ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
        var detail = context.Lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason) && reason is not null ? reason : "Too many requests.";
        var limit = http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName ?? "rate";
        return new ValueTask(Refuse(http, retryAfter, limit, detail).ExecuteAsync(http));
    }
}

/// <summary>One visitor token from one client address: both must be under their limit of new web-chat requests.</summary>
internal readonly record struct VisitorAtAddress(string? Visitor, IPAddress Address);

/// <summary>The counters behind the policies, keyed by what each limit counts.</summary>
internal sealed class LimitWindows : IDisposable
{
    private readonly PartitionedRateLimiter<string> _visitors;
    private readonly PartitionedRateLimiter<IPAddress> _addresses;
    private readonly Func<VisitorAtAddress, RateLimiter> _newRequest;
    private readonly Func<object, RateLimiter> _message;
    private readonly Func<object, RateLimiter> _intake;
    private readonly Func<IPAddress, RateLimiter> _webhook;
    private readonly List<string> _intakeKeys;

    public LimitWindows(IOptions<LimitsOptions> options, IOptions<IntakeOptions> intake, TimeProvider time)
    {
        var limits = options.Value;
        var web = limits.WebChat;
        _intakeKeys = intake.Value.ApiKeys;
        // Each factory runs once per key, never per request.
        Func<string, RateLimiter> visitor = _ => new SlidingWindowLimiter(web.NewRequestsPerVisitor, time,
            $"Too many new requests from this visitor: at most {web.NewRequestsPerVisitor}.");
        Func<IPAddress, RateLimiter> address = _ => new SlidingWindowLimiter(web.NewRequestsPerAddress, time,
            $"Too many new requests from this address: at most {web.NewRequestsPerAddress}.");
        _visitors = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.Get(key, visitor));
        _addresses = PartitionedRateLimiter.Create<IPAddress, IPAddress>(key => RateLimitPartition.Get(key, address));
        _newRequest = key => new BothLimiter(this, key, time);
        _message = _ => new SlidingWindowLimiter(web.MessagesPerVisitor, time, $"Too many messages from this visitor: at most {web.MessagesPerVisitor}.");
        _intake = _ => new SlidingWindowLimiter(limits.IntakePerKey, time, $"Too many requests with this key: at most {limits.IntakePerKey}.");
        _webhook = _ => new SlidingWindowLimiter(limits.WebhookPerSource, time, $"Too many deliveries from this address: at most {limits.WebhookPerSource}.");
    }

    public void Configure(RateLimiterOptions options)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = AbuseLimits.OnRejectedAsync;
        options.AddPolicy(AbuseLimits.WebChatRequests, http => RateLimitPartition.Get(new VisitorAtAddress(Visitor(http), ClientAddress.Of(http)), _newRequest));
        options.AddPolicy(AbuseLimits.WebChatMessages, http => RateLimitPartition.Get(Visitor(http) ?? (object)ClientAddress.Of(http), _message));
        // A key that is not configured is refused by the endpoint; until then it counts against its address.
        options.AddPolicy(AbuseLimits.Intake, http => RateLimitPartition.Get(IntakeKey(http) ?? (object)ClientAddress.Of(http), _intake));
        options.AddPolicy(AbuseLimits.Webhooks, http => RateLimitPartition.Get(ClientAddress.Of(http), _webhook));
    }

    private static string? Visitor(HttpContext http)
    {
        var token = http.Request.Headers[WebChatEndpoints.TokenHeader].ToString();
        return WebChatNormalizer.IsWellFormedToken(token) ? token : null;
    }

    /// <summary>The configured key sent in X-Api-Key, compared in constant time without allocating.</summary>
    private string? IntakeKey(HttpContext http)
    {
        var sent = http.Request.Headers["X-Api-Key"].ToString();
        if (sent.Length == 0)
            return null;
        string? found = null;
        foreach (var key in _intakeKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(key.AsSpan()), MemoryMarshal.AsBytes(sent.AsSpan())))
                found = key;
        }
        return found;
    }

    /// <summary>The first request of a visitor who had no token yet, counted under the token it is given.</summary>
    public void CountNewVisitor(string token) => _visitors.AttemptAcquire(token).Dispose();

    public void Dispose()
    {
        _visitors.Dispose();
        _addresses.Dispose();
    }

    /// <summary>
    /// Both counters of a new web-chat request. The visitor's is only looked at first, so a visitor over its limit does not
    /// use up its address's permits (a colleague behind the same NAT still gets through); it holds no count of its own.
    /// </summary>
    private sealed class BothLimiter(LimitWindows windows, VisitorAtAddress key, TimeProvider time) : RateLimiter
    {
        private long _lastUsed = time.GetUtcNow().UtcTicks;

        public override TimeSpan? IdleDuration => TimeSpan.FromTicks(Math.Max(0, time.GetUtcNow().UtcTicks - Volatile.Read(ref _lastUsed)));

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            Volatile.Write(ref _lastUsed, time.GetUtcNow().UtcTicks);
            if (key.Visitor is { } visitor && windows._visitors.AttemptAcquire(visitor, 0) is { IsAcquired: false } full)
                return full;
            var lease = windows._addresses.AttemptAcquire(key.Address, permitCount);
            return !lease.IsAcquired || key.Visitor is null ? lease : windows._visitors.AttemptAcquire(key.Visitor, permitCount);
        }

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(permitCount));
    }
}
