-- Ticket numbers from a sequence where the engine has one (PostgreSQL: several instances number at once without
-- queueing on the counters row); SQLite keeps the counters row, under its single writer.
{{ticket_sequence}}
