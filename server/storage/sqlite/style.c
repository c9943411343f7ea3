/* The votes style control is fitted from, read in the background: every
 * counted vote of a slice with its battle's style counts (FastChat's
 * conv_metadata, stored at turn end or imported). Read on the read
 * connection in chunks of STYLE_CHUNK votes, so that the read lock is
 * never held for long while a whole history is read. */
#include "storage/sqlite/internal.h"

#include <stdlib.h>
#include <string.h>

#include "fastchat/battle_log.h"
#include "util/log.h"

#define STYLE_CHUNK 4096

int sqlite_style_votes(void *cls, const char *language, const char *category,
                       store_style_fn fn, void *ctx, long *skipped) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  int rc = -1;
  int64_t after = 0;
  *skipped = 0;
  for (;;) {
    long rows = 0;
    pthread_mutex_lock(&st->read_lock);
    if (sqlite3_prepare_v2(
            st->rdb,
            "SELECT v.seq, b.model_a, b.model_b, v.winner, "
            "coalesce(b.conv_metadata, json_extract(b.record, "
            "'$.conv_metadata')) FROM votes v JOIN battles b ON b.id = "
            "v.battle_id WHERE v.counted = 1 AND v.seq > ?1 AND (?2 IS NULL "
            "OR b.language = ?2) AND (?3 IS NULL OR instr(',' || "
            "coalesce(b.tags, '') || ',', ',' || ?3 || ',') > 0 OR EXISTS "
            "(SELECT 1 FROM battle_categories c WHERE c.battle_id = b.id AND "
            "c.category = ?3 AND c.value = 1)) ORDER BY v.seq LIMIT ?4",
            -1, &s, NULL) != SQLITE_OK) {
      pthread_mutex_unlock(&st->read_lock);
      goto out;
    }
    sqlite3_bind_int64(s, 1, after);
    if (language)
      sqlite3_bind_text(s, 2, language, -1, SQLITE_STATIC);
    if (category)
      sqlite3_bind_text(s, 3, category, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, STYLE_CHUNK);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
      rows++;
      after = sqlite3_column_int64(s, 0);
      struct store_style_vote v;
      const char *meta = (const char *)sqlite3_column_text(s, 4);
      json_t *cm = meta ? json_loads(meta, 0, NULL) : NULL;
      int known = cm && log_meta_style(cm, v.a, v.b);
      json_decref(cm);
      if (!known ||
          winner_parse((const char *)sqlite3_column_text(s, 3), &v.w)) {
        (*skipped)++;
        continue;
      }
      v.model_a = (const char *)sqlite3_column_text(s, 1);
      v.model_b = (const char *)sqlite3_column_text(s, 2);
      if (fn(ctx, &v)) {
        r = SQLITE_ABORT;
        break;
      }
    }
    sqlite3_finalize(s);
    s = NULL;
    pthread_mutex_unlock(&st->read_lock);
    if (r != SQLITE_DONE)
      goto out;
    if (rows < STYLE_CHUNK)
      break;
  }
  rc = 0;
out:
  if (rc)
    log_error("msg=\"reading the style counts failed\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->rdb)));
  return rc;
}
