-- The WhatsApp window asks when a customer last wrote on a channel: their inbound messages, newest first.
CREATE INDEX ix_messages_contact_inbound ON messages (contact_id, channel, direction, created_at);
