/* The votes style control is fitted from, read in the background: every
 * counted vote of a slice with its battle's style counts (FastChat's
 * conv_metadata, stored at turn end or imported). Read on the read
 * connection in chunks (sqlite_read_chunks), so that the read lock is
 * never held for long while a whole history is read. */
#include "storage/sqlite/internal.h"

#include <stdlib.h>
#include <string.h>

#include "fastchat/battle_log.h"
#include "util/log.h"

/* The votes of one read: handed on with their style counts, or counted
 * as skipped when they have none (or no readable winner). */
struct style_read {
  store_style_fn fn;
  void *ctx;
  long *skipped;
};

static int style_row(void *cls, sqlite3_stmt *s) {
  struct style_read *sr = cls;
  struct store_style_vote v;
  const char *meta = (const char *)sqlite3_column_text(s, 4);
  json_t *cm = meta ? json_loads(meta, 0, NULL) : NULL;
  int known = cm && log_meta_style(cm, v.a, v.b);
  json_decref(cm);
  if (!known || winner_parse(sqlite_text(s, 3), &v.w)) {
    (*sr->skipped)++;
    return 0;
  }
  v.model_a = (const char *)sqlite3_column_text(s, 1);
  v.model_b = (const char *)sqlite3_column_text(s, 2);
  return sr->fn(sr->ctx, &v);
}

int sqlite_style_votes(void *cls, const char *language, const char *category,
                       store_style_fn fn, void *ctx, long *skipped) {
  struct sqlite_store *st = cls;
  struct style_read sr = {fn, ctx, skipped};
  *skipped = 0;
  int rc = sqlite_read_chunks(
      st,
      "SELECT v.seq, b.model_a, b.model_b, v.winner, "
      "coalesce(b.conv_metadata, json_extract(b.record, "
      "'$.conv_metadata')) FROM votes v JOIN battles b ON b.id = "
      "v.battle_id WHERE v.counted = 1 AND v.seq > ?1 AND (?3 IS NULL "
      "OR b.language = ?3) AND (?4 IS NULL OR instr(',' || "
      "coalesce(b.tags, '') || ',', ',' || ?4 || ',') > 0 OR EXISTS "
      "(SELECT 1 FROM battle_categories c WHERE c.battle_id = b.id AND "
      "c.category = ?4 AND c.value = 1)) ORDER BY v.seq LIMIT ?2",
      style_row, &sr, "tt", language, category);
  if (rc)
    log_error("msg=\"reading the style counts failed\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->rdb)));
  return rc;
}
