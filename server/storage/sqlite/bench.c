/* agon bench's runs, items and scores in SQLite (schema/0015). */
#include "storage/sqlite/internal.h"

#include <string.h>

int sqlite_bench_run_open(void *cls, const struct store_bench_key *k,
                          long items, int64_t at, int64_t *run_id) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "INSERT INTO bench_runs (model, task, mode, shots, data_sha256, "
      "shots_sha256, seed, item_limit, items, created_at) VALUES (?1, ?2, "
      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
      "tttlttllII", k->model, k->task, k->mode, k->shots, k->data_sha256,
      k->shots_sha256, k->seed, k->limit, (int64_t)items, at);
  if (!s || sqlite_step_done(s, "bench run"))
    goto fail;
  s = sqlite_stmt_next(
      s,
      "SELECT id FROM bench_runs WHERE model = ?1 AND task = ?2 AND mode = "
      "?3 AND shots = ?4 AND data_sha256 = ?5 AND shots_sha256 = ?6 AND "
      "seed = ?7 AND item_limit = ?8",
      "tttlttll", k->model, k->task, k->mode, k->shots, k->data_sha256,
      k->shots_sha256, k->seed, k->limit);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    goto fail;
  *run_id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return 0;
fail:
  sqlite3_finalize(s);
  return -1;
}

int sqlite_bench_items(void *cls, int64_t run_id, store_bench_item_fn fn,
                       void *ctx) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "SELECT line, grp, metrics FROM bench_items WHERE run_id = ? ORDER BY "
      "line",
      "I", run_id);
  if (!s)
    return -1;
  int r, rc = 0;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    if (fn(ctx, (long)sqlite3_column_int64(s, 0), sqlite_text(s, 1),
           sqlite_text(s, 2))) {
      rc = -1;
      break;
    }
  }
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    rc = -1;
  sqlite3_finalize(s);
  return rc;
}

int sqlite_bench_items_put(void *cls, int64_t run_id,
                           const struct store_bench_item *items, size_t n,
                           int64_t at) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "INSERT INTO bench_items (run_id, line, grp, metrics, detail, "
      "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      "");
  int rc = s ? 0 : -1;
  for (size_t i = 0; i < n && !rc; i++) {
    const struct store_bench_item *it = &items[i];
    rc = sqlite_bind(s, "IItttI", run_id, (int64_t)it->line,
                     it->grp ? it->grp : "", it->metrics, it->detail, at) ||
                 sqlite_step_done(s, "bench item")
             ? -1
             : 0;
  }
  sqlite3_finalize(s);
  return rc;
}

int sqlite_bench_finish(void *cls, int64_t run_id,
                        const struct store_bench_score *sc, size_t n,
                        int64_t at) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "DELETE FROM bench_results WHERE run_id = ?", "I", run_id);
  if (!s || sqlite_step_done(s, "bench results"))
    goto fail;
  s = sqlite_stmt_next(
      s,
      "INSERT INTO bench_results (run_id, grp, metric, value, ci_low, "
      "ci_high, n) VALUES (?, ?, ?, ?, ?, ?, ?)",
      "");
  if (!s)
    goto fail;
  for (size_t i = 0; i < n; i++)
    if (sqlite_bind(s, "Ittdddl", run_id, sc[i].grp, sc[i].metric,
                    sc[i].value, sc[i].ci_low, sc[i].ci_high, sc[i].n) ||
        sqlite_step_done(s, "bench result"))
      goto fail;
  s = sqlite_stmt_next(s, "UPDATE bench_runs SET finished_at = ? WHERE id = ?",
                       "II", at, run_id);
  if (!s || sqlite_step_done(s, "bench finish"))
    goto fail;
  sqlite3_finalize(s);
  return 0;
fail:
  sqlite3_finalize(s);
  return -1;
}

int sqlite_bench_results(void *cls, store_bench_result_fn fn, void *ctx) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT r.id, r.model, r.task, r.mode, r.shots, r.seed, r.item_limit, "
      "r.items, r.finished_at, s.grp, s.metric, s.value, s.ci_low, "
      "s.ci_high, s.n FROM bench_runs r JOIN bench_results s ON s.run_id = "
      "r.id WHERE r.finished_at IS NOT NULL ORDER BY r.id, s.grp, s.metric",
      "");
  int r, rc = s ? 0 : -1;
  while (s && (r = sqlite3_step(s)) == SQLITE_ROW) {
    struct store_bench_result x;
    sqlite_row(s, "ItttllllIttdddl", &x.run_id, &x.model, &x.task, &x.mode,
               &x.shots, &x.seed, &x.limit, &x.items, &x.finished_at,
               &x.score.grp, &x.score.metric, &x.score.value,
               &x.score.ci_low, &x.score.ci_high, &x.score.n);
    if (fn(ctx, &x)) {
      rc = -1;
      break;
    }
  }
  if (s && !rc && r != SQLITE_DONE)
    rc = -1;
  sqlite_read_end(st, s);
  return rc;
}
