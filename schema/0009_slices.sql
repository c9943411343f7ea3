-- Battle tags for the leaderboard slices (tag/battle_tags.h), written
-- when a turn is stored; NULL on battles stored before this schema (and
-- until `agon tag` tags them). None of it is public before the vote.
--   language: ISO 639-1 code of the visitor's prompts, or 'und';
--   tags: the heuristic categories, comma-separated ("coding,no_short");
--   conv_metadata: the style counts of both sides, in FastChat's
--     conv_metadata format (JSON), for style control and the export.
ALTER TABLE battles ADD COLUMN language TEXT;
ALTER TABLE battles ADD COLUMN tags TEXT;
ALTER TABLE battles ADD COLUMN conv_metadata TEXT;

-- The LLM taggers' verdicts on a battle's prompts, one per category: 1
-- (in the category), 0 (not), as the tagger answered; a category missing
-- here is untagged. Built-in categories and the admin's own [category].
CREATE TABLE battle_categories (
  battle_id  TEXT NOT NULL REFERENCES battles(id),
  category   TEXT NOT NULL,
  value      INTEGER NOT NULL CHECK (value IN (0, 1)),
  tagger     TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (battle_id, category)
) STRICT;

-- The pair counts of each slice (rating/slices.h: "language=ko",
-- "category=coding", "language=ko&category=coding"), kept like
-- pair_counts in the vote's own transaction, and when a tagger puts a
-- counted battle in a category, so that slice fits never rescan votes.
CREATE TABLE slice_pairs (
  slice     TEXT NOT NULL,
  model_a   TEXT NOT NULL,
  model_b   TEXT NOT NULL,
  wins_a    INTEGER NOT NULL DEFAULT 0,
  wins_b    INTEGER NOT NULL DEFAULT 0,
  ties      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (slice, model_a, model_b),
  CHECK (model_a < model_b)
) STRICT, WITHOUT ROWID;  -- one B-tree: an upsert per slice and vote
