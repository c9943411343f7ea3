-- LLM judges' verdicts, apart from human votes: they never change the
-- human ratings. One row per (battle, judge); a reply without a parsable
-- verdict is kept as an error (verdict NULL) and not counted.
CREATE TABLE judgments (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  battle_id     TEXT NOT NULL REFERENCES battles (id),
  judge         TEXT NOT NULL,
  mode          TEXT NOT NULL CHECK (mode IN ('pairwise', 'single')),
  verdict       TEXT CHECK (verdict IN ('a', 'b', 'tie')),
  verdict_ab    TEXT,      -- pairwise: the verdict with A shown first
  verdict_ba    TEXT,      -- with B shown first, un-swapped; NULL without swap
  inconsistent  INTEGER NOT NULL DEFAULT 0,  -- the two orders disagreed
  scores        TEXT,      -- single: JSON {"a": [g, c, l, r], "b": [...]}
  raw           TEXT,      -- the judge's replies, JSON array
  error         TEXT,
  created_at    INTEGER NOT NULL,
  UNIQUE (battle_id, judge)
) STRICT;

CREATE INDEX judgments_judge ON judgments (judge, id);
