-- A keyed hash (HMAC-SHA-256 under meta's secret) of the voting client's
-- address: enough to spot vote stuffing, never the address itself.
ALTER TABLE votes ADD COLUMN client TEXT;
