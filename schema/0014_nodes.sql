-- The nodes (agon serve processes) on this database, each with a lease it
-- renews every [cluster] heartbeat_seconds: a node whose lease_until has
-- passed is dead, and the battles it was streaming are failed by the
-- others. A battle's id names its node (NODE-<24 hex digits>), so the
-- battles need no column: the other nodes forward its event stream and
-- follow-ups to the node's url. Times are ms since the Unix epoch (UTC).
CREATE TABLE nodes (
  name         TEXT PRIMARY KEY,   -- [server] node
  url          TEXT NOT NULL,      -- [server] internal_url
  host         TEXT NOT NULL,      -- the machine it runs on
  pid          INTEGER NOT NULL,   -- its process there
  instance     TEXT NOT NULL,      -- random per start: who holds the name
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  lease_until  INTEGER NOT NULL
) STRICT;
