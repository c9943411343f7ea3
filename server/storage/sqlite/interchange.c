/* What imports, exports and the rebuilt ratings read and write in SQLite
 * (storage/interchange.c says what they do). All on the write connection,
 * under the write lock. */
#include "storage/sqlite/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/log.h"

/* ---- meta ---- */

int sqlite_meta_get(void *cls, const char *key, char *out, size_t len) {
  struct sqlite_store *st = cls;
  int rc = -1;
  sqlite3_stmt *s =
      sqlite_stmt_new(st->db, "SELECT value FROM meta WHERE key = ?", "t", key);
  if (!s)
    goto out;
  int r = sqlite3_step(s);
  if (r == SQLITE_ROW) {
    const char *v = sqlite_text(s, 0);
    snprintf(out, len, "%s", v ? v : "");
    rc = 0;
  } else if (r == SQLITE_DONE) {
    rc = 1;
  }
out:
  sqlite3_finalize(s);
  return rc;
}

int sqlite_meta_add(void *cls, const char *key, const char *value) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "INSERT INTO meta (key, value) VALUES (?, ?)", "tt", key, value);
  int rc = s ? sqlite_step_done(s, NULL) : -1;
  sqlite3_finalize(s);
  return rc;
}

/* ---- the ratings as a replay makes them ---- */

int sqlite_ratings_replace(void *cls, const struct rating_table *t,
                           const struct pair_table *p) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  int rc = -1;
  if (sqlite3_exec(st->db, "DELETE FROM ratings; DELETE FROM pair_counts;",
                   NULL, NULL, NULL) != SQLITE_OK ||
      !(s = sqlite_stmt_new(st->db,
                            "INSERT INTO ratings (model, elo, battles, wins, "
                            "losses, ties) VALUES (?, ?, ?, ?, ?, ?)",
                            "")))
    goto out;
  for (size_t i = 0; i < t->n; i++) {
    const struct rating_row *r = &t->rows[i];
    if (sqlite_bind(s, "tdllll", r->model, r->elo, r->battles, r->wins,
                    r->losses, r->ties) ||
        sqlite_step_done(s, NULL))
      goto out;
  }
  s = sqlite_stmt_next(s,
                       "INSERT INTO pair_counts (model_a, model_b, wins_a, "
                       "wins_b, ties) VALUES (?, ?, ?, ?, ?)",
                       "");
  if (!s)
    goto out;
  for (size_t i = 0; i < p->n; i++) {
    const struct pair_row *r = &p->rows[i];
    if (sqlite_bind(s, "ttlll", r->a, r->b, r->wins_a, r->wins_b, r->ties) ||
        sqlite_step_done(s, NULL))
      goto out;
  }
  rc = 0;
out:
  sqlite3_finalize(s);
  return rc;
}

/* ---- import ---- */

int sqlite_battle_exists(void *cls, const char *id) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *q = sqlite_stmt(st, STMT_IMPORT_EXISTS,
                                "SELECT 1 FROM battles WHERE id = ?", "t", id);
  if (!q)
    return -1;
  int r = sqlite3_step(q);
  sqlite3_reset(q);
  return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -1;
}

int sqlite_import_battle(void *cls, const struct store_import_row *r) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *ib = sqlite_stmt(
      st, STMT_IMPORT_BATTLE,
      "INSERT INTO battles (id, created_at, model_a, model_b, session, "
      "status, source, record, tstamp, anony, language, tags, conv_metadata) "
      "VALUES (?, ?, ?, ?, 'import', 'voted', 'import', ?, ?, ?, ?, ?, ?)",
      "tItttdittt", r->id, r->created_at, r->model_a, r->model_b, r->record,
      r->tstamp, r->anony, r->language, r->tags, r->conv_metadata);
  if (!ib || sqlite_step_done(ib, NULL))
    return -1;
  sqlite3_stmt *iv = sqlite_stmt(st, STMT_IMPORT_VOTE,
                                 "INSERT INTO votes (battle_id, winner, "
                                 "created_at, counted, reason, k, reasons, "
                                 "comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 "ttIitdtt", r->id, winner_name(r->w),
                                 r->created_at, r->counted, r->reason, r->k,
                                 r->reasons, r->comment);
  if (!iv || sqlite_step_done(iv, NULL))
    return -1;
  for (size_t i = 0; i < r->n_categories; i++) {
    sqlite3_stmt *ic = sqlite_stmt(
        st, STMT_IMPORT_CATEGORY,
        "INSERT INTO battle_categories (battle_id, category, value, tagger, "
        "created_at) VALUES (?, ?, ?, 'import', ?)",
        "ttiI", r->id, r->categories[i].category,
        r->categories[i].value ? 1 : 0, r->created_at);
    if (!ic || sqlite_step_done(ic, NULL))
      return -1;
  }
  if (sqlite_import_replaced(st, r->id, r->record))
    return -1;
  if (!r->counted)
    return 0;
  /* its outcome in its slices, as a live vote counts it (votes.c): the
   * keys from the tags just stored, as the replay reads them */
  return sqlite_vote_slices(st, r->id, r->model_a, r->model_b, r->w, NULL);
}

