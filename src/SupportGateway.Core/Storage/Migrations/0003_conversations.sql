-- Chats bound to an organisation: a customer's Telegram group, whose members write for their company.
CREATE TABLE conversation_bindings (
    channel         TEXT NOT NULL,
    conversation    TEXT NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    bound_by        TEXT NOT NULL,
    bound_at        BIGINT NOT NULL,
    PRIMARY KEY (channel, conversation)
){{without_rowid}};

-- A channel identity that refused delivery for good (the user blocked the bot); cleared when they write again.
ALTER TABLE contact_identities ADD COLUMN unreachable_at BIGINT;
ALTER TABLE contact_identities ADD COLUMN unreachable_reason TEXT;
