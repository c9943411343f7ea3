/* Every row of every table, read and written for agon migrate
 * (storage/rows.h): the PostgreSQL side. The read is one REPEATABLE READ
 * transaction on the read connection (one snapshot of the whole
 * database), each table through a cursor a batch of rows at a time; the
 * write inserts a batch in one statement on the write connection, in the
 * caller's transaction. */
#include "storage/postgres/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* Rows fetched from a cursor at once. */
#define FETCH_ROWS 512

/* Columns of one table, at most. */
#define MAX_COLUMNS 256

/* Parameters of one statement, at most (the protocol's bound is 65535). */
#define MAX_WRITE_PARAMS 32767

/* The bytes of an INSERT's SQL, at most. */
#define MAX_INSERT_SQL (4u << 20)

/* The type OIDs of pg_type that the schema uses (server/catalog/pg_type.dat). */
enum {
  OID_BOOL = 16,
  OID_NAME = 19,
  OID_INT8 = 20,
  OID_INT2 = 21,
  OID_INT4 = 23,
  OID_TEXT = 25,
  OID_OID = 26,
  OID_FLOAT4 = 700,
  OID_FLOAT8 = 701,
  OID_BPCHAR = 1042,
  OID_VARCHAR = 1043
};

/* The engine's own tables: not the arena's, never copied. */
static const char *const own_tables[] = {"schema_version"};

/* dedup_stats: SQLite's one row (id 1) is spread over 16 here (see
 * schema/postgres/0001_init.sql); the figures are the sums. */
static const char dedup_read[] =
    "SELECT 1::integer AS id, coalesce(sum(prompts), 0)::bigint AS prompts, "
    "coalesce(sum(left_out), 0)::bigint AS left_out FROM dedup_stats";

static int known_table(const struct store_table *tables, size_t n,
                       const char *name) {
  for (size_t i = 0; i < sizeof own_tables / sizeof own_tables[0]; i++)
    if (!strcmp(own_tables[i], name))
      return 1;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(tables[i].name, name))
      return 1;
  return 0;
}

/* Run sql on the read connection (read_lock held): the result, or NULL
 * with the reason in err. */
static PGresult *read_exec(struct pg_store *ps, const char *sql,
                           const char *what, char *err, size_t errlen) {
  PGresult *r = PQexec(ps->rdb, sql);
  ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
    return r;
  const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  snprintf(err, errlen, "%s: %s", what,
           m ? m : PQerrorMessage(ps->rdb));
  size_t n = strlen(err);
  while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
    err[--n] = '\0';
  PQclear(r);
  return NULL;
}

/* Every table of the database's schema is one of tables (or the
 * engine's own). */
static int all_known(struct pg_store *ps, const struct store_table *tables,
                     size_t n, char *err, size_t errlen) {
  PGresult *r = read_exec(ps,
                          "SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = current_schema() AND "
                          "table_type = 'BASE TABLE' ORDER BY table_name",
                          "cannot list the tables", err, errlen);
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *name = PQgetvalue(r, i, 0);
    if (!known_table(tables, n, name)) {
      snprintf(err, errlen,
               "table '%s' is not in the list of tables to copy "
               "(storage/rows.c)",
               name);
      rc = -1;
      break;
    }
  }
  PQclear(r);
  return rc;
}

/* Row i of r (FETCHed from t's cursor) as values. */
static int row_values(const PGresult *r, int i, const struct store_table *t,
                      const char *const *names, struct store_value *values,
                      size_t n, char *err, size_t errlen) {
  for (size_t c = 0; c < n; c++) {
    struct store_value *v = &values[c];
    memset(v, 0, sizeof *v);
    if (PQgetisnull(r, i, (int)c)) {
      v->type = STORE_VALUE_NULL;
      continue;
    }
    const char *text = PQgetvalue(r, i, (int)c);
    switch (PQftype(r, (int)c)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
      v->type = STORE_VALUE_INT;
      v->i = strtoll(text, NULL, 10);
      break;
    case OID_BOOL:
      v->type = STORE_VALUE_INT;
      v->i = text[0] == 't';
      break;
    case OID_FLOAT4:
    case OID_FLOAT8:
      /* PostgreSQL 12 and later print a double in its shortest exact
       * form: strtod gives back the very same double */
      v->type = STORE_VALUE_REAL;
      v->d = strtod(text, NULL);
      break;
    case OID_TEXT:
    case OID_VARCHAR:
    case OID_BPCHAR:
    case OID_NAME:
      v->type = STORE_VALUE_TEXT;
      v->text = text;
      v->len = (size_t)PQgetlength(r, i, (int)c);
      break;
    default:
      snprintf(err, errlen,
               "table '%s', column '%s': its type (oid %u) cannot be copied",
               t->name, names[c], (unsigned)PQftype(r, (int)c));
      return -1;
    }
  }
  return 0;
}

