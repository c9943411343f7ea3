/* Every row of every table, read and written for agon migrate
 * (storage/rows.h): the SQLite side. */
#include "storage/sqlite/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* Columns of one table, at most (ours have 23 at most). */
#define MAX_COLUMNS 256

/* The bytes of an INSERT's SQL, at most. */
#define MAX_INSERT_SQL 65536

static int known_table(const struct store_table *tables, size_t n,
                       const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(tables[i].name, name))
      return 1;
  return 0;
}

/* Every table of the file is one of tables. Read connection, in the read
 * transaction. */
static int all_known(struct sqlite_store *ss, const struct store_table *tables,
                     size_t n, char *err, size_t errlen) {
  sqlite3_stmt *s = sqlite_stmt_new(
      ss->rdb,
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT "
      "LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      "");
  if (!s) {
    snprintf(err, errlen, "cannot list the tables: %s",
             sqlite3_errmsg(ss->rdb));
    return -1;
  }
  int rc = 0, r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    const char *name = sqlite_text(s, 0);
    if (name && !known_table(tables, n, name)) {
      snprintf(err, errlen,
               "table '%s' is not in the list of tables to copy "
               "(storage/rows.c)",
               name);
      rc = -1;
      break;
    }
  }
  if (rc == 0 && r != SQLITE_DONE) {
    snprintf(err, errlen, "cannot list the tables: %s",
             sqlite3_errmsg(ss->rdb));
    rc = -1;
  }
  sqlite3_finalize(s);
  return rc;
}

/* Every row of t, in key order, to fn. */
static int read_table(struct sqlite_store *ss, const struct store_table *t,
                      size_t index, store_row_fn fn, void *ctx, char *err,
                      size_t errlen) {
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY %s", t->name,
           t->stored_order ? "rowid" : t->key);
  sqlite3_stmt *s = sqlite_stmt_new(ss->rdb, sql, "");
  if (!s) {
    snprintf(err, errlen, "cannot read table '%s': %s", t->name,
             sqlite3_errmsg(ss->rdb));
    return -1;
  }
  int rc = -1;
  size_t n = (size_t)sqlite3_column_count(s);
  const char **names = calloc(n ? n : 1, sizeof *names);
  struct store_value *values = calloc(n ? n : 1, sizeof *values);
  if (!names || !values || n > MAX_COLUMNS) {
    snprintf(err, errlen, "cannot read table '%s': %s", t->name,
             n > MAX_COLUMNS ? "too many columns" : "out of memory");
    goto out;
  }
  for (size_t c = 0; c < n; c++)
    names[c] = sqlite3_column_name(s, (int)c);
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    for (size_t c = 0; c < n; c++) {
      struct store_value *v = &values[c];
      memset(v, 0, sizeof *v);
      switch (sqlite3_column_type(s, (int)c)) {
      case SQLITE_NULL:
        v->type = STORE_VALUE_NULL;
        break;
      case SQLITE_INTEGER:
        v->type = STORE_VALUE_INT;
        v->i = sqlite3_column_int64(s, (int)c);
        break;
      case SQLITE_FLOAT:
        v->type = STORE_VALUE_REAL;
        v->d = sqlite3_column_double(s, (int)c);
        break;
      case SQLITE_TEXT:
        v->type = STORE_VALUE_TEXT;
        v->text = (const char *)sqlite3_column_text(s, (int)c);
        v->len = (size_t)sqlite3_column_bytes(s, (int)c);
        if (!v->text) {
          snprintf(err, errlen, "cannot read table '%s': out of memory",
                   t->name);
          goto out;
        }
        break;
      default:
        snprintf(err, errlen, "table '%s', column '%s': a blob cannot be "
                 "copied", t->name, names[c]);
        goto out;
      }
    }
    struct store_row row = {.names = names, .values = values, .n = n};
    if (fn(ctx, index, &row))
      goto out; /* stopped by fn: err untouched */
  }
  if (r != SQLITE_DONE) {
    snprintf(err, errlen, "cannot read table '%s': %s", t->name,
             sqlite3_errmsg(ss->rdb));
    goto out;
  }
  rc = fn(ctx, index, NULL) ? -1 : 0;
out:
  free(names);
  free(values);
  sqlite3_finalize(s);
  return rc;
}

