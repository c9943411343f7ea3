-- Per-database settings: a random secret for keyed hashes (of sessions in
-- exports, of client addresses), created on first use.
CREATE TABLE meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT;
