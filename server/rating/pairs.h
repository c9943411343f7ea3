/* Aggregated outcomes per pair of models, by name: what Bradley-Terry is
 * fitted from. The caller serialises access. */
#ifndef AGON_RATING_PAIRS_H
#define AGON_RATING_PAIRS_H

#include <stddef.h>

#include "rating/bt.h"
#include "rating/elo.h"

struct pair_row {
  char *a, *b;            /* strcmp(a, b) < 0 */
  long wins_a, wins_b, ties;
};

struct pair_table {
  struct pair_row *rows;
  size_t n;
  int *slots;             /* hash index of rows by (a, b); -1 when free */
  size_t n_slots;
};

/* Add one outcome of a battle between x (side a) and y (side b); names
 * in any order. Returns 0, or -1 when out of memory. */
int pair_table_add(struct pair_table *t, const char *x, const char *y,
                   enum winner w);

/* Which count of the canonical row (a = the smaller name) one outcome of
 * x (side a) against y (side b) adds to. */
enum pair_column { PAIR_WINS_A, PAIR_WINS_B, PAIR_TIES };
enum pair_column pair_column(const char *x, const char *y, enum winner w);

/* The row of x and y in canonical order (created when absent with
 * create), or NULL. */
struct pair_row *pair_table_get(struct pair_table *t, const char *x,
                                const char *y, int create);

/* The outcomes counted in t: every row's wins and ties. */
long pair_table_total(const struct pair_table *t);

/* Whether a and b hold the same counts for the same pairs. */
int pair_table_equal(const struct pair_table *a, const struct pair_table *b);

/* Deep copy; 0 or -1. */
int pair_table_copy(struct pair_table *dst, const struct pair_table *src);

/* BT pairs over names[n]: rows naming a model outside names are left
 * out. *pairs is allocated (free it). 0 or -1. */
int pair_table_to_bt(const struct pair_table *t, const char *const *names,
                     int n, struct bt_pair **pairs, size_t *n_pairs);

void pair_table_release(struct pair_table *t);

#endif
