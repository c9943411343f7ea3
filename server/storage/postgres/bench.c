/* agon bench's runs, items and scores in PostgreSQL (schema/postgres/
 * 0003_benchmarks.sql; storage/sqlite/bench.c's rules). The run, items
 * and finish ops run on the write connection under the write lock, the
 * last two inside the transaction store.c opened; the results are read on
 * the read connection. */
#include "storage/postgres/internal.h"

int pg_bench_run_open(void *cls, const struct store_bench_key *k, long items,
                      int64_t at, int64_t *run_id) {
  struct pg_store *ps = cls;
  /* the run is made once; a run found again keeps its item count and
   * time (SQLite's ON CONFLICT DO NOTHING) */
  if (pg_run(ps, "bench run",
             "INSERT INTO bench_runs (model, task, mode, shots, data_sha256, "
             "shots_sha256, seed, item_limit, items, created_at) VALUES ($1, "
             "$2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
             "tttlttllII", k->model, k->task, k->mode, k->shots,
             k->data_sha256, k->shots_sha256, k->seed, k->limit,
             (int64_t)items, at) < 0)
    return -1;
  PGresult *r = pg_exec(
      ps, "bench run",
      "SELECT id FROM bench_runs WHERE model = $1 AND task = $2 AND mode = "
      "$3 AND shots = $4 AND data_sha256 = $5 AND shots_sha256 = $6 AND "
      "seed = $7 AND item_limit = $8",
      "tttlttll", k->model, k->task, k->mode, k->shots, k->data_sha256,
      k->shots_sha256, k->seed, k->limit);
  int rc = r && PQntuples(r) == 1 ? 0 : -1;
  if (!rc)
    *run_id = pg_col_int64(r, 0, 0);
  PQclear(r);
  return rc;
}

int pg_bench_items(void *cls, int64_t run_id, store_bench_item_fn fn,
                   void *ctx) {
  struct pg_store *ps = cls;
  PGresult *r = pg_exec(ps, "bench items",
                        "SELECT line, grp, metrics FROM bench_items WHERE "
                        "run_id = $1 ORDER BY line",
                        "I", run_id);
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r) && !rc; i++)
    if (fn(ctx, pg_col_long(r, i, 0), pg_col_text(r, i, 1),
           pg_col_text(r, i, 2)))
      rc = -1;
  PQclear(r);
  return rc;
}

int pg_bench_items_put(void *cls, int64_t run_id,
                       const struct store_bench_item *items, size_t n,
                       int64_t at) {
  struct pg_store *ps = cls;
  /* an item already stored keeps its first result */
  for (size_t i = 0; i < n; i++) {
    const struct store_bench_item *it = &items[i];
    if (pg_run_prepared(ps, PG_BENCH_ITEM_INSERT, "bench item",
                        "INSERT INTO bench_items (run_id, line, grp, "
                        "metrics, detail, created_at) VALUES ($1, $2, $3, "
                        "$4, $5, $6) ON CONFLICT DO NOTHING",
                        "IItttI", run_id, (int64_t)it->line,
                        it->grp ? it->grp : "", it->metrics, it->detail,
                        at) < 0)
      return -1;
  }
  return 0;
}

int pg_bench_finish(void *cls, int64_t run_id,
                    const struct store_bench_score *sc, size_t n,
                    int64_t at) {
  struct pg_store *ps = cls;
  if (pg_run(ps, "bench results", "DELETE FROM bench_results WHERE run_id = $1",
             "I", run_id) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (pg_run(ps, "bench result",
               "INSERT INTO bench_results (run_id, grp, metric, value, "
               "ci_low, ci_high, n) VALUES ($1, $2, $3, $4, $5, $6, $7)",
               "Ittdddl", run_id, sc[i].grp, sc[i].metric, sc[i].value,
               sc[i].ci_low, sc[i].ci_high, sc[i].n) < 0)
      return -1;
  return pg_run(ps, "bench finish",
                "UPDATE bench_runs SET finished_at = $1 WHERE id = $2", "II",
                at, run_id) < 0
             ? -1
             : 0;
}

int pg_bench_results(void *cls, store_bench_result_fn fn, void *ctx) {
  struct pg_store *ps = cls;
  /* a few rows a run (its metrics, by subject for MMLU): read whole, and
   * walked with the read lock given back */
  PGresult *r = pg_read(
      ps, "bench results",
      "SELECT r.id, r.model, r.task, r.mode, r.shots, r.seed, r.item_limit, "
      "r.items, r.finished_at, s.grp, s.metric, s.value, s.ci_low, "
      "s.ci_high, s.n FROM bench_runs r JOIN bench_results s ON s.run_id = "
      "r.id WHERE r.finished_at IS NOT NULL ORDER BY r.id, s.grp, s.metric",
      "");
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r) && !rc; i++) {
    struct store_bench_result x;
    pg_row(r, i, "ItttllllIttdddl", &x.run_id, &x.model, &x.task, &x.mode,
           &x.shots, &x.seed, &x.limit, &x.items, &x.finished_at,
           &x.score.grp, &x.score.metric, &x.score.value, &x.score.ci_low,
           &x.score.ci_high, &x.score.n);
    if (fn(ctx, &x))
      rc = -1;
  }
  PQclear(r);
  return rc;
}
