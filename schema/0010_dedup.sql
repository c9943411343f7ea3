-- De-duplication of the most repeated prompts on the Bradley-Terry boards
-- (rating/dedup.h, storage/sqlite/dedup.c), decided once, in the vote's
-- own transaction:
--   votes.dedup: 1 for a counted vote left out of the BT boards' pair
--     counts (the whole board's and every slice's) because its prompt was
--     asked more often than the cutoff; its Elo counts as any other;
--   prompt_counts: the counted votes of each prompt (by its hash), and
--     dedup_stats the distinct prompts and the votes left out.
-- Votes stored before this schema are in no count.
ALTER TABLE votes ADD COLUMN dedup INTEGER NOT NULL DEFAULT 0;
-- the hash of a battle's prompts (rating/dedup.h), computed when a turn
-- ends, beside its other tags; NULL before (read from its turns then)
ALTER TABLE battles ADD COLUMN prompt_hash INTEGER;

CREATE TABLE prompt_counts (
  hash INTEGER PRIMARY KEY,
  n    INTEGER NOT NULL
) STRICT;
CREATE INDEX prompt_counts_n ON prompt_counts (n);

CREATE TABLE dedup_stats (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  prompts  INTEGER NOT NULL,
  left_out INTEGER NOT NULL
) STRICT;
INSERT INTO dedup_stats (id, prompts, left_out) VALUES (1, 0, 0);
