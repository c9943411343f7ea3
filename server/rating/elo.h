/* Online Elo, in FastChat's convention: scale 400, base 10, initial 1000;
 * a tie or "both bad" counts as half a win for each side. Pure. */
#ifndef AGON_RATING_ELO_H
#define AGON_RATING_ELO_H

#include <stddef.h>

#define ELO_INITIAL 1000.0
#define ELO_SCALE 400.0
#define ELO_BASE 10.0

enum winner { WINNER_A, WINNER_B, WINNER_TIE, WINNER_BOTHBAD };

/* "a", "b", "tie", "bothbad" -> 0 and *out set; anything else -> -1. */
int winner_parse(const char *s, enum winner *out);
const char *winner_name(enum winner w);

/* Update both ratings for one battle with factor k. Always the same
 * floating-point operations in the same order, so that replaying votes
 * reproduces the live ratings bit for bit. */
void elo_update(double *ra, double *rb, enum winner w, double k);

/* One model's live rating and counts. */
struct rating_row {
  char *model;
  double elo;
  long battles, wins, losses, ties;
};

/* A set of rows, unordered. The caller serialises access. */
struct rating_table {
  struct rating_row *rows;
  size_t n;
};

/* The row for model, created at ELO_INITIAL when absent; NULL when out of
 * memory. The pointer is valid until the next rating_table_get. */
struct rating_row *rating_table_get(struct rating_table *t, const char *model);

/* The row for model or NULL; never creates one. */
const struct rating_row *rating_table_find(const struct rating_table *t,
                                           const char *model);

/* One vote between the models of rows ra and rb: their Elo (elo_update)
 * and their counts. The one place a vote moves a row: live votes and
 * every replay go through it. */
void rating_rows_apply(struct rating_row *ra, struct rating_row *rb,
                       enum winner w, double k);

/* Apply one vote between models a and b to the table (rows created as
 * needed). Returns 0, or -1 when out of memory (table unchanged). */
int rating_table_apply(struct rating_table *t, const char *a, const char *b,
                       enum winner w, double k);

/* A deep copy of src into dst: 0, or -1 when out of memory (dst is then
 * empty). */
int rating_table_copy(struct rating_table *dst, const struct rating_table *src);

void rating_table_release(struct rating_table *t);

#endif
