-- Regenerate and retry (issue 14). An answer a turn no longer shows is
-- kept here, never deleted: kind 'regenerate' (the owner re-asked the turn
-- on both sides before the vote) or 'retry' (a failed side, re-asked with
-- another model). attempt counts from 1 per (battle, turn, side); model is
-- the model that gave it. The turn's own answer_a / answer_b are always the
-- latest attempt, the one a vote is decided on.
CREATE TABLE replaced_answers (
  battle_id   TEXT NOT NULL REFERENCES battles (id),
  turn        INTEGER NOT NULL,          -- 1-based
  side        TEXT NOT NULL CHECK (side IN ('a', 'b')),
  attempt     INTEGER NOT NULL,
  answer      TEXT,
  error       TEXT,                      -- server-side detail, or NULL
  reasoning   TEXT,
  replaced_at INTEGER NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('regenerate', 'retry')),
  model       TEXT NOT NULL,
  PRIMARY KEY (battle_id, turn, side, attempt)
) STRICT;

-- A failed side's model replaced by another (retry): battles.model_a or
-- model_b holds the new one, the vote counts for the final pair.
CREATE TABLE side_replacements (
  battle_id   TEXT NOT NULL REFERENCES battles (id),
  seq         INTEGER NOT NULL,          -- 1, 2, ... per battle
  side        TEXT NOT NULL CHECK (side IN ('a', 'b')),
  old_model   TEXT NOT NULL,
  new_model   TEXT NOT NULL,
  turn        INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  PRIMARY KEY (battle_id, seq)
) STRICT;