/* ---- export ---- */

/* One battle's turns for an export: texts[0..n), their strings owned. */
struct turn_buf {
  struct store_turn_text *texts;
  char **owned;
  size_t n, cap, n_owned;
};

static void turn_buf_clear(struct turn_buf *b) {
  for (size_t i = 0; i < b->n_owned; i++)
    free(b->owned[i]);
  b->n = b->n_owned = 0;
}

static void turn_buf_release(struct turn_buf *b) {
  turn_buf_clear(b);
  free(b->texts);
  free(b->owned);
  memset(b, 0, sizeof *b);
}

/* A copy of column col kept in b (room made by load_turns), or NULL for
 * NULL; *failed set when out of memory. */
static const char *keep(struct turn_buf *b, sqlite3_stmt *s, int col,
                        int *failed) {
  const char *t = sqlite_text(s, col);
  if (!t)
    return NULL;
  char *d = strdup(t);
  if (!d) {
    *failed = 1;
    return NULL;
  }
  b->owned[b->n_owned++] = d;
  return d;
}

/* The turns of battle id into b (emptied first). 0 or -1. */
static int load_turns(sqlite3_stmt *turns, const char *id,
                      struct turn_buf *b) {
  turn_buf_clear(b);
  sqlite3_reset(turns);
  sqlite3_bind_text(turns, 1, id, -1, SQLITE_TRANSIENT);
  int r, failed = 0;
  while ((r = sqlite3_step(turns)) == SQLITE_ROW) {
    if (b->n == b->cap) {
      size_t cap = b->cap ? b->cap * 2 : 8;
      struct store_turn_text *t = realloc(b->texts, cap * sizeof *t);
      if (t)
        b->texts = t;
      char **o = realloc(b->owned, 3 * cap * sizeof *o);
      if (o)
        b->owned = o;
      if (!t || !o)
        return -1;
      b->cap = cap;
    }
    struct store_turn_text *t = &b->texts[b->n++];
    t->prompt = keep(b, turns, 0, &failed);
    t->answer[0] = keep(b, turns, 1, &failed);
    t->answer[1] = keep(b, turns, 2, &failed);
    if (failed)
      return -1;
  }
  sqlite3_reset(turns);
  return r == SQLITE_DONE ? 0 : -1;
}

/* One battle's category verdicts for an export, their names owned. */
struct category_buf {
  struct category_verdict *v;
  size_t n, cap;
};

static void category_buf_clear(struct category_buf *b) {
  for (size_t i = 0; i < b->n; i++)
    free((char *)b->v[i].category);
  b->n = 0;
}

/* The verdicts on battle id into b (emptied first). 0 or -1. */
static int load_categories(sqlite3_stmt *q, const char *id,
                           struct category_buf *b) {
  category_buf_clear(b);
  sqlite3_reset(q);
  sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
  int r;
  while ((r = sqlite3_step(q)) == SQLITE_ROW) {
    struct category_verdict *v = array_grow(b->v, b->n, &b->cap, sizeof *v, 8);
    if (!v)
      return -1;
    b->v = v;
    char *name = sqlite_text_dup(q, 0);
    if (!name)
      return -1;
    b->v[b->n++] = (struct category_verdict){name, sqlite3_column_int(q, 1)};
  }
  sqlite3_reset(q);
  return r == SQLITE_DONE ? 0 : -1;
}