/* Every row of t, in key order, to fn (read_lock held, in the read
 * transaction). */
static int read_table(struct pg_store *ps, const struct store_table *t,
                      size_t index, store_row_fn fn, void *ctx, char *err,
                      size_t errlen) {
  char sql[4096], what[160];
  snprintf(what, sizeof what, "cannot read table '%s'", t->name);
  PGresult *r = NULL;
  if (!strcmp(t->name, "dedup_stats")) {
    snprintf(sql, sizeof sql, "DECLARE agon_rows NO SCROLL CURSOR FOR %s",
             dedup_read);
  } else if (t->stored_order) {
    /* in the order first stored (ord), without ord: it is the engine's */
    snprintf(sql, sizeof sql,
             "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY "
             "ordinal_position) FROM information_schema.columns WHERE "
             "table_schema = current_schema() AND table_name = '%s' AND "
             "column_name <> 'ord'",
             t->name); /* our own names: no quote in them */
    if (!(r = read_exec(ps, sql, what, err, errlen)))
      return -1;
    int fits = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) &&
               (size_t)snprintf(sql, sizeof sql,
                                "DECLARE agon_rows NO SCROLL CURSOR FOR "
                                "SELECT %s FROM \"%s\" ORDER BY ord",
                                PQgetvalue(r, 0, 0), t->name) < sizeof sql;
    PQclear(r);
    if (!fits) {
      snprintf(err, errlen, "%s: cannot list its columns", what);
      return -1;
    }
  } else {
    snprintf(sql, sizeof sql,
             "DECLARE agon_rows NO SCROLL CURSOR FOR SELECT * FROM \"%s\" "
             "ORDER BY %s",
             t->name, t->key);
  }
  r = read_exec(ps, sql, what, err, errlen);
  if (!r)
    return -1;
  PQclear(r);
  int rc = -1;
  const char **names = NULL;
  struct store_value *values = NULL;
  size_t n = 0;
  char fetch[64];
  snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM agon_rows", FETCH_ROWS);
  for (;;) {
    if (!(r = read_exec(ps, fetch, what, err, errlen)))
      goto out;
    if (!names) {
      n = (size_t)PQnfields(r);
      names = calloc(n ? n : 1, sizeof *names);
      values = calloc(n ? n : 1, sizeof *values);
      if (!names || !values || n > MAX_COLUMNS) {
        snprintf(err, errlen, "%s: %s", what,
                 n > MAX_COLUMNS ? "too many columns" : "out of memory");
        goto out;
      }
    }
    /* the names of this result (each batch has its own) */
    for (size_t c = 0; c < n; c++)
      names[c] = PQfname(r, (int)c);
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
      if (row_values(r, i, t, names, values, n, err, errlen))
        goto out;
      struct store_row row = {.names = names, .values = values, .n = n};
      if (fn(ctx, index, &row))
        goto out; /* stopped by fn: err untouched */
    }
    PQclear(r);
    r = NULL;
    if (rows < FETCH_ROWS)
      break;
  }
  rc = fn(ctx, index, NULL) ? -1 : 0;
out:
  PQclear(r);
  free(names);
  free(values);
  PQclear(PQexec(ps->rdb, "CLOSE agon_rows"));
  return rc;
}

