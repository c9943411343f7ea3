/* Every row of every table, as names and typed values: how `agon
 * migrate` moves an arena from one database to another, whatever their
 * engines. The tables, and the order they are copied in, are listed once,
 * in storage/rows.c (store_tables): above the engines, so that both read
 * and write the same list, and a new table is one line there. */
#ifndef AGON_STORAGE_ROWS_H
#define AGON_STORAGE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/* One table as migrate copies it. */
struct store_table {
  const char *name;
  const char *key;     /* its primary key's columns, comma-separated: rows
                          are read in this order */
  const char *serial;  /* a column the engine numbers on insert (votes.seq,
                          judgments.id), whose copied values must not be
                          handed out again, or NULL */
  int stored_order;    /* read in the order the rows were first stored
                          (SQLite: rowid; PostgreSQL: its ord column, not
                          copied), not by key, and written in it: the
                          engines load these rows in that order (ratings,
                          pair counts: a seeded bootstrap draws by
                          position), and so the target does the same */
  int seeded;          /* the schema itself puts rows in it (dedup_stats'
                          one row): they are not the arena's data, and the
                          copied rows replace them */
  int transient;       /* known, but not copied: what only a running node
                          means (say, its lease); neither read nor
                          written, and rows of the target's in it do not
                          make the target non-empty */
};

/* The tables in the order they are copied: a table after those its rows
 * refer to (battles first). Rows are in the layout of the SQLite schema
 * (schema/): an engine whose table is laid out otherwise (PostgreSQL's
 * dedup_stats) reads and writes it in that layout. */
extern const struct store_table store_tables[];
extern const size_t store_n_tables;

/* One value of a column: NULL, an integer, a real or a text. */
enum store_value_type {
  STORE_VALUE_NULL,
  STORE_VALUE_INT,
  STORE_VALUE_REAL,
  STORE_VALUE_TEXT
};

struct store_value {
  enum store_value_type type;
  int64_t i;           /* STORE_VALUE_INT */
  double d;            /* STORE_VALUE_REAL */
  const char *text;    /* STORE_VALUE_TEXT: len bytes, and a NUL after
                          them (a NUL among them is the value's own),
                          borrowed */
  size_t len;
};

/* One row: n columns, their names and values (borrowed). */
struct store_row {
  const char *const *names;
  const struct store_value *values;
  size_t n;
};

/* Called for each row of store_tables[table], in key order (row valid
 * during the call only), and once more with row NULL when that table's
 * rows are all given (also for a table without rows). Nonzero stops the
 * read (store_rows_read then returns -1, err untouched). */
typedef int (*store_row_fn)(void *ctx, size_t table,
                            const struct store_row *row);

/* Every row of every table of store_tables but the transient ones, table after table in
 * their order, to fn, all in one read transaction: a consistent snapshot
 * of the database even while a server writes to it. Fails (and names it
 * in err) when the database holds a table of the arena's that
 * store_tables does not list, so that none is ever left behind. Any
 * thread; takes no lock of the writer's. 0, or -1 with the reason in err
 * (errlen bytes). */
int store_rows_read(struct store *st, store_row_fn fn, void *ctx, char *err,
                    size_t errlen);

/* Insert n rows (each with the same column names) into table t, in the
 * caller's transaction (st->lock held, store_tx_begin); a seeded table's
 * rows replace those with the same key. Afterwards the engine numbers
 * new rows of t past the largest t->serial written. 0, or -1 with the
 * reason in err (a column the target does not have, a constraint). */
int store_rows_write_tx(struct store *st, const struct store_table *t,
                        const struct store_row *rows, size_t n, char *err,
                        size_t errlen);

#endif
