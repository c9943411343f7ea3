/* The counted votes with their times, for the rating history (battle/
 * history.c), read in the background on the read connection in chunks
 * (sqlite_read_chunks), so that the read lock is never held for long. */
#include "storage/sqlite/internal.h"

#include "util/log.h"

/* One vote of the history: handed on, or skipped when its winner cannot
 * be read. */
struct timed_read {
  store_timed_fn fn;
  void *ctx;
};

static int timed_row(void *cls, sqlite3_stmt *s) {
  struct timed_read *tr = cls;
  struct store_timed_vote v;
  if (winner_parse(sqlite_text(s, 3), &v.w))
    return 0;
  v.model_a = (const char *)sqlite3_column_text(s, 1);
  v.model_b = (const char *)sqlite3_column_text(s, 2);
  v.k = sqlite3_column_type(s, 4) == SQLITE_NULL ? -1
                                                 : sqlite3_column_double(s, 4);
  v.dedup = sqlite3_column_int(s, 5) != 0;
  v.created_at = sqlite3_column_int64(s, 6);
  return !v.model_a || !v.model_b || tr->fn(tr->ctx, &v);
}

int sqlite_timed_votes(void *cls, store_timed_fn fn, void *ctx) {
  struct sqlite_store *st = cls;
  struct timed_read tr = {fn, ctx};
  int rc = sqlite_read_chunks(
      st,
      "SELECT v.seq, b.model_a, b.model_b, v.winner, v.k, v.dedup, "
      "v.created_at FROM votes v JOIN battles b ON b.id = v.battle_id "
      "WHERE v.counted = 1 AND v.seq > ?1 ORDER BY v.seq LIMIT ?2",
      timed_row, &tr, "");
  if (rc)
    log_error("msg=\"reading the votes' history failed\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->rdb)));
  return rc;
}
