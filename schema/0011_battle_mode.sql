-- How a battle was started: 'anony' (two models drawn at random, names
-- hidden until the vote: the only battles the boards count), 'named' (two
-- models the visitor chose, names public; battles.anony = 0, its vote
-- stored but counted nowhere) or 'direct' (one chosen model, a chat with
-- no vote: model_b is '', side B does not exist).
ALTER TABLE battles ADD COLUMN mode TEXT NOT NULL DEFAULT 'anony'
  CHECK (mode IN ('anony', 'named', 'direct'));
