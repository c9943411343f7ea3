/* Statements of the PostgreSQL engine: parameters from a format string,
 * prepared statements of the hot paths, the read connection's lock
 * around a read, chunked reads, and the readers of a result's rows. */
#include "storage/postgres/internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The parameters of one statement as libpq takes them: values[i] points
 * into num[i] for a number, at the caller's text for a 't'. */
struct pg_params {
  int n;
  const char *values[PG_MAX_PARAMS];
  char num[PG_MAX_PARAMS][32];
};

/* Fill p from fmt and ap, the parameters from first (1-based) on:
 * 0, or -1 for a bad format (logged). */
static int params_from(struct pg_params *p, int first, const char *fmt,
                       va_list ap) {
  p->n = first - 1;
  for (int i = 0; fmt[i]; i++) {
    int k = p->n;
    if (k >= PG_MAX_PARAMS) {
      log_error("msg=\"too many statement parameters\" fmt=\"%s\"",
                log_q(fmt));
      return -1;
    }
    char *num = p->num[k];
    switch (fmt[i]) {
    case 't':
      p->values[k] = va_arg(ap, const char *);
      break;
    case 'i':
      snprintf(num, sizeof p->num[k], "%d", va_arg(ap, int));
      p->values[k] = num;
      break;
    case 'b':
      p->values[k] = va_arg(ap, int) ? "true" : "false";
      break;
    case 'l':
      snprintf(num, sizeof p->num[k], "%ld", va_arg(ap, long));
      p->values[k] = num;
      break;
    case 'I':
      snprintf(num, sizeof p->num[k], "%" PRId64, va_arg(ap, int64_t));
      p->values[k] = num;
      break;
    case 'd':
      /* 17 significant digits name every double exactly: a rating sent
       * is the rating stored, bit for bit */
      snprintf(num, sizeof p->num[k], "%.17g", va_arg(ap, double));
      p->values[k] = num;
      break;
    case 'n':
      p->values[k] = NULL;
      break;
    default:
      log_error("msg=\"bad parameter format\" fmt=\"%s\"", log_q(fmt));
      return -1;
    }
    p->n++;
  }
  return 0;
}

/* PostgreSQL's primary message of res and its SQLSTATE, or conn's own
 * message when res has none, into msg (PG_ERROR_MAX) and state (6). The
 * message never holds the connection string: libpq does not echo it. */
static void error_of(PGconn *conn, const PGresult *res, char *msg,
                     char *state) {
  const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                      : NULL;
  const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  if (!m || !*m)
    m = res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
                                          : PQerrorMessage(conn);
  if (!m || !*m)
    m = "unknown error";
  snprintf(msg, PG_ERROR_MAX, "%s", m);
  /* libpq's messages end with a newline */
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
    msg[--n] = '\0';
  snprintf(state, 6, "%s", s ? s : "");
}

void pg_keep_error(struct pg_store *ps, const PGresult *res) {
  error_of(ps->db, res, ps->err, ps->sqlstate);
}

const char *pg_error(struct pg_store *ps) { return ps->err; }

/* res when it is a success, else NULL (res cleared) with the error. */
static PGresult *checked(struct pg_store *ps, PGresult *res, const char *op) {
  ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
    ps->err[0] = '\0';
    ps->sqlstate[0] = '\0';
    return res;
  }
  pg_keep_error(ps, res);
  if (op)
    log_error("msg=\"database write failed\" op=%s sqlstate=%s err=\"%s\"",
              op, ps->sqlstate[0] ? ps->sqlstate : "-", log_q(ps->err));
  PQclear(res);
  return NULL;
}

/* The write connection, re-established when libpq found it broken (a
 * restarted server, a failover to another host of a multi-host
 * conninfo). Only between transactions: a transaction's work on a lost
 * connection is lost with it, and the commit says so. */
void pg_write_conn_check(struct pg_store *ps) {
  if (PQstatus(ps->db) == CONNECTION_OK ||
      PQtransactionStatus(ps->db) == PQTRANS_INTRANS)
    return;
  PQreset(ps->db);
  memset(ps->prepared, 0, sizeof ps->prepared);
  ps->lock_wait = -1;
  if (PQstatus(ps->db) == CONNECTION_OK)
    log_info("msg=\"reconnected to the database\"");
}

