/* What imports and exports read and write in PostgreSQL (storage/
 * interchange.c says what they do; storage/sqlite/interchange.c's rules,
 * the same records for the same data). All on the write connection,
 * under the write lock. */
#include "storage/postgres/internal.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "fastchat/fields.h"
#include "util/array.h"

/* ---- import ---- */

/* A member F of the JSON element e as a BIGINT, as SQLite's json_extract
 * into a STRICT INTEGER column reads it: a number that is an integer (2
 * and 2.0 alike), a string of one, a boolean as 1 or 0; NULL when missing
 * or null; anything else fails the statement (a record that says turn 1.5
 * fails the import on either engine). */
#define JSON_INT(F)                                                          \
  "(CASE json_typeof(e -> '" F "') WHEN 'boolean' THEN (e ->> '" F          \
  "')::boolean::int WHEN 'number' THEN CASE WHEN (e ->> '" F "')::numeric " \
  "= trunc((e ->> '" F "')::numeric) THEN (e ->> '" F "')::numeric::bigint " \
  "ELSE (e ->> '" F "')::bigint END ELSE (e ->> '" F "')::bigint END)"

/* A member F of e as text, as json_extract into a TEXT column reads it (a
 * boolean is 1 or 0). */
#define JSON_TEXT(F)                                                         \
  "(CASE json_typeof(e -> '" F "') WHEN 'boolean' THEN (e ->> '" F          \
  "')::boolean::int::text ELSE e ->> '" F "' END)"

/* The record's ($2) member KEY, parsed once (a CTE the statement starts
 * with: JSON_ELEMENTS reads it). */
#define JSON_MEMBER(KEY) "WITH m AS (SELECT $2::json -> '" KEY "' AS j) "

/* The elements (e) of the member m.j with their keys plus 1 (o), as
 * SQLite's json_each walks it: an array's elements (o: 1, 2, ...), an
 * object's member values (o: the key's leading digits plus 1, else 1), or
 * the member itself when it is neither. Then only the objects among them,
 * except that a string that is not JSON text fails the statement, as
 * json_extract fails on it in SQLite. */
#define JSON_ELEMENTS                                                        \
  "(SELECT e, o FROM m, json_array_elements(CASE WHEN json_typeof(j) = "    \
  "'array' THEN j END) WITH ORDINALITY AS a (e, o) UNION ALL SELECT "       \
  "value, coalesce(substring(key FROM '^[0-9]{1,18}')::bigint, 0) + 1 "     \
  "FROM m, json_each(CASE WHEN json_typeof(j) = 'object' THEN j END) "      \
  "UNION ALL SELECT j, 1 FROM m WHERE json_typeof(j) NOT IN ('array', "     \
  "'object')) l WHERE CASE json_typeof(e) WHEN 'object' THEN true WHEN "    \
  "'string' THEN (e #>> '{}')::json IS NULL ELSE false END"

/* The replaced answers and replacements an imported battle's record
 * carries (fastchat/fields.h), stored for battle id as SQLite's INSERT
 * OR IGNORE stores them (storage/sqlite/replaced.c): an element with a
 * side or kind of its own, or without a field the table needs, or one
 * already there, is left out rather than failing the import. 0 or -1. */
