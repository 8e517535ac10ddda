-- Timestamps are Unix milliseconds (UTC): portable between SQLite and PostgreSQL and sortable.
-- Every index costs a page write per message on the hot path: each one here is used by a query.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
){{without_rowid}};
INSERT INTO counters (name, value) VALUES ('ticket', 0);

CREATE TABLE organisations (
    id             {{id}},
    name           TEXT NOT NULL,
    account_number TEXT NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL
);

CREATE TABLE contacts (
    id              {{id}},
    name            TEXT,
    email           TEXT,
    phone           TEXT,
    organisation_id BIGINT REFERENCES organisations (id),
    created_at      BIGINT NOT NULL
);

-- One identity per channel: an email address, a Telegram user, a phone, a web chat visitor, an API contact.
CREATE TABLE contact_identities (
    channel    TEXT NOT NULL,
    identity   TEXT NOT NULL,
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel, identity)
){{without_rowid}};

-- The id is the ticket's sequence value, taken from counters; number is its rendering.
CREATE TABLE tickets (
    id               {{key}},
    number           TEXT NOT NULL UNIQUE,
    subject          TEXT NOT NULL,
    status           TEXT NOT NULL,
    priority         TEXT NOT NULL,
    type             TEXT NOT NULL,
    resolution       TEXT,
    assignee         TEXT,
    requester_id     BIGINT NOT NULL REFERENCES contacts (id),
    organisation_id  BIGINT REFERENCES organisations (id),
    channel          TEXT NOT NULL,
    account          TEXT,
    conversation_key TEXT,
    reply_address    TEXT,
    language         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    resolved_at      BIGINT,
    closed_at        BIGINT
);
CREATE INDEX ix_tickets_conversation ON tickets (channel, conversation_key) WHERE conversation_key IS NOT NULL;
CREATE INDEX ix_tickets_status ON tickets (status, id);

CREATE TABLE ticket_participants (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    contact_id BIGINT NOT NULL REFERENCES contacts (id),
    role       TEXT NOT NULL,
    PRIMARY KEY (ticket_id, contact_id)
){{without_rowid}};
CREATE INDEX ix_ticket_participants_contact ON ticket_participants (contact_id);

-- Every payload as it arrived, before processing. A failure parks it here ('dead') for replay.
CREATE TABLE inbound (
    id           {{id}},
    channel      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    format       TEXT NOT NULL,
    payload      {{blob}} NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    ticket_id    BIGINT,
    message_id   BIGINT,
    received_at  BIGINT NOT NULL,
    processed_at BIGINT,
    UNIQUE (channel, external_id)
);
CREATE INDEX ix_inbound_unprocessed ON inbound (state, id) WHERE state <> 'processed';

CREATE TABLE messages (
    id                {{id}},
    ticket_id         BIGINT NOT NULL REFERENCES tickets (id),
    direction         TEXT NOT NULL,
    author_kind       TEXT NOT NULL,
    author            TEXT NOT NULL,
    contact_id        BIGINT REFERENCES contacts (id),
    channel           TEXT NOT NULL,
    external_id       TEXT,
    text              TEXT NOT NULL,
    html              TEXT,
    internal          {{bool}} NOT NULL,
    technical_details TEXT,
    inbound_id        BIGINT REFERENCES inbound (id),
    created_at        BIGINT NOT NULL
);
CREATE INDEX ix_messages_ticket ON messages (ticket_id, id);
-- Outbound messages get their channel id only once sent.
CREATE UNIQUE INDEX ux_messages_external ON messages (channel, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE attachments (
    id           {{id}},
    message_id   BIGINT NOT NULL REFERENCES messages (id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_id   TEXT,
    inline       {{bool}} NOT NULL,
    sha256       TEXT NOT NULL,
    content      {{blob}} NOT NULL
);
CREATE INDEX ix_attachments_message ON attachments (message_id);

CREATE TABLE audit (
    id        {{id}},
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX ix_audit_ticket ON audit (ticket_id, id);

-- Written in the same transaction as the message it delivers.
CREATE TABLE outbox (
    id              {{id}},
    message_id      BIGINT NOT NULL REFERENCES messages (id),
    ticket_id       BIGINT NOT NULL REFERENCES tickets (id),
    channel         TEXT NOT NULL,
    account         TEXT,
    recipient       TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    external_id     TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX ix_outbox_due ON outbox (channel, state, next_attempt_at);
