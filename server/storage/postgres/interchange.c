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
  /* its outcome in its slices, as a live vote counts it: the keys from
   * the tags just stored, as the replay reads them */
  return pg_vote_slices(ps, r->id, r->model_a, r->model_b, r->w, NULL);
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