static int import_replaced(struct pg_store *ps, const char *id,
                           const char *record) {
  /* a record without the member stores nothing: no statement for it */
  if (strstr(record, "\"" FASTCHAT_REPLACED "\"") &&
      pg_run_prepared(
          ps, PG_IMPORT_REPLACED, "import_replaced",
          JSON_MEMBER(FASTCHAT_REPLACED)
          "INSERT INTO replaced_answers (battle_id, turn, side, attempt, "
          "answer, error, reasoning, replaced_at, kind, model) SELECT $1, "
          "turn, side, attempt, answer, error, reasoning, at, kind, model "
          "FROM (SELECT " JSON_INT("turn") " AS turn, " JSON_TEXT("side")
          " AS side, " JSON_INT("attempt") " AS attempt, " JSON_TEXT("answer")
          " AS answer, CASE WHEN CASE json_typeof(e -> 'failed') WHEN "
          "'boolean' THEN (e ->> 'failed')::boolean WHEN 'number' THEN (e "
          "->> 'failed')::numeric <> 0 ELSE false END THEN 'imported "
          "failure' END AS error, " JSON_TEXT("reasoning") " AS reasoning, "
          "coalesce(" JSON_INT("at") ", 0) AS at, " JSON_TEXT("kind")
          " AS kind, " JSON_TEXT("model") " AS model FROM "
          JSON_ELEMENTS ") x WHERE turn IS NOT NULL AND "
          "side IN ('a', 'b') AND attempt IS NOT NULL AND kind IN "
          "('regenerate', 'retry') AND model IS NOT NULL ON CONFLICT DO "
          "NOTHING",
          "tt", id, record) < 0)
    return -1;
  if (strstr(record, "\"" FASTCHAT_REPLACEMENTS "\"") &&
      pg_run_prepared(
          ps, PG_IMPORT_REPLACEMENTS, "import_replacements",
          JSON_MEMBER(FASTCHAT_REPLACEMENTS)
          "INSERT INTO side_replacements (battle_id, seq, side, old_model, "
          "new_model, turn, at) SELECT $1, seq, side, old_model, new_model, "
          "turn, at FROM (SELECT o AS seq, " JSON_TEXT("side") " AS side, "
          JSON_TEXT("old_model") " AS old_model, " JSON_TEXT("new_model")
          " AS new_model, " JSON_INT("turn") " AS turn, coalesce("
          JSON_INT("at") ", 0) AS at FROM " JSON_ELEMENTS
          ") x WHERE side IN ('a', 'b') AND old_model IS NOT NULL AND "
          "new_model IS NOT NULL AND turn IS NOT NULL ON CONFLICT DO NOTHING",
          "tt", id, record) < 0)
    return -1;
  return 0;
}

/* ---- an import's slices, counted at its commit ----
 *
 * An import is one transaction of many votes; an upsert of a slice's pair
 * counts for each of them would update the same rows over and over in
 * it, and PostgreSQL then walks every version a row had in the
 * transaction at each update: the time grows with the square of the
 * votes (measured: 20,000 imported votes among 5 models, 47 of the 82 s
 * in slice_pairs). So an imported vote's outcome is counted in memory
 * (ps->import_slices) and added to slice_pairs once per row when the
 * transaction commits (pg_import_flush), or forgotten with it. */

/* Count battle id's outcome in the slices its stored tags put it in, as
 * a live vote counts it (the keys from the tags just stored, as the
 * replay reads them), for the commit. 0 or -1. */
static int count_at_commit(struct pg_store *ps, const char *id,
                           const char *model_a, const char *model_b,
                           enum winner w) {
  PGresult *r = pg_prepared(
      ps, PG_IMPORT_SLICES, "import_slices",
      "SELECT language, tags, " PG_CATEGORIES_COLUMN("b.id") " FROM "
      "battles b WHERE id = $1",
      "t", id);
  if (!r)
    return -1;
  char keys[PG_MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  int one = PQntuples(r) == 1;
  int n = pg_slice_keys_of(one ? pg_col_text(r, 0, 0) : NULL,
                           one ? pg_col_text(r, 0, 1) : NULL,
                           one ? pg_col_text(r, 0, 2) : NULL, keys,
                           PG_MAX_BATTLE_SLICES);
  PQclear(r);
  if (!ps->import_slices) {
    if (!(ps->import_slices = malloc(sizeof *ps->import_slices)))
      return -1;
    slice_table_init(ps->import_slices);
  }
  for (int i = 0; i < n; i++)
    if (slice_table_add(ps->import_slices, keys[i], model_a, model_b, w))
      return -1;
  return 0;
}

void pg_import_discard(struct pg_store *ps) {
  if (!ps->import_slices)
    return;
  slice_table_release(ps->import_slices);
  free(ps->import_slices);
  ps->import_slices = NULL;
}

/* One row of slice_pairs to add to: its slice's key and pair counts. */
struct slice_row {
  const char *key;
  const struct pair_row *p;
};

static int slice_row_cmp(const void *x, const void *y) {
  const struct slice_row *a = x, *b = y;
  int c = strcmp(a->key, b->key);
  if (!c)
    c = strcmp(a->p->a, b->p->a);
  return c ? c : strcmp(a->p->b, b->p->b);
}

/* The rows of slice_pairs one statement adds to, at most. */
#define FLUSH_ROWS 1000

/* Add rows[n] (in key order) to slice_pairs in one statement. 0 or -1. */
static int flush_rows(struct pg_store *ps, const struct slice_row *rows,
                      size_t n) {
  json_t *list = json_array();
  for (size_t i = 0; list && i < n; i++) {
    const struct pair_row *p = rows[i].p;
    if (json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "s",
                            rows[i].key, "a", p->a, "b", p->b, "wa",
                            (json_int_t)p->wins_a, "wb",
                            (json_int_t)p->wins_b, "t", (json_int_t)p->ties)))
      break;
  }
  char *text = list && json_array_size(list) == n
                   ? json_dumps(list, JSON_COMPACT)
                   : NULL;
  json_decref(list);
  if (!text)
    return -1;
  /* the rows locked in key order, as every vote's upsert takes them */
  long rc = pg_run_prepared(
      ps, PG_IMPORT_SLICES_ADD, "import_slices_add",
      "INSERT INTO slice_pairs (slice, model_a, model_b, wins_a, wins_b, "
      "ties) SELECT s, a, b, wa, wb, t FROM json_to_recordset($1::json) AS "
      "x (s text, a text, b text, wa bigint, wb bigint, t bigint) ORDER BY "
      "s COLLATE \"C\", a COLLATE \"C\", b COLLATE \"C\" ON CONFLICT (slice, "
      "model_a, model_b) DO UPDATE SET wins_a = slice_pairs.wins_a + "
      "excluded.wins_a, wins_b = slice_pairs.wins_b + excluded.wins_b, ties "
      "= slice_pairs.ties + excluded.ties",
      "t", text);
  free(text);
  return rc < 0 ? -1 : 0;
}

