/* Statements of the SQLite engine: preparing them with their parameters
 * bound, running those that return no rows, reading text columns, and the
 * read connection's lock around a read. */
#include "storage/sqlite/internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Bind fmt's values from ap to s's parameters first, first + 1, ... */
static int bind_from(sqlite3_stmt *s, int first, const char *fmt,
                     va_list ap) {
  for (int i = 0; fmt[i]; i++) {
    int p = first + i, rc;
    switch (fmt[i]) {
    case 't':
      /* a NULL text binds NULL (sqlite3_bind_text's own rule) */
      rc = sqlite3_bind_text(s, p, va_arg(ap, const char *), -1,
                             SQLITE_STATIC);
      break;
    case 'i':
      rc = sqlite3_bind_int(s, p, va_arg(ap, int));
      break;
    case 'l':
      rc = sqlite3_bind_int64(s, p, va_arg(ap, long));
      break;
    case 'I':
      rc = sqlite3_bind_int64(s, p, va_arg(ap, int64_t));
      break;
    case 'd':
      rc = sqlite3_bind_double(s, p, va_arg(ap, double));
      break;
    default:
      log_error("msg=\"bad bind format\" fmt=\"%s\"", log_q(fmt));
      return -1;
    }
    if (rc != SQLITE_OK)
      return -1;
  }
  return 0;
}

static int bind_args(sqlite3_stmt *s, const char *fmt, va_list ap) {
  return bind_from(s, 1, fmt, ap);
}

int sqlite_bind(sqlite3_stmt *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = bind_args(s, fmt, ap);
  va_end(ap);
  return rc;
}

/* sql prepared on db and bound from fmt and ap; NULL on error. */
static sqlite3_stmt *stmt_new_v(sqlite3 *db, const char *sql, const char *fmt,
                                va_list ap) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
      bind_args(s, fmt, ap)) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

sqlite3_stmt *sqlite_stmt_new(sqlite3 *db, const char *sql, const char *fmt,
                              ...) {
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *s = stmt_new_v(db, sql, fmt, ap);
  va_end(ap);
  return s;
}

sqlite3_stmt *sqlite_stmt_next(sqlite3_stmt *done, const char *sql,
                               const char *fmt, ...) {
  sqlite3 *db = sqlite3_db_handle(done);
  sqlite3_finalize(done);
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *s = stmt_new_v(db, sql, fmt, ap);
  va_end(ap);
  return s;
}

sqlite3_stmt *sqlite_stmt(struct sqlite_store *ss, int idx, const char *sql,
                          const char *fmt, ...) {
  sqlite3_stmt **s = &ss->stmts[idx];
  if (!*s) {
    if (sqlite3_prepare_v3(ss->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
                           NULL) != SQLITE_OK) {
      *s = NULL;
      return NULL;
    }
  } else {
    sqlite3_reset(*s);
    sqlite3_clear_bindings(*s);
  }
  va_list ap;
  va_start(ap, fmt);
  int rc = bind_args(*s, fmt, ap);
  va_end(ap);
  return rc ? NULL : *s;
}

sqlite3_stmt *sqlite_read_begin(struct sqlite_store *ss, const char *sql,
                                const char *fmt, ...) {
  pthread_mutex_lock(&ss->read_lock);
  va_list ap;
  va_start(ap, fmt);
  sqlite3_stmt *s = stmt_new_v(ss->rdb, sql, fmt, ap);
  va_end(ap);
  return s;
}

void sqlite_read_end(struct sqlite_store *ss, sqlite3_stmt *s) {
  sqlite3_finalize(s);
  pthread_mutex_unlock(&ss->read_lock);
}

int sqlite_read_chunks(struct sqlite_store *ss, const char *sql,
                       sqlite_chunk_row_fn row, void *ctx, const char *fmt,
                       ...) {
  int64_t after = 0;
  for (;;) {
    long rows = 0;
    int r = SQLITE_ERROR;
    pthread_mutex_lock(&ss->read_lock);
    sqlite3_stmt *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int bad = sqlite3_prepare_v2(ss->rdb, sql, -1, &s, NULL) != SQLITE_OK ||
              sqlite3_bind_int64(s, 1, after) != SQLITE_OK ||
              sqlite3_bind_int(s, 2, SQLITE_READ_CHUNK) != SQLITE_OK ||
              bind_from(s, 3, fmt, ap);
    va_end(ap);
    if (!bad) {
      while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        rows++;
        after = sqlite3_column_int64(s, 0);
        if (row(ctx, s)) {
          r = SQLITE_ABORT;
          break;
        }
      }
    }
    sqlite3_finalize(s);
    pthread_mutex_unlock(&ss->read_lock);
    if (r != SQLITE_DONE)
      return -1;
    if (rows < SQLITE_READ_CHUNK)
      return 0;
  }
}

int sqlite_step_done(sqlite3_stmt *s, const char *op) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && op)
    log_error("msg=\"database write failed\" op=%s err=\"%s\"", op,
              log_q(sqlite3_errmsg(sqlite3_db_handle(s))));
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : -1;
}

void sqlite_row(sqlite3_stmt *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (int c = 0; fmt[c]; c++) {
    switch (fmt[c]) {
    case 't':
      *va_arg(ap, const char **) = sqlite_text(s, c);
      break;
    case 'i':
      *va_arg(ap, int *) = sqlite3_column_int(s, c);
      break;
    case 'l':
      *va_arg(ap, long *) = (long)sqlite3_column_int64(s, c);
      break;
    case 'I':
      *va_arg(ap, int64_t *) = sqlite3_column_int64(s, c);
      break;
    case 'd':
      *va_arg(ap, double *) = sqlite3_column_double(s, c);
      break;
    default: /* '-': a column not read */
      break;
    }
  }
  va_end(ap);
}

const char *sqlite_text(sqlite3_stmt *s, int col) {
  return (const char *)sqlite3_column_text(s, col);
}

char *sqlite_text_dup(sqlite3_stmt *s, int col) {
  const char *t = sqlite_text(s, col);
  return t ? strdup(t) : NULL;
}