int sqlite_rows_read(void *cls, const struct store_table *tables, size_t n,
                     store_row_fn fn, void *ctx, char *err, size_t errlen) {
  struct sqlite_store *ss = cls;
  int rc = -1;
  pthread_mutex_lock(&ss->read_lock);
  /* one read transaction: its first read fixes the snapshot (WAL) */
  if (sqlite3_exec(ss->rdb, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot begin a read: %s", sqlite3_errmsg(ss->rdb));
    goto out;
  }
  if (all_known(ss, tables, n, err, errlen))
    goto end;
  for (size_t i = 0; i < n; i++)
    if (!tables[i].transient &&
        read_table(ss, &tables[i], i, fn, ctx, err, errlen))
      goto end;
  rc = 0;
end:
  sqlite3_exec(ss->rdb, "COMMIT", NULL, NULL, NULL);
out:
  pthread_mutex_unlock(&ss->read_lock);
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

/* The INSERT for t with row's columns into b. */
static int insert_sql(struct buf *b, const struct store_table *t,
                      const struct store_row *row) {
  if (buf_append_str(b, t->seeded ? "INSERT OR REPLACE INTO " : "INSERT INTO ")
      || add_identifier(b, t->name) || buf_append_str(b, " ("))
    return -1;
  for (size_t c = 0; c < row->n; c++)
    if ((c && buf_append_str(b, ", ")) || add_identifier(b, row->names[c]))
      return -1;
  if (buf_append_str(b, ") VALUES ("))
    return -1;
  for (size_t c = 0; c < row->n; c++)
    if (buf_append_str(b, c ? ", ?" : "?"))
      return -1;
  return buf_append_str(b, ")");
}

/* One row into s's parameters. */
static int bind_row(sqlite3_stmt *s, const struct store_row *row) {
  for (size_t c = 0; c < row->n; c++) {
    const struct store_value *v = &row->values[c];
    int p = (int)c + 1, r;
    switch (v->type) {
    case STORE_VALUE_INT:
      r = sqlite3_bind_int64(s, p, v->i);
      break;
    case STORE_VALUE_REAL:
      r = sqlite3_bind_double(s, p, v->d);
      break;
    case STORE_VALUE_TEXT:
      r = sqlite3_bind_text64(s, p, v->text, v->len, SQLITE_STATIC,
                              SQLITE_UTF8);
      break;
    default:
      r = sqlite3_bind_null(s, p);
      break;
    }
    if (r != SQLITE_OK)
      return -1;
  }
  return 0;
}

int sqlite_rows_write(void *cls, const struct store_table *t,
                      const struct store_row *rows, size_t n, char *err,
                      size_t errlen) {
  struct sqlite_store *ss = cls;
  if (!n)
    return 0;
  struct buf sql;
  buf_init(&sql, MAX_INSERT_SQL);
  int rc = -1;
  if (rows[0].n == 0 || rows[0].n > MAX_COLUMNS || insert_sql(&sql, t, &rows[0])) {
    snprintf(err, errlen, "table '%s': cannot build its insert", t->name);
    goto out;
  }
  /* the statement of the last call, when it was for the same columns */
  if (!ss->rows_sql || strcmp(ss->rows_sql, sql.data)) {
    sqlite3_finalize(ss->rows_stmt);
    ss->rows_stmt = NULL;
    free(ss->rows_sql);
    ss->rows_sql = NULL;
    if (sqlite3_prepare_v2(ss->db, sql.data, -1, &ss->rows_stmt, NULL) !=
        SQLITE_OK) {
      snprintf(err, errlen, "table '%s': %s", t->name,
               sqlite3_errmsg(ss->db));
      sqlite3_finalize(ss->rows_stmt);
      ss->rows_stmt = NULL;
      goto out;
    }
    ss->rows_sql = strdup(sql.data);
  }
  for (size_t i = 0; i < n; i++) {
    sqlite3_stmt *s = ss->rows_stmt;
    if (rows[i].n != rows[0].n || bind_row(s, &rows[i])) {
      snprintf(err, errlen, "table '%s': cannot bind a row", t->name);
      goto out;
    }
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (r != SQLITE_DONE) {
      snprintf(err, errlen, "table '%s': %s", t->name,
               sqlite3_errmsg(ss->db));
      goto out;
    }
  }
  /* AUTOINCREMENT: sqlite_sequence follows the largest rowid inserted, so
   * t->serial needs nothing more here */
  rc = 0;
out:
  buf_release(&sql);
  return rc;
}
