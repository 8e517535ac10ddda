-- A customer's mail keeps its new text and, beside it, the signature (sign-off, "-- " block, client footer): agents
-- see it in their notification, and answers relayed to chats never carry it.
ALTER TABLE messages ADD COLUMN signature TEXT;
