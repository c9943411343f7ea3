-- Agon's first schema: battles, their turns, votes and the live ratings.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE battles (
  id          TEXT PRIMARY KEY,          -- 128-bit random id, hex
  created_at  INTEGER NOT NULL,
  model_a     TEXT NOT NULL,             -- public model names
  model_b     TEXT NOT NULL,
  session     TEXT NOT NULL,             -- owner session token
  status      TEXT NOT NULL CHECK (status IN ('streaming', 'ready', 'failed', 'voted')),
  source      TEXT NOT NULL DEFAULT 'arena'
) STRICT;

CREATE INDEX battles_created ON battles (created_at);

CREATE TABLE turns (
  battle_id   TEXT NOT NULL REFERENCES battles (id),
  turn        INTEGER NOT NULL,          -- 1-based
  prompt      TEXT NOT NULL,
  answer_a    TEXT,                      -- NULL while streaming
  answer_b    TEXT,
  error_a     TEXT,                      -- server-side detail, never sent before the vote
  error_b     TEXT,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  PRIMARY KEY (battle_id, turn)
) STRICT;

-- Votes in commit order (seq); `agon recompute` replays the counted ones.
CREATE TABLE votes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  battle_id   TEXT NOT NULL UNIQUE REFERENCES battles (id),
  winner      TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie', 'bothbad')),
  created_at  INTEGER NOT NULL,
  counted     INTEGER NOT NULL DEFAULT 1,
  reason      TEXT                       -- why a vote was not counted
) STRICT;

-- Live online Elo, updated in the vote's own transaction.
CREATE TABLE ratings (
  model       TEXT PRIMARY KEY,
  elo         REAL NOT NULL,
  battles     INTEGER NOT NULL DEFAULT 0,
  wins        INTEGER NOT NULL DEFAULT 0,
  losses      INTEGER NOT NULL DEFAULT 0,
  ties        INTEGER NOT NULL DEFAULT 0
) STRICT;