static PGresult *exec_v(struct pg_store *ps, const char *op, const char *sql,
                        const char *fmt, va_list ap) {
  struct pg_params p;
  if (params_from(&p, 1, fmt, ap)) {
    snprintf(ps->err, sizeof ps->err, "bad parameter format");
    return NULL;
  }
  pg_write_conn_check(ps);
  return checked(ps,
                 PQexecParams(ps->db, sql, p.n, NULL, p.values, NULL, NULL,
                              0),
                 op);
}

PGresult *pg_exec(struct pg_store *ps, const char *op, const char *sql,
                  const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = exec_v(ps, op, sql, fmt, ap);
  va_end(ap);
  return r;
}

static PGresult *prepared_v(struct pg_store *ps, int idx, const char *op,
                            const char *sql, const char *fmt, va_list ap) {
  struct pg_params p;
  if (idx < 0 || idx >= PG_STMT_COUNT || params_from(&p, 1, fmt, ap)) {
    snprintf(ps->err, sizeof ps->err, "bad statement");
    return NULL;
  }
  pg_write_conn_check(ps);
  char name[16];
  snprintf(name, sizeof name, "agon_%d", idx);
  if (!ps->prepared[idx]) {
    PGresult *r = checked(ps, PQprepare(ps->db, name, sql, 0, NULL), op);
    if (!r)
      return NULL;
    PQclear(r);
    ps->prepared[idx] = 1;
  }
  return checked(ps,
                 PQexecPrepared(ps->db, name, p.n, p.values, NULL, NULL, 0),
                 op);
}

PGresult *pg_prepared(struct pg_store *ps, int idx, const char *op,
                      const char *sql, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = prepared_v(ps, idx, op, sql, fmt, ap);
  va_end(ap);
  return r;
}

/* The rows a command changed, and r cleared; -1 for NULL. */
static long changes(PGresult *r) {
  if (!r)
    return -1;
  long n = atol(PQcmdTuples(r));
  PQclear(r);
  return n;
}

long pg_run(struct pg_store *ps, const char *op, const char *sql,
            const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = exec_v(ps, op, sql, fmt, ap);
  va_end(ap);
  return changes(r);
}

long pg_run_prepared(struct pg_store *ps, int idx, const char *op,
                     const char *sql, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  PGresult *r = prepared_v(ps, idx, op, sql, fmt, ap);
  va_end(ap);
  return changes(r);
}

/* Run sql on the read connection, read_lock held by the caller, with the
 * parameters p: the result, or NULL (logged, naming op). */
static PGresult *read_locked(struct pg_store *ps, const char *op,
                             const char *sql, const struct pg_params *p) {
  if (PQstatus(ps->rdb) != CONNECTION_OK)
    PQreset(ps->rdb);
  PGresult *r =
      PQexecParams(ps->rdb, sql, p->n, NULL, p->values, NULL, NULL, 0);
  ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
    return r;
  char state[6];
  error_of(ps->rdb, r, ps->rerr, state);
  log_error("msg=\"database read failed\" op=%s sqlstate=%s err=\"%s\"",
            op ? op : "-", state[0] ? state : "-", log_q(ps->rerr));
  PQclear(r);
  return NULL;
}

PGresult *pg_read(struct pg_store *ps, const char *op, const char *sql,
                  const char *fmt, ...) {
  struct pg_params p;
  va_list ap;
  va_start(ap, fmt);
  int bad = params_from(&p, 1, fmt, ap);
  va_end(ap);
  if (bad)
    return NULL;
  pthread_mutex_lock(&ps->read_lock);
  PGresult *r = read_locked(ps, op, sql, &p);
  pthread_mutex_unlock(&ps->read_lock);
  return r;
}