int pg_import_flush(struct pg_store *ps) {
  struct slice_table *t = ps->import_slices;
  struct slice_row *rows = NULL;
  size_t n = 0, cap = 0;
  int rc = -1;
  if (!t)
    return 0;
  for (size_t i = 0; i < t->n; i++)
    for (size_t j = 0; j < t->s[i].pairs.n; j++) {
      struct slice_row *more = array_grow(rows, n, &cap, sizeof *rows, 64);
      if (!more)
        goto out;
      rows = more;
      rows[n++] = (struct slice_row){t->s[i].key, &t->s[i].pairs.rows[j]};
    }
  if (n)
    qsort(rows, n, sizeof *rows, slice_row_cmp);
  for (size_t i = 0; i < n; i += FLUSH_ROWS)
    if (flush_rows(ps, rows + i, n - i < FLUSH_ROWS ? n - i : FLUSH_ROWS))
      goto out;
  rc = 0;
out:
  free(rows);
  pg_import_discard(ps);
  return rc;
}

int pg_import_battle(void *cls, const struct store_import_row *r) {
  struct pg_store *ps = cls;
  if (pg_run_prepared(
          ps, PG_IMPORT_BATTLE, "import_battle",
          "INSERT INTO battles (id, created_at, model_a, model_b, session, "
          "status, source, record, tstamp, anony, language, tags, "
          "conv_metadata) VALUES ($1, $2, $3, $4, 'import', 'voted', "
          "'import', $5, $6, $7, $8, $9, $10)",
          "tItttdittt", r->id, r->created_at, r->model_a, r->model_b,
          r->record, r->tstamp, r->anony, r->language, r->tags,
          r->conv_metadata) < 0 ||
      pg_run_prepared(ps, PG_IMPORT_VOTE, "import_vote",
                      "INSERT INTO votes (battle_id, winner, created_at, "
                      "counted, reason, k, reasons, comment) VALUES ($1, $2, "
                      "$3, $4, $5, $6, $7, $8)",
                      "ttIitdtt", r->id, winner_name(r->w), r->created_at,
                      r->counted, r->reason, r->k, r->reasons,
                      r->comment) < 0)
    return -1;
  for (size_t i = 0; i < r->n_categories; i++)
    if (pg_run_prepared(ps, PG_IMPORT_CATEGORY, "import_category",
                        "INSERT INTO battle_categories (battle_id, category, "
                        "value, tagger, created_at) VALUES ($1, $2, $3, "
                        "'import', $4)",
                        "ttiI", r->id, r->categories[i].category,
                        r->categories[i].value ? 1 : 0, r->created_at) < 0)
      return -1;
  if (r->record && import_replaced(ps, r->id, r->record))
    return -1;
  if (!r->counted)
    return 0;
  return count_at_commit(ps, r->id, r->model_a, r->model_b, r->w);
}

