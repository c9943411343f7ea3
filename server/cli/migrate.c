/* agon migrate: move an arena's data into another database, whatever the
 * two engines (storage/rows.h): every row of every table, read from the
 * source in one read transaction (a consistent snapshot, also while a
 * server writes to it), written into the target in one transaction. The
 * target must hold no data yet. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "storage/rows.h"

/* Rows handed to the target at once, at most, and their bytes of text. */
#define BATCH_ROWS 256
#define BATCH_BYTES (8u << 20)

/* The rows of one table on their way to the target: copies of what the
 * source's read handed over. */
struct batch {
  size_t table;            /* in store_tables */
  size_t n_cols;
  char **names;            /* n_cols, owned */
  struct store_value *values; /* BATCH_ROWS * n_cols; texts owned */
  struct store_row rows[BATCH_ROWS];
  size_t n, bytes;
};

struct copy {
  struct store *target;
  const char *from, *to;   /* as shown (no password) */
  struct batch b;
  long *rows;              /* per table of store_tables */
  long total;
  int failed;              /* the write failed (message printed) */
};

static void batch_clear(struct batch *b) {
  for (size_t r = 0; r < b->n; r++)
    for (size_t c = 0; c < b->n_cols; c++)
      if (b->values[r * b->n_cols + c].type == STORE_VALUE_TEXT)
        free((char *)b->values[r * b->n_cols + c].text);
  b->n = 0;
  b->bytes = 0;
}

static void batch_release(struct batch *b) {
  batch_clear(b);
  for (size_t c = 0; b->names && c < b->n_cols; c++)
    free(b->names[c]);
  free(b->names);
  free(b->values);
  memset(b, 0, sizeof *b);
}

/* Write what b holds into the target. 0 or -1 (printed). */
static int flush(struct copy *cp) {
  struct batch *b = &cp->b;
  if (!b->n)
    return 0;
  char err[1024];
  int rc = store_rows_write_tx(cp->target, &store_tables[b->table], b->rows,
                               b->n, err, sizeof err);
  if (rc) {
    fprintf(stderr, "agon: %s: %s\n", cp->to, err);
    cp->failed = 1;
  }
  batch_clear(b);
  return rc;
}

/* Whether b holds rows of table with row's columns (or could). */
static int batch_same(const struct batch *b, size_t table,
                      const struct store_row *row) {
  int same = b->names && b->table == table && b->n_cols == row->n;
  for (size_t c = 0; same && c < row->n; c++)
    same = !strcmp(b->names[c], row->names[c]);
  return same;
}

/* b emptied and made ready for rows of table with row's columns (what it
 * held is written already). 0 or -1 (out of memory). */
static int batch_for(struct batch *b, size_t table,
                     const struct store_row *row) {
  batch_release(b);
  b->table = table;
  b->n_cols = row->n;
  b->names = calloc(row->n ? row->n : 1, sizeof *b->names);
  b->values = calloc((row->n ? row->n : 1) * BATCH_ROWS, sizeof *b->values);
  if (!b->names || !b->values)
    return -1;
  for (size_t c = 0; c < row->n; c++)
    if (!(b->names[c] = strdup(row->names[c])))
      return -1;
  return 0;
}

/* A copy of row at the end of b. 0 or -1 (out of memory). */
static int batch_add(struct batch *b, const struct store_row *row) {
  struct store_value *v = &b->values[b->n * b->n_cols];
  for (size_t c = 0; c < row->n; c++) {
    v[c] = row->values[c];
    if (v[c].type != STORE_VALUE_TEXT)
      continue;
    char *t = malloc(v[c].len + 1);
    if (!t) {
      for (size_t d = 0; d < c; d++)
        if (v[d].type == STORE_VALUE_TEXT)
          free((char *)v[d].text);
      return -1;
    }
    memcpy(t, row->values[c].text, v[c].len);
    t[v[c].len] = '\0';
    v[c].text = t;
    b->bytes += v[c].len;
  }
  b->rows[b->n++] = (struct store_row){
      .names = (const char *const *)b->names, .values = v, .n = row->n};
  return 0;
}

/* Each row of the source, on its way into the target. */
static int copy_row(void *ctx, size_t table, const struct store_row *row) {
  struct copy *cp = ctx;
  if (!row) { /* the table is done */
    if (flush(cp))
      return -1;
    printf("  %-18s %ld rows\n", store_tables[table].name, cp->rows[table]);
    fflush(stdout);
    return 0;
  }
  if ((!batch_same(&cp->b, table, row) &&
       (flush(cp) || batch_for(&cp->b, table, row))) ||
      (cp->b.n == BATCH_ROWS && flush(cp)) || batch_add(&cp->b, row) ||
      (cp->b.bytes >= BATCH_BYTES && flush(cp))) {
    if (!cp->failed)
      fprintf(stderr, "agon: %s: out of memory\n", cp->to);
    cp->failed = 1;
    return -1;
  }
  cp->rows[table]++;
  cp->total++;
  return 0;
}

