-- Aggregated outcomes per pair of models (model_a < model_b), updated in
-- the vote's own transaction, so that Bradley-Terry fits never rescan
-- the votes. Ties include "both bad".
CREATE TABLE pair_counts (
  model_a   TEXT NOT NULL,
  model_b   TEXT NOT NULL,
  wins_a    INTEGER NOT NULL DEFAULT 0,
  wins_b    INTEGER NOT NULL DEFAULT 0,
  ties      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model_a, model_b),
  CHECK (model_a < model_b)
) STRICT;

INSERT INTO pair_counts (model_a, model_b, wins_a, wins_b, ties)
SELECT min(b.model_a, b.model_b), max(b.model_a, b.model_b),
       sum(CASE WHEN (v.winner = 'a' AND b.model_a < b.model_b)
                  OR (v.winner = 'b' AND b.model_b < b.model_a) THEN 1 ELSE 0 END),
       sum(CASE WHEN (v.winner = 'b' AND b.model_a < b.model_b)
                  OR (v.winner = 'a' AND b.model_b < b.model_a) THEN 1 ELSE 0 END),
       sum(CASE WHEN v.winner IN ('tie', 'bothbad') THEN 1 ELSE 0 END)
FROM votes v JOIN battles b ON b.id = v.battle_id
WHERE v.counted = 1
GROUP BY 1, 2;

-- Imported battles keep their original record (FastChat fields) so that
-- an export gives them back.
ALTER TABLE battles ADD COLUMN record TEXT;
ALTER TABLE battles ADD COLUMN tstamp REAL;
ALTER TABLE battles ADD COLUMN anony INTEGER NOT NULL DEFAULT 1;

-- The Elo K each vote was counted with, so that a replay reproduces the
-- live ratings even when K was changed in between.
ALTER TABLE votes ADD COLUMN k REAL;
