/* The live ratings: Elo and the pair counts Bradley-Terry is fitted from,
 * owned by rating/. Votes change them only through a vote_batch: for each
 * vote of a group commit the writer takes the rows as they stand
 * (vote_batch_peek), moves them with rating_rows_apply (the function every
 * replay uses), persists them and stages them (vote_batch_stage); the batch
 * is made live after the commit (vote_batch_apply). */
#ifndef AGON_RATING_LIVE_H
#define AGON_RATING_LIVE_H

#include <pthread.h>
#include <stddef.h>

#include "rating/elo.h"
#include "rating/pairs.h"
#include "rating/slices.h"

/* The live, in-memory ratings: Elo and the pair counts BT is fitted from.
 * Only the writer thread modifies them (vote_batch_apply); `lock` is
 * taken around modifications and by readers. */
struct live_ratings {
  struct rating_table elo;
  struct pair_table pairs;
  struct slice_table slices;  /* the pair counts of each leaderboard slice */
  pthread_mutex_t lock;
};

/* A copy of the live Elo table, taken under the lock, for a reader to
 * keep (rating_table_release): 0, or -1 when out of memory (*out is then
 * empty). */
int live_ratings_elo_copy(struct live_ratings *live, struct rating_table *out);

/* One slice as listed: its key and counted votes. */
struct slice_count {
  char key[SLICE_KEY_MAX];
  long votes;
};

/* The counted votes of the slice of key ("": the whole board's), read
 * under the lock; 0 for a slice without. */
long live_ratings_slice_votes(struct live_ratings *live, const char *key);

/* The slices with their votes, copied under the lock, in key order into
 * *out (caller frees) and *n. 0, or -1 when out of memory. */
int live_ratings_slices(struct live_ratings *live, struct slice_count **out,
                        size_t *n);

/* What the votes of one group commit change in the live ratings, staged
 * until the commit: each vote sees the ones before it in the batch. */
struct vote_batch {
  struct rating_row *rows;   /* staged rows; model names owned */
  size_t n_rows, cap_rows;
  struct staged_pair {
    char *a, *b;             /* owned */
    char *slice;             /* owned; NULL: the overall counts */
    enum winner w;
  } *pairs;
  size_t n_pairs, cap_pairs;
  int broken;                /* staging ran out of memory: what is staged
                                is not what was written, so the whole
                                batch must be rolled back */
};

void vote_batch_init(struct vote_batch *vb);
/* Forget what is staged (after a rollback, or once applied). */
void vote_batch_release(struct vote_batch *vb);
/* Make the staged changes live, after their commit. Returns 0, or -1 when
 * memory ran out (logged; live then lags the database until a restart). */
int vote_batch_apply(struct vote_batch *vb, struct live_ratings *live);

/* The rows of model_a and model_b as they stand: staged in vb, else
 * live, else new at ELO_INITIAL (their model names borrowed). */
void vote_batch_peek(const struct vote_batch *vb,
                     const struct live_ratings *live, const char *model_a,
                     const char *model_b, struct rating_row *ra,
                     struct rating_row *rb);

/* Stage the rows ra and rb after a vote (rating_rows_apply on what
 * vote_batch_peek gave) and its pair outcome, to be made live after the
 * commit. Returns 0, or -1 when memory ran out (vb is then broken). */
int vote_batch_stage(struct vote_batch *vb, const struct rating_row *ra,
                     const struct rating_row *rb, enum winner w);

/* Stage the rows alone, for a vote counted in the Elo but not in the pair
 * counts (de-duplication). 0, or -1 (vb is then broken). */
int vote_batch_stage_rows(struct vote_batch *vb, const struct rating_row *ra,
                          const struct rating_row *rb);

/* Stage a counted vote's outcome in the slices of keys[n] (slice_keys),
 * to be made live after the commit with the rest. 0, or -1 when memory
 * ran out (vb is then broken). */
int vote_batch_stage_slices(struct vote_batch *vb,
                            const char (*keys)[SLICE_KEY_MAX], size_t n,
                            const char *model_a, const char *model_b,
                            enum winner w);

#endif
