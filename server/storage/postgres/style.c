/* The votes style control is fitted from, read in the background: every
 * counted vote of a slice with its battle's style counts (FastChat's
 * conv_metadata, stored at turn end or imported), storage/sqlite/style.c's
 * rules. Read on the read connection in chunks (pg_read_chunks), so that
 * the read lock is never held for long while a whole history is read. */
#include "storage/postgres/internal.h"

#include "fastchat/battle_log.h"

/* The votes of one read: handed on with their style counts, or counted
 * as skipped when they have none (or no readable winner). */
struct style_read {
  store_style_fn fn;
  void *ctx;
  long *skipped;
};

static int style_row(void *cls, const PGresult *r, int row) {
  struct style_read *sr = cls;
  struct store_style_vote v;
  const char *meta = pg_col_text(r, row, 4);
  json_t *cm = meta ? json_loads(meta, 0, NULL) : NULL;
  int known = cm && log_meta_style(cm, v.a, v.b);
  json_decref(cm);
  if (!known || winner_parse(pg_col_text(r, row, 3), &v.w)) {
    (*sr->skipped)++;
    return 0;
  }
  v.model_a = pg_col_text(r, row, 1);
  v.model_b = pg_col_text(r, row, 2);
  return sr->fn(sr->ctx, &v);
}

int pg_style_votes(void *cls, const char *language, const char *category,
                   store_style_fn fn, void *ctx, long *skipped) {
  struct pg_store *ps = cls;
  struct style_read sr = {fn, ctx, skipped};
  *skipped = 0;
  /* an imported battle without its own counts has its record's (the
   * record is JSON: Agon stored it from a parsed log) */
  return pg_read_chunks(
      ps, "style_votes",
      "SELECT v.seq, b.model_a, b.model_b, v.winner, "
      "coalesce(b.conv_metadata, (b.record::json -> 'conv_metadata')::text) "
      "FROM votes v JOIN battles b ON b.id = v.battle_id WHERE v.counted = "
      "1 AND v.seq > $1 AND ($3::text IS NULL OR b.language = $3) AND "
      "($4::text IS NULL OR strpos(',' || coalesce(b.tags, '') || ',', ',' "
      "|| $4 || ',') > 0 OR EXISTS (SELECT 1 FROM battle_categories c WHERE "
      "c.battle_id = b.id AND c.category = $4 AND c.value = 1)) ORDER BY "
      "v.seq LIMIT $2",
      style_row, &sr, "tt", language, category);
}
