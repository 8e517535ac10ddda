using System.Collections.Concurrent;
using MailKit;
using MailKit.Net.Smtp;
using MimeKit;
using Microsoft.Extensions.Options;
using SupportGateway.Core.Outbox;
using SupportGateway.Host.Health;

namespace SupportGateway.Host.Channels.Email;

/// <summary>
/// Up to <see cref="SmtpEndpointOptions.Connections"/> MailKit SMTP connections per mailbox, kept and reused for bursts
/// (a new connection and AUTH per mail is most of a mail's cost), each sending one mail at a time, checked with NOOP
/// when it has been idle, and dropped and opened again after any failure. A 5xx for the recipient is permanent, a 4xx
/// and a broken connection are a retry (RFC 5321 §4.2.1).
/// </summary>
internal sealed class SmtpSessions(MailLogin login, IOptions<EmailOptions> options, ChannelHealth health, ILogger<SmtpSessions> logger, TimeProvider time)
    : IAsyncDisposable
{
    /// <summary>A connection idle longer than this is checked with NOOP first: servers close quiet sessions (RFC 5321 §4.5.3.2 allows 5 minutes).</summary>
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Pool> _pools = new(StringComparer.OrdinalIgnoreCase);

    public async Task SubmitAsync(MailboxOptions mailbox, MimeMessage message, string recipient, CancellationToken cancellationToken)
    {
        var pool = _pools.GetOrAdd(mailbox.Name, _ => new Pool(mailbox.Smtp.Connections));
        await pool.Slots.WaitAsync(cancellationToken);
        // A slot is held, so a session is free. The one used last is taken first: in a quiet hour one connection stays
        // warm and the server lets the others go.
        var session = pool.Free.TryPop(out var free) ? free : throw new InvalidOperationException("an SMTP slot was held with no free session");
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    var client = await ConnectedAsync(session, mailbox, cancellationToken);
                    await client.SendAsync(message, MailboxAddress.Parse(mailbox.Address), [MailboxAddress.Parse(recipient)], cancellationToken);
                    session.LastUsed = time.GetUtcNow();
                    if (pool.Rejected)
                        health.Report(HealthName(mailbox), ChannelState.Up, $"{mailbox.Smtp.Host}: token accepted again");
                    pool.Rejected = false;
                    return;
                }
                catch (SmtpCommandException ex)
                {
                    await session.DropAsync();
                    var reply = $"{recipient}: {(int)ex.StatusCode} {ex.Message}";
                    throw (int)ex.StatusCode >= 500 ? new PermanentDeliveryException(reply, ex) : new IOException(reply, ex);
                }
                catch (MailTokenRejectedException ex)
                {
                    // Not retried here: the outbox tries again with its backoff, by when the grant may be fixed.
                    await session.DropAsync();
                    health.Report(HealthName(mailbox), ChannelState.Down, ex.Message);
                    if (!pool.Rejected)
                        logger.LogWarning("Mailbox {Mailbox} SMTP: {Error}; answers wait in the outbox", mailbox.Name, ex.Message);
                    pool.Rejected = true;
                    throw;
                }
                catch (Exception ex) when (ex is SmtpProtocolException or IOException or ServiceNotConnectedException && !cancellationToken.IsCancellationRequested)
                {
                    // A kept connection the server closed meanwhile: once more on a fresh one.
                    await session.DropAsync();
                    if (attempt > 0)
                        throw;
                }
            }
        }
        finally
        {
            pool.Free.Push(session);
            pool.Slots.Release();
        }
    }

    /// <summary>Shown only once sending has trouble logging in: the reader's line is the mailbox's own.</summary>
    public static string HealthName(MailboxOptions mailbox) => MailboxReader.HealthName(mailbox) + ":smtp";

    private async Task<SmtpClient> ConnectedAsync(Session session, MailboxOptions mailbox, CancellationToken cancellationToken)
    {
        if (session.Client is { IsConnected: true } kept)
        {
            if (time.GetUtcNow() - session.LastUsed < IdleCheck)
                return kept;
            await kept.NoOpAsync(cancellationToken);
            return kept;
        }
        await session.DropAsync();
        // Each connection logs to a file of its own: MailKit's logger holds its file, and two sessions' lines would interleave.
        var log = MailLogin.ProtocolLog(options.Value, mailbox, session.Number == 1 ? "smtp" : $"smtp-{session.Number}");
        var client = new SmtpClient(log) { LocalDomain = mailbox.Domain };
        session.Client = client;
        await MailLogin.ConnectAsync(client, mailbox.Smtp, tlsPort: 465, startTlsPort: 587, cancellationToken);
        await login.AuthenticateAsync(client, mailbox, mailbox.Smtp, cancellationToken);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pool in _pools.Values)
        {
            foreach (var session in pool.Free)
                await session.DropAsync();
        }
    }

    /// <summary>A mailbox's sessions, numbered from 1, and a slot for each: a session not in use is on the stack, connected or not.</summary>
    private sealed class Pool(int connections)
    {
        public SemaphoreSlim Slots { get; } = new(connections, connections);

        public ConcurrentStack<Session> Free { get; } = new(Enumerable.Range(1, connections).Reverse().Select(n => new Session(n)));

        /// <summary>The last login failed on the OAuth 2.0 token: said once, until a mail goes out again.</summary>
        public bool Rejected { get; set; }
    }

    private sealed class Session(int number)
    {
        public int Number { get; } = number;

        public SmtpClient? Client { get; set; }

        public DateTimeOffset LastUsed { get; set; }

        public async Task DropAsync()
        {
            if (Client is not { } client)
                return;
            Client = null;
            try
            {
                if (client.IsConnected)
                    await client.DisconnectAsync(quit: true);
            }
            catch (Exception ex) when (ex is IOException or SmtpProtocolException or SmtpCommandException or OperationCanceledException)
            {
                // Closing a connection that is already gone.
            }
            client.Dispose();
        }
    }
}