/* ---- a walk over rows ---- */

/* One row of a walk (row `row` of r): 0 to go on, else the walk stops. */
typedef int (*walk_row_fn)(void *ctx, const PGresult *r, int row);

/* Send everything queued on a non-blocking connection: 0 or -1. */
static int flush_all(PGconn *db) {
  int f;
  while ((f = PQflush(db)) == 1) {
    struct pollfd p = {.fd = PQsocket(db), .events = POLLIN | POLLOUT};
    if (poll(&p, 1, -1) < 0 || ((p.revents & POLLIN) && !PQconsumeInput(db)))
      return -1;
  }
  return f;
}

/* Run sql (its n parameters as text in values) on the write connection
 * and hand each row to row as it arrives (libpq's single-row mode): one
 * statement, so one snapshot, and never every row in memory at once, as
 * SQLite's stepping of one statement. 0 once every row was handed on, -1
 * on a database error (kept for the error op) or when row stopped the
 * walk (the rows still coming are read and dropped). */
static int walk_rows(struct pg_store *ps, const char *sql, int n,
                     const char *const *values, walk_row_fn row, void *ctx) {
  PGconn *db = ps->db;
  if (!PQsendQueryParams(db, sql, n, NULL, values, NULL, NULL, 0)) {
    pg_keep_error(ps, NULL);
    return -1;
  }
  /* without single-row mode the rows come in one result: walked alike */
  PQsetSingleRowMode(db);
  int failed = flush_all(db) != 0, stopped = 0;
  if (failed)
    pg_keep_error(ps, NULL);
  PGresult *res;
  while ((res = PQgetResult(db))) {
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_SINGLE_TUPLE || s == PGRES_TUPLES_OK) {
      for (int i = 0; !stopped && !failed && i < PQntuples(res); i++)
        stopped = row(ctx, res, i) != 0;
    } else if (!failed) {
      pg_keep_error(ps, res);
      failed = 1;
    }
    PQclear(res);
  }
  if (!failed && !stopped)
    ps->err[0] = ps->sqlstate[0] = '\0';
  return failed || stopped ? -1 : 0;
}

/* ---- export ---- */

/* What one vote of an export borrows from its row: its turns and its
 * categories, parsed from the JSON the row has them in. Reused from row
 * to row. */
struct export_walk {
  int with_turns;
  store_export_vote_fn fn;
  void *ctx;
  struct store_turn_text *texts;
  size_t cap_texts;
  struct category_verdict *cats;
  size_t cap_cats;
};

/* The string of element i of the JSON array a, or NULL (for null). */
static const char *json_text_at(json_t *a, size_t i) {
  return json_string_value(json_array_get(a, i));
}

/* The turns of text (a JSON array of [prompt, answer a, answer b], or
 * NULL for none) into w->texts, borrowing from *doc (set, the caller's
 * to drop): how many, or -1. */
static long parse_turns(struct export_walk *w, const char *text,
                        json_t **doc) {
  if (!text)
    return 0;
  if (!(*doc = json_loads(text, 0, NULL)))
    return -1;
  size_t n = json_array_size(*doc);
  for (size_t i = 0; i < n; i++) {
    struct store_turn_text *t =
        array_grow(w->texts, i, &w->cap_texts, sizeof *t, 8);
    if (!t)
      return -1;
    w->texts = t;
    json_t *turn = json_array_get(*doc, i);
    w->texts[i] = (struct store_turn_text){
        json_text_at(turn, 0), {json_text_at(turn, 1), json_text_at(turn, 2)}};
  }
  return (long)n;
}

/* The verdicts of text (a JSON array of [category, value], or NULL for
 * none) into w->cats, borrowing from *doc: how many, or -1. */