int pg_read_chunks(struct pg_store *ps, const char *op, const char *sql,
                   pg_chunk_row_fn row, void *ctx, const char *fmt, ...) {
  struct pg_params p;
  va_list ap;
  va_start(ap, fmt);
  int bad = params_from(&p, 3, fmt, ap);
  va_end(ap);
  if (bad)
    return -1;
  char after[32] = "0", size[32];
  snprintf(size, sizeof size, "%d", PG_READ_CHUNK);
  p.values[0] = after;
  p.values[1] = size;
  for (;;) {
    pthread_mutex_lock(&ps->read_lock);
    PGresult *r = read_locked(ps, op, sql, &p);
    pthread_mutex_unlock(&ps->read_lock);
    if (!r)
      return -1;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      if (row(ctx, r, i)) {
        PQclear(r);
        return -1;
      }
    }
    if (n > 0)
      snprintf(after, sizeof after, "%s", PQgetvalue(r, n - 1, 0));
    PQclear(r);
    if (n < PG_READ_CHUNK)
      return 0;
  }
}

int pg_lock_wait(struct pg_store *ps, int brief) {
  brief = brief ? 1 : 0;
  if (ps->lock_wait == brief)
    return 0;
  /* SET, not SET LOCAL: it holds past the commit, and a rollback (to a
   * savepoint too) undoes it, which rollback and savepoint_rollback
   * note as unknown */
  if (pg_run(ps, NULL,
             brief ? "SET lock_timeout = '" PG_LOCK_WAIT_BRIEF "'"
                   : "SET lock_timeout = 0",
             "") < 0)
    return -1;
  ps->lock_wait = brief;
  return 0;
}

/* ---- a result's rows ---- */

const char *pg_col_text(const PGresult *r, int row, int col) {
  if (PQgetisnull(r, row, col))
    return NULL;
  return PQgetvalue(r, row, col);
}

char *pg_col_dup(const PGresult *r, int row, int col) {
  const char *t = pg_col_text(r, row, col);
  return t ? strdup(t) : NULL;
}

int pg_col_null(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col);
}

int64_t pg_col_int64(const PGresult *r, int row, int col) {
  const char *t = pg_col_text(r, row, col);
  if (!t)
    return 0;
  /* a boolean reads as 1 or 0 */
  if (*t == 't' || *t == 'f')
    return *t == 't';
  return strtoll(t, NULL, 10);
}

int pg_col_int(const PGresult *r, int row, int col) {
  return (int)pg_col_int64(r, row, col);
}

long pg_col_long(const PGresult *r, int row, int col) {
  return (long)pg_col_int64(r, row, col);
}

double pg_col_double(const PGresult *r, int row, int col) {
  const char *t = pg_col_text(r, row, col);
  /* PostgreSQL 12 and later print a double in its shortest exact form:
   * strtod gives back the very same double */
  return t ? strtod(t, NULL) : 0;
}

void pg_row(const PGresult *r, int row, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (int c = 0; fmt[c]; c++) {
    switch (fmt[c]) {
    case 't':
      *va_arg(ap, const char **) = pg_col_text(r, row, c);
      break;
    case 'i':
      *va_arg(ap, int *) = pg_col_int(r, row, c);
      break;
    case 'l':
      *va_arg(ap, long *) = pg_col_long(r, row, c);
      break;
    case 'I':
      *va_arg(ap, int64_t *) = pg_col_int64(r, row, c);
      break;
    case 'd':
      *va_arg(ap, double *) = pg_col_double(r, row, c);
      break;
    default: /* '-': a column not read */
      break;
    }
  }
  va_end(ap);
}

int pg_text_array(const char *const *v, size_t n, char *out, size_t len) {
  size_t o = 0;
  if (len < 3)
    return -1;
  out[o++] = '{';
  for (size_t i = 0; i < n; i++) {
    if (i) {
      if (o + 1 >= len)
        return -1;
      out[o++] = ',';
    }
    if (o + 1 >= len)
      return -1;
    out[o++] = '"';
    for (const char *c = v[i]; *c; c++) {
      if (o + 3 >= len)
        return -1;
      if (*c == '"' || *c == '\\')
        out[o++] = '\\';
      out[o++] = *c;
    }
    if (o + 1 >= len)
      return -1;
    out[o++] = '"';
  }
  if (o + 2 > len)
    return -1;
  out[o++] = '}';
  out[o] = '\0';
  return 0;
}
