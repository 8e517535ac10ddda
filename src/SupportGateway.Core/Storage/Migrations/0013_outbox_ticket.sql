-- A ticket's deliveries, found by the ticket: every mail answer threads under the ticket's earlier ones
-- (EmailSender), and without this index that read went through every sent row of the channel.
CREATE INDEX ix_outbox_ticket ON outbox (ticket_id, channel, state);