int sqlite_export_votes(void *cls, int with_turns, store_export_vote_fn fn,
                        void *ctx) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *turns = NULL, *cats = NULL;
  struct turn_buf tb = {0};
  struct category_buf cb = {0};
  int rc = -1;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "SELECT b.id, b.model_a, b.model_b, v.winner, b.session, "
      "v.created_at, b.record, v.counted, v.reason, (SELECT count(*) FROM "
      "turns t WHERE t.battle_id = b.id), b.language, b.tags, "
      "b.conv_metadata, b.anony, v.reasons, v.comment, "
      SQLITE_REPLACED_COLUMNS("b.id") " FROM votes v JOIN battles b ON "
      "b.id = v.battle_id ORDER BY v.seq",
      "");
  if (!s ||
      !(turns = sqlite_stmt_new(st->db,
                                "SELECT prompt, answer_a, answer_b FROM turns "
                                "WHERE battle_id = ? ORDER BY turn",
                                "")) ||
      !(cats = sqlite_stmt_new(st->db,
                               "SELECT category, value FROM battle_categories "
                               "WHERE battle_id = ? ORDER BY category",
                               "")))
    goto out;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    struct store_export_vote v = {0};
    sqlite_row(s, "tttttItitltttitttt", &v.id, &v.model_a, &v.model_b,
               &v.winner, &v.session, &v.voted_at, &v.record, &v.counted,
               &v.reason, &v.n_turns, &v.language, &v.tags, &v.conv_metadata,
               &v.anony, &v.reasons, &v.comment, &v.replaced,
               &v.replacements);
    if (!v.record) { /* an imported battle is written as it came */
      if (load_categories(cats, v.id, &cb))
        goto out;
      v.categories = cb.v;
      v.n_categories = cb.n;
    }
    if (with_turns) {
      if (load_turns(turns, v.id, &tb))
        goto out;
      v.turns = tb.texts;
      v.n_texts = tb.n;
    }
    if (fn(ctx, &v))
      goto out;
  }
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite3_finalize(s);
  sqlite3_finalize(turns);
  sqlite3_finalize(cats);
  turn_buf_release(&tb);
  category_buf_clear(&cb);
  free(cb.v);
  return rc;
}

int sqlite_export_judgments(void *cls, store_export_judgment_fn fn,
                            void *ctx) {
  struct sqlite_store *st = cls;
  int rc = -1;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "SELECT b.id, b.model_a, b.model_b, j.verdict, j.judge, j.created_at, "
      "j.inconsistent, (SELECT count(*) FROM turns t WHERE t.battle_id = "
      "b.id) FROM judgments j JOIN battles b ON b.id = j.battle_id WHERE "
      "j.verdict IS NOT NULL ORDER BY j.id",
      "");
  if (!s)
    goto out;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    struct store_export_judgment j = {0};
    sqlite_row(s, "tttttIil", &j.id, &j.model_a, &j.model_b, &j.verdict,
               &j.judge, &j.created_at, &j.inconsistent, &j.n_turns);
    if (fn(ctx, &j))
      goto out;
  }
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite3_finalize(s);
  return rc;
}

/* The snapshot is a store of its own holding one read-only connection
 * (the export's functions above use st->db alone), in a read transaction
 * begun with a first read: in WAL mode it sees the database as of then,
 * whatever is committed meanwhile, and holds no lock a writer waits on. */
void *sqlite_snapshot_open(void *cls) {
  struct sqlite_store *st = cls;
  struct sqlite_store *snap = calloc(1, sizeof *snap);
  if (!snap)
    return NULL;
  if (sqlite3_open_v2(st->path, &snap->db, SQLITE_OPEN_READONLY, NULL) !=
      SQLITE_OK)
    goto fail;
  sqlite3_busy_timeout(snap->db, 5000);
  if (sqlite3_exec(snap->db, "BEGIN; SELECT count(*) FROM votes", NULL, NULL,
                   NULL) != SQLITE_OK)
    goto fail;
  return snap;
fail:
  log_warn("msg=\"cannot open a snapshot of the database\" err=\"%s\"",
           log_q(snap->db ? sqlite3_errmsg(snap->db) : "out of memory"));
  sqlite3_close(snap->db);
  free(snap);
  return NULL;
}

void sqlite_snapshot_close(void *p) {
  struct sqlite_store *snap = p;
  if (!snap)
    return;
  sqlite3_exec(snap->db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(snap->db);
  free(snap);
}
