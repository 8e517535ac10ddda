-- The SLA report asks for the tickets closed in a period; closed_at is set only while a ticket is closed.
CREATE INDEX ix_tickets_closed ON tickets (closed_at) WHERE closed_at IS NOT NULL;
