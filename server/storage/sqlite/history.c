/* The counted votes with their times, for the rating history (battle/
 * history.c), read in the background on the read connection in chunks of
 * HISTORY_CHUNK votes, so that the read lock is never held for long. */
#include "storage/sqlite/internal.h"

#include "util/log.h"

#define HISTORY_CHUNK 4096

int sqlite_timed_votes(void *cls, store_timed_fn fn, void *ctx) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  int rc = -1;
  int64_t after = 0;
  for (;;) {
    long rows = 0;
    pthread_mutex_lock(&st->read_lock);
    if (sqlite3_prepare_v2(
            st->rdb,
            "SELECT v.seq, b.model_a, b.model_b, v.winner, v.k, v.dedup, "
            "v.created_at FROM votes v JOIN battles b ON b.id = v.battle_id "
            "WHERE v.counted = 1 AND v.seq > ?1 ORDER BY v.seq LIMIT ?2",
            -1, &s, NULL) != SQLITE_OK) {
      pthread_mutex_unlock(&st->read_lock);
      goto out;
    }
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int(s, 2, HISTORY_CHUNK);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
      rows++;
      after = sqlite3_column_int64(s, 0);
      struct store_timed_vote v;
      if (winner_parse((const char *)sqlite3_column_text(s, 3), &v.w))
        continue;
      v.model_a = (const char *)sqlite3_column_text(s, 1);
      v.model_b = (const char *)sqlite3_column_text(s, 2);
      v.k = sqlite3_column_type(s, 4) == SQLITE_NULL
                ? -1
                : sqlite3_column_double(s, 4);
      v.dedup = sqlite3_column_int(s, 5) != 0;
      v.created_at = sqlite3_column_int64(s, 6);
      if (!v.model_a || !v.model_b || fn(ctx, &v)) {
        r = SQLITE_ABORT;
        break;
      }
    }
    sqlite3_finalize(s);
    s = NULL;
    pthread_mutex_unlock(&st->read_lock);
    if (r != SQLITE_DONE)
      goto out;
    if (rows < HISTORY_CHUNK)
      break;
  }
  rc = 0;
out:
  if (rc)
    log_error("msg=\"reading the votes' history failed\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->rdb)));
  return rc;
}
