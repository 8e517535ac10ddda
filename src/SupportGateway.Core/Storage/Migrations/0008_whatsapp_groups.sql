-- Customer groups made with the WhatsApp Cloud API's Groups API. Meta creates a group asynchronously: the request is
-- known by its request id at once, the group by its id when group_lifecycle_update confirms it; the organisation it
-- was made for is bound then (conversation_bindings), whichever of the two arrives first.
CREATE TABLE whatsapp_groups (
    id              {{id}},
    request_id      TEXT UNIQUE,
    group_id        TEXT UNIQUE,
    organisation_id BIGINT REFERENCES organisations (id),
    subject         TEXT,
    invite_link     TEXT,
    state           TEXT NOT NULL,
    error           TEXT,
    requested_by    TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Who is in a group (left_at NULL) and who was, from group_participants_update; WhatsApp allows 8 at a time.
CREATE TABLE whatsapp_group_members (
    group_id  TEXT NOT NULL,
    wa_id     TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    left_at   BIGINT,
    PRIMARY KEY (group_id, wa_id)
){{without_rowid}};

-- Every lifecycle, participant, settings and status event Meta reported about a group, in arrival order.
CREATE TABLE whatsapp_group_events (
    id          {{id}},
    group_id    TEXT,
    request_id  TEXT,
    field       TEXT NOT NULL,
    type        TEXT NOT NULL,
    participant TEXT,
    detail      TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX ix_whatsapp_group_events_group ON whatsapp_group_events (group_id, id);

-- A notice a chat was given once and not at every message (an unbound group told how to bind it).
CREATE TABLE conversation_notices (
    channel      TEXT NOT NULL,
    conversation TEXT NOT NULL,
    notice       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (channel, conversation, notice)
){{without_rowid}};
