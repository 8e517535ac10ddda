-- The intake API's deliveries are recorded as sent when they are queued (the product reads them with GET), and no
-- sender claims that channel any more: what an earlier version left queued there is delivered now.
UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = COALESCE(sent_at, created_at), locked_until = NULL, last_error = NULL
WHERE channel = 'api' AND state IN ('pending', 'in_flight');
