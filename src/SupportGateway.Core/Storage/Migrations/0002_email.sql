-- E-mail: where each mailbox's reading stopped, and look-ups by the ids of mail we sent.

-- The highest UID handled per mailbox folder, valid while the folder's UIDVALIDITY stays the same.
CREATE TABLE mail_cursors (
    mailbox      TEXT PRIMARY KEY,
    uid_validity BIGINT NOT NULL,
    last_uid     BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
){{without_rowid}};

-- A reply names the Message-ID we sent (In-Reply-To/References): it must find the ticket; and mail we sent
-- must be recognised when it comes back in on any channel.
CREATE INDEX ix_outbox_external ON outbox (external_id) WHERE external_id IS NOT NULL;
-- Acknowledgements per recipient within a window (rate limit against auto-reply storms).
CREATE INDEX ix_outbox_recipient ON outbox (channel, recipient, created_at);
