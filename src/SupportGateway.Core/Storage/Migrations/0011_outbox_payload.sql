-- A delivery that is not a message but a document fixed when it was queued (an intake callback's JSON body), so
-- every retry sends the same bytes.
ALTER TABLE outbox ADD COLUMN payload TEXT;
