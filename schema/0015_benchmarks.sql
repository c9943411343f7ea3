-- Benchmarks measured by `agon bench` (issue 16): the six Open LLM
-- Leaderboard tasks asked of each model through its own endpoint.
--   bench_runs: one run of one task for one model, named by everything
--     that decides its items and prompts (task, mode, shots, the data and
--     shots files' SHA-256, the subset's seed and size); a run is resumed
--     by running the same command again. items: the items it scores;
--     finished_at: when its results were computed (NULL before).
--   bench_items: each item's result as it arrived, by its line in the
--     data file: metrics, a JSON object of the item's scores ({"acc": 1,
--     "acc_norm": 0}, {"mc2": 0.71}, {"strict_match": 1, ...}); detail,
--     what was read (log-likelihoods, the answer and what was extracted),
--     for inspection only; grp, MMLU's subject.
--   bench_results: a finished run's scores, over all its items (grp '')
--     and per subject, each with its 95% interval and item count.
CREATE TABLE bench_runs (
  id           INTEGER PRIMARY KEY,
  model        TEXT NOT NULL,
  task         TEXT NOT NULL,
  mode         TEXT NOT NULL CHECK (mode IN ('likelihood', 'generate')),
  shots        INTEGER NOT NULL,
  data_sha256  TEXT NOT NULL,
  shots_sha256 TEXT NOT NULL,       -- '' when the shots come from the data
  seed         INTEGER NOT NULL,
  item_limit   INTEGER NOT NULL,    -- 0: every item
  items        INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  UNIQUE (model, task, mode, shots, data_sha256, shots_sha256, seed,
          item_limit)
) STRICT;

CREATE TABLE bench_items (
  run_id      INTEGER NOT NULL REFERENCES bench_runs (id),
  line        INTEGER NOT NULL,
  grp         TEXT NOT NULL,
  metrics     TEXT NOT NULL,
  detail      TEXT,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (run_id, line)
) STRICT;

CREATE TABLE bench_results (
  run_id   INTEGER NOT NULL REFERENCES bench_runs (id),
  grp      TEXT NOT NULL,
  metric   TEXT NOT NULL,
  value    REAL NOT NULL,
  ci_low   REAL NOT NULL,
  ci_high  REAL NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (run_id, grp, metric)
) STRICT;
