-- The nodes on this database (SQLite's schema/0014): each with a lease it
-- renews every [cluster] heartbeat_seconds; a node whose lease_until has
-- passed (on the database's clock) is dead, and the battles it was
-- streaming are failed by the others. A battle's id names its node
-- (NODE-<24 hex digits>), so the battles need no column. Times are ms
-- since the Unix epoch (UTC).
CREATE TABLE nodes (
  name         TEXT COLLATE "C" PRIMARY KEY, -- [server] node
  url          TEXT NOT NULL,                -- [server] internal_url
  host         TEXT NOT NULL,                -- the machine it runs on
  pid          BIGINT NOT NULL,              -- its process there
  instance     TEXT NOT NULL,                -- random per start
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  lease_until  BIGINT NOT NULL
);
