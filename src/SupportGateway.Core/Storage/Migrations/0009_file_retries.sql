-- Customers' files a channel could not fetch while the message was stored: fetched again later and attached to the
-- stored message. Work that survives a restart, like the outbox: pending → done | failed.
CREATE TABLE file_retries (
    id              {{id}},
    message_id      BIGINT NOT NULL REFERENCES messages (id),
    source          TEXT NOT NULL,
    reference       TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX ix_file_retries_due ON file_retries (state, next_attempt_at);
