-- Around the vote (issue 14): what a voter says beside the verdict, the
-- battles a voter shared, and the reads of a session's own board.
--   votes.reasons: the reasons the voter chose ([arena] vote_reasons), as
--     a JSON array of strings, NULL when none were given;
--   votes.comment: the voter's comment as given (valid UTF-8), NULL when
--     none; neither changes any rating.
--   shares: a voted battle its owner shared: token is the unguessable
--     link's (32 hex digits: 128 random bits); one per battle.
--   battles_session: a session's own board is read back by its battles.
ALTER TABLE votes ADD COLUMN reasons TEXT;
ALTER TABLE votes ADD COLUMN comment TEXT;

CREATE TABLE shares (
  token       TEXT PRIMARY KEY,
  battle_id   TEXT NOT NULL UNIQUE REFERENCES battles (id),
  created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX battles_session ON battles (session);