/* The target's first row of data, if any: its table into *ctx (a
 * long). */
static int first_row(void *ctx, size_t table, const struct store_row *row) {
  long *found = ctx;
  if (!row || store_tables[table].seeded)
    return 0;
  *found = (long)table;
  return 1;
}

/* Whether the SQLite files a and b are one (both exist and are the same
 * file). */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/* Remove the SQLite file path and its companions (a target this run
 * created and could not fill). */
static void remove_sqlite(const char *path) {
  static const char *const tails[] = {"", "-wal", "-shm"};
  char p[PATH_MAX + 8];
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s%s", path, tails[i]);
    unlink(p);
  }
}

int cmd_migrate(int argc, char **argv) {
  static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                       {"to", required_argument, NULL, 't'},
                                       {NULL, 0, NULL, 0}};
  const char *from = NULL, *to = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "f:t:", opts, NULL)) != -1) {
    if (c == 'f')
      from = optarg;
    else if (c == 't')
      to = optarg;
    else
      return 2;
  }
  if (!from || !to || optind < argc) {
    fprintf(stderr, "usage: agon migrate --from DATABASE --to DATABASE\n");
    return 2;
  }
  char shown_from[512], shown_to[512];
  config_db_display(from, shown_from, sizeof shown_from);
  config_db_display(to, shown_to, sizeof shown_to);
  const char *from_path, *to_path;
  enum config_db_engine from_e = config_db_engine(from, &from_path);
  enum config_db_engine to_e = config_db_engine(to, &to_path);
  if (from_e == CONFIG_DB_SQLITE && to_e == CONFIG_DB_SQLITE &&
      same_file(from_path, to_path)) {
    fprintf(stderr, "agon: '%s' and '%s' are the same database\n", shown_from,
            shown_to);
    return 2;
  }
  struct store src, dst;
  char err[1024];
  if (store_open_existing(&src, from, err, sizeof err)) {
    fprintf(stderr, "agon: --from: %s\n", err);
    return 1;
  }
  struct stat sb;
  int created = to_e == CONFIG_DB_SQLITE && stat(to_path, &sb) != 0;
  if (store_open(&dst, to, err, sizeof err)) {
    fprintf(stderr, "agon: --to: %s\n", err);
    store_close(&src);
    return 1;
  }
  int rc = 1;
  struct copy cp = {.target = &dst, .from = shown_from, .to = shown_to};
  if (!(cp.rows = calloc(store_n_tables, sizeof *cp.rows))) {
    fprintf(stderr, "agon: out of memory\n");
    goto out;
  }
  /* the target: the same schema, and no data yet */
  if (from_e == to_e &&
      store_schema_version(&src) != store_schema_version(&dst)) {
    fprintf(stderr,
            "agon: '%s' is at schema version %d, '%s' at %d: migrate "
            "between databases of one version\n",
            shown_from, store_schema_version(&src), shown_to,
            store_schema_version(&dst));
    goto out;
  }
  long found = -1;
  if (store_rows_read(&dst, first_row, &found, err, sizeof err) &&
      found < 0) {
    fprintf(stderr, "agon: %s: %s\n", shown_to, err);
    goto out;
  }
  if (found >= 0) {
    fprintf(stderr,
            "agon: '%s' is not empty (table %s has rows): migrate into a "
            "new database\n",
            shown_to, store_tables[found].name);
    goto out;
  }
  printf("agon migrate: from '%s' (%s) to '%s' (%s)\n", shown_from,
         config_db_engine_name(from_e), shown_to,
         config_db_engine_name(to_e));
  fflush(stdout);
  pthread_mutex_lock(&dst.lock);
  if (store_tx_begin(&dst)) {
    fprintf(stderr, "agon: %s: cannot begin a write: %s\n", shown_to,
            store_error(&dst));
  } else if (store_rows_read(&src, copy_row, &cp, err, sizeof err)) {
    if (!cp.failed)
      fprintf(stderr, "agon: %s: %s\n", shown_from, err);
    store_tx_rollback(&dst);
  } else if (store_tx_commit(&dst)) {
    fprintf(stderr, "agon: %s: cannot commit: %s\n", shown_to,
            store_error(&dst));
    store_tx_rollback(&dst);
  } else {
    rc = 0;
  }
  pthread_mutex_unlock(&dst.lock);
  if (rc == 0)
    printf("agon migrate: %ld rows of %zu tables copied in one transaction; "
           "check it with agon recompute\n",
           cp.total, store_n_tables);
out:
  batch_release(&cp.b);
  free(cp.rows);
  store_close(&dst);
  store_close(&src);
  if (rc && created)
    remove_sqlite(to_path); /* nothing of it is anyone's yet */
  return rc;
}