static long parse_categories(struct export_walk *w, const char *text,
                             json_t **doc) {
  if (!text)
    return 0;
  if (!(*doc = json_loads(text, 0, NULL)))
    return -1;
  size_t n = json_array_size(*doc);
  for (size_t i = 0; i < n; i++) {
    struct category_verdict *c =
        array_grow(w->cats, i, &w->cap_cats, sizeof *c, 8);
    if (!c)
      return -1;
    w->cats = c;
    json_t *v = json_array_get(*doc, i);
    w->cats[i] = (struct category_verdict){
        json_text_at(v, 0), (int)json_integer_value(json_array_get(v, 1))};
  }
  return (long)n;
}

static int export_vote_row(void *ctx, const PGresult *r, int row) {
  struct export_walk *w = ctx;
  struct store_export_vote v = {0};
  json_t *turns = NULL, *cats = NULL;
  int rc = -1;
  pg_row(r, row, "tttttItitltttitttt", &v.id, &v.model_a, &v.model_b,
         &v.winner, &v.session, &v.voted_at, &v.record, &v.counted,
         &v.reason, &v.n_turns, &v.language, &v.tags, &v.conv_metadata,
         &v.anony, &v.reasons, &v.comment, &v.replaced, &v.replacements);
  /* an imported battle is written as it came: no categories read */
  long nc = parse_categories(w, pg_col_text(r, row, 18), &cats);
  long nt = w->with_turns ? parse_turns(w, pg_col_text(r, row, 19), &turns) : 0;
  if (nc < 0 || nt < 0)
    goto out;
  if (nc) {
    v.categories = w->cats;
    v.n_categories = (size_t)nc;
  }
  if (w->with_turns) {
    v.turns = w->texts;
    v.n_texts = (size_t)nt;
  }
  rc = w->fn(w->ctx, &v);
out:
  json_decref(turns);
  json_decref(cats);
  return rc;
}

int pg_export_votes(void *cls, int with_turns, store_export_vote_fn fn,
                    void *ctx) {
  struct pg_store *ps = cls;
  struct export_walk w = {.with_turns = with_turns, .fn = fn, .ctx = ctx};
  const char *values[1] = {with_turns ? "true" : "false"};
  /* a battle's turns and categories come with its vote, as JSON (one
   * statement, not two more for every vote) */
  int rc = walk_rows(
      ps,
      "SELECT b.id, b.model_a, b.model_b, v.winner, b.session, "
      "v.created_at, b.record, v.counted, v.reason, (SELECT count(*) FROM "
      "turns t WHERE t.battle_id = b.id), b.language, b.tags, "
      "b.conv_metadata, b.anony, v.reasons, v.comment, "
      PG_REPLACED_COLUMNS("b.id") ", CASE WHEN b.record IS NULL THEN "
      "(SELECT json_agg(json_build_array(category, value) ORDER BY "
      "category)::text FROM battle_categories c WHERE c.battle_id = b.id) "
      "END, CASE WHEN $1::boolean THEN (SELECT json_agg(json_build_array("
      "prompt, answer_a, answer_b) ORDER BY turn)::text FROM turns t WHERE "
      "t.battle_id = b.id) END FROM votes v JOIN battles b ON b.id = "
      "v.battle_id ORDER BY v.seq",
      1, values, export_vote_row, &w);
  free(w.texts);
  free(w.cats);
  return rc;
}

/* The judgments' walk: the export's callback and its context. */
struct judgment_walk {
  store_export_judgment_fn fn;
  void *ctx;
};

static int export_judgment_row(void *ctx, const PGresult *r, int row) {
  struct judgment_walk *w = ctx;
  struct store_export_judgment j = {0};
  pg_row(r, row, "tttttIil", &j.id, &j.model_a, &j.model_b, &j.verdict,
         &j.judge, &j.created_at, &j.inconsistent, &j.n_turns);
  return w->fn(w->ctx, &j);
}

int pg_export_judgments(void *cls, store_export_judgment_fn fn, void *ctx) {
  struct pg_store *ps = cls;
  struct judgment_walk w = {fn, ctx};
  return walk_rows(
      ps,
      "SELECT b.id, b.model_a, b.model_b, j.verdict, j.judge, j.created_at, "
      "j.inconsistent, (SELECT count(*) FROM turns t WHERE t.battle_id = "
      "b.id) FROM judgments j JOIN battles b ON b.id = j.battle_id WHERE "
      "j.verdict IS NOT NULL ORDER BY j.id",
      0, NULL, export_judgment_row, &w);
}
