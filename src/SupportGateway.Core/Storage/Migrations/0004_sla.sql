-- Service levels. The clock itself is derived from the status history in the audit; what is stored is what the
-- scheduler and the agent lists ask for: the policy of the contract at registration, the instant the target is
-- used up while the clock runs, the first warning, and the next instant the scheduler has something to do.
ALTER TABLE tickets ADD COLUMN sla_policy TEXT;
ALTER TABLE tickets ADD COLUMN sla_due_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_warn_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_next_at BIGINT;
-- "What is due next": the scheduler reads this index, never the open tickets.
CREATE INDEX ix_tickets_sla_next ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;
-- The agent lists: breached, at risk, sorted by due.
CREATE INDEX ix_tickets_sla_due ON tickets (sla_due_at) WHERE sla_due_at IS NOT NULL;

-- What the scheduler did to a ticket (a warning at a threshold, the breach notice, the auto-close): each once, also
-- after a crash or with several instances, by the primary key.
CREATE TABLE sla_events (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    event     TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, event)
){{without_rowid}};
