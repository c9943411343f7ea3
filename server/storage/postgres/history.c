/* The counted votes with their times, for the rating history (battle/
 * history.c), read in the background on the read connection in chunks
 * (pg_read_chunks), so that the read lock is never held for long
 * (storage/sqlite/history.c's rules). */
#include "storage/postgres/internal.h"

/* One vote of the history: handed on, or skipped when its winner cannot
 * be read. */
struct timed_read {
  store_timed_fn fn;
  void *ctx;
};

static int timed_row(void *cls, const PGresult *r, int row) {
  struct timed_read *tr = cls;
  struct store_timed_vote v;
  if (winner_parse(pg_col_text(r, row, 3), &v.w))
    return 0;
  v.model_a = pg_col_text(r, row, 1);
  v.model_b = pg_col_text(r, row, 2);
  v.k = pg_col_null(r, row, 4) ? -1 : pg_col_double(r, row, 4);
  v.dedup = pg_col_int(r, row, 5) != 0;
  v.created_at = pg_col_int64(r, row, 6);
  return !v.model_a || !v.model_b || tr->fn(tr->ctx, &v);
}

int pg_timed_votes(void *cls, store_timed_fn fn, void *ctx) {
  struct pg_store *ps = cls;
  struct timed_read tr = {fn, ctx};
  return pg_read_chunks(
      ps, "timed_votes",
      "SELECT v.seq, b.model_a, b.model_b, v.winner, v.k, v.dedup, "
      "v.created_at FROM votes v JOIN battles b ON b.id = v.battle_id "
      "WHERE v.counted = 1 AND v.seq > $1 ORDER BY v.seq LIMIT $2",
      timed_row, &tr, "");
}
