-- The outbox retries by time (Outbox:GiveUpAfter), as mail servers do. queued_at is when the current retry period
-- began: when the row was queued, or when `outbox retry` queued it again. failed_at is when it was given up, which the
-- agents read on the ticket. The index keeps a ticket's deliveries on one channel in order: a row waits while an
-- earlier one to the same recipient waits for its retry.
ALTER TABLE outbox ADD COLUMN queued_at BIGINT;
UPDATE outbox SET queued_at = created_at;
ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
CREATE INDEX ix_outbox_ticket ON outbox (ticket_id, channel, recipient, id);