int pg_rows_read(void *cls, const struct store_table *tables, size_t n,
                 store_row_fn fn, void *ctx, char *err, size_t errlen) {
  struct pg_store *ps = cls;
  int rc = -1;
  pthread_mutex_lock(&ps->read_lock);
  if (PQstatus(ps->rdb) != CONNECTION_OK)
    PQreset(ps->rdb);
  /* one snapshot for every table: what commits meanwhile is not seen */
  PGresult *r = read_exec(ps,
                          "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                          "cannot begin a read", err, errlen);
  if (!r)
    goto out;
  PQclear(r);
  if (all_known(ps, tables, n, err, errlen))
    goto end;
  for (size_t i = 0; i < n; i++)
    if (!tables[i].transient &&
        read_table(ps, &tables[i], i, fn, ctx, err, errlen))
      goto end;
  rc = 0;
end:
  PQclear(PQexec(ps->rdb, "ROLLBACK"));
out:
  pthread_mutex_unlock(&ps->read_lock);
  return rc;
}

/* name as a quoted SQL identifier, appended to b. */
static int add_identifier(struct buf *b, const char *name) {
  if (buf_append_str(b, "\""))
    return -1;
  for (const char *p = name; *p; p++)
    if (buf_append(b, p, 1) || (*p == '"' && buf_append(b, "\"", 1)))
      return -1;
  return buf_append_str(b, "\"");
}

/* Whether column name is one of t's key columns. */
static int in_key(const struct store_table *t, const char *name) {
  size_t len = strlen(name);
  for (const char *k = t->key; *k;) {
    k += strspn(k, ", ");
    size_t n = strcspn(k, ", ");
    if (n == len && !strncmp(k, name, n))
      return 1;
    k += n;
  }
  return 0;
}

/* The INSERT of rows n rows of t's columns (row's names) into b. A seeded
 * table's rows replace those with the same key. */
static int insert_sql(struct buf *b, const struct store_table *t,
                      const struct store_row *row, size_t rows) {
  if (buf_append_str(b, "INSERT INTO ") || add_identifier(b, t->name) ||
      buf_append_str(b, " ("))
    return -1;
  for (size_t c = 0; c < row->n; c++)
    if ((c && buf_append_str(b, ", ")) || add_identifier(b, row->names[c]))
      return -1;
  if (buf_append_str(b, ") VALUES "))
    return -1;
  size_t p = 1;
  for (size_t r = 0; r < rows; r++) {
    if (buf_append_str(b, r ? ", (" : "("))
      return -1;
    for (size_t c = 0; c < row->n; c++) {
      char num[24];
      snprintf(num, sizeof num, "%s$%zu", c ? ", " : "", p++);
      if (buf_append_str(b, num))
        return -1;
    }
    if (buf_append_str(b, ")"))
      return -1;
  }
  if (!t->seeded)
    return 0;
  if (buf_append_str(b, " ON CONFLICT (") || buf_append_str(b, t->key) ||
      buf_append_str(b, ") DO UPDATE SET "))
    return -1;
  int first = 1;
  for (size_t c = 0; c < row->n; c++) {
    if (in_key(t, row->names[c]))
      continue;
    if ((!first && buf_append_str(b, ", ")) ||
        add_identifier(b, row->names[c]) ||
        buf_append_str(b, " = EXCLUDED.") || add_identifier(b, row->names[c]))
      return -1;
    first = 0;
  }
  return first ? -1 : 0; /* a key only: nothing to replace */
}

/* The error of res on the write connection, kept for the `error` op,
 * into err naming t. */
static void write_error(struct pg_store *ps, const PGresult *res,
                        const struct store_table *t, char *err,
                        size_t errlen) {
  pg_keep_error(ps, res);
  snprintf(err, errlen, "table '%s': %s", t->name, pg_error(ps));
}

/* Run sql with params on the write connection: 0, or -1 with err. */
static int write_exec(struct pg_store *ps, const struct store_table *t,
                      const char *sql, int n, const char *const *values,
                      char *err, size_t errlen) {
  PGresult *r = PQexecParams(ps->db, sql, n, NULL, values, NULL, NULL, 0);
  ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;
  if (rc)
    write_error(ps, r, t, err, errlen);
  PQclear(r);
  return rc;
}

/* rows[0..n) as the text parameters of one statement: values (n * cols)
 * point at the rows' texts or at num's digits. */
static int params_of(const struct store_table *t, const struct store_row *rows,
                     size_t n, const char **values, char (*num)[32],
                     char *err, size_t errlen) {
  size_t cols = rows[0].n;
  for (size_t r = 0; r < n; r++) {
    if (rows[r].n != cols) {
      snprintf(err, errlen, "table '%s': rows of different columns",
               t->name);
      return -1;
    }
    for (size_t c = 0; c < cols; c++) {
      const struct store_value *v = &rows[r].values[c];
      size_t k = r * cols + c;
      switch (v->type) {
      case STORE_VALUE_INT:
        snprintf(num[k], sizeof num[k], "%" PRId64, v->i);
        values[k] = num[k];
        break;
      case STORE_VALUE_REAL:
        /* 17 significant digits: the same double arrives */
        snprintf(num[k], sizeof num[k], "%.17g", v->d);
        values[k] = num[k];
        break;
      case STORE_VALUE_TEXT:
        if (memchr(v->text, '\0', v->len)) {
          snprintf(err, errlen,
                   "table '%s', column '%s': a text with a NUL byte cannot "
                   "be stored in PostgreSQL",
                   t->name, rows[r].names[c]);
          return -1;
        }
        values[k] = v->text;
        break;
      default:
        values[k] = NULL;
        break;
      }
    }
  }
  return 0;
}

/* SQLite's dedup_stats row (id 1) into the 16 rows here: its figures in
 * row 1, the other rows' cleared, so that the sums are its figures. */
static int write_dedup(struct pg_store *ps, const struct store_table *t,
                       const struct store_row *rows, size_t n, char *err,
                       size_t errlen) {
  int64_t prompts = 0, left_out = 0;
  for (size_t r = 0; r < n; r++)
    for (size_t c = 0; c < rows[r].n; c++) {
      const struct store_value *v = &rows[r].values[c];
      if (v->type != STORE_VALUE_INT)
        continue;
      if (!strcmp(rows[r].names[c], "prompts"))
        prompts += v->i;
      else if (!strcmp(rows[r].names[c], "left_out"))
        left_out += v->i;
    }
  char p[32], l[32];
  snprintf(p, sizeof p, "%" PRId64, prompts);
  snprintf(l, sizeof l, "%" PRId64, left_out);
  const char *values[] = {p, l};
  return write_exec(ps, t,
                    "UPDATE dedup_stats SET prompts = CASE WHEN id = 1 THEN "
                    "$1::bigint ELSE 0 END, left_out = CASE WHEN id = 1 THEN "
                    "$2::bigint ELSE 0 END",
                    2, values, err, errlen);
}

/* New rows of t numbered past the largest t->serial there is. */
static int serial_past(struct pg_store *ps, const struct store_table *t,
                       char *err, size_t errlen) {
  struct buf sql;
  buf_init(&sql, 1024);
  int rc = -1;
  char lit[256];
  snprintf(lit, sizeof lit, "'%s'", t->name); /* our own names: no quote */
  if (buf_append_str(&sql, "SELECT setval(pg_get_serial_sequence(") ||
      buf_append_str(&sql, lit) || buf_append_str(&sql, ", '") ||
      buf_append_str(&sql, t->serial) ||
      buf_append_str(&sql, "'), m) FROM (SELECT max(") ||
      add_identifier(&sql, t->serial) || buf_append_str(&sql, ") AS m FROM ") ||
      add_identifier(&sql, t->name) ||
      buf_append_str(&sql, ") x WHERE m IS NOT NULL")) {
    snprintf(err, errlen, "table '%s': cannot build its sequence's update",
             t->name);
    goto out;
  }
  rc = write_exec(ps, t, sql.data, 0, NULL, err, errlen);
out:
  buf_release(&sql);
  return rc;
}

int pg_rows_write(void *cls, const struct store_table *t,
                  const struct store_row *rows, size_t n, char *err,
                  size_t errlen) {
  struct pg_store *ps = cls;
  if (!n)
    return 0;
  if (!strcmp(t->name, "dedup_stats"))
    return write_dedup(ps, t, rows, n, err, errlen);
  size_t cols = rows[0].n;
  if (!cols || cols > MAX_COLUMNS) {
    snprintf(err, errlen, "table '%s': %zu columns", t->name, cols);
    return -1;
  }
  size_t per = MAX_WRITE_PARAMS / cols; /* rows in one statement */
  const char **values = calloc(n * cols, sizeof *values);
  char(*num)[32] = calloc(n * cols, sizeof *num);
  struct buf sql;
  buf_init(&sql, MAX_INSERT_SQL);
  int rc = -1;
  if (!values || !num) {
    snprintf(err, errlen, "table '%s': out of memory", t->name);
    goto out;
  }
  if (params_of(t, rows, n, values, num, err, errlen))
    goto out;
  for (size_t at = 0; at < n; at += per) {
    size_t k = n - at < per ? n - at : per;
    buf_reset(&sql);
    if (insert_sql(&sql, t, &rows[at], k)) {
      snprintf(err, errlen, "table '%s': cannot build its insert", t->name);
      goto out;
    }
    if (write_exec(ps, t, sql.data, (int)(k * cols), values + at * cols, err,
                   errlen))
      goto out;
  }
  rc = t->serial ? serial_past(ps, t, err, errlen) : 0;
out:
  buf_release(&sql);
  free(values);
  free(num);
  return rc;
}
