/* The live ratings and what a group of votes stages in them (live.h). */
#include "rating/live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/log.h"

/* The row for model as it stands: staged in vb, else live, else a fresh
 * one (not inserted). */
static struct rating_row current_row(const struct rating_table *t,
                                     const struct vote_batch *vb,
                                     const char *model) {
  for (size_t i = vb->n_rows; i-- > 0;)
    if (!strcmp(vb->rows[i].model, model))
      return vb->rows[i];
  const struct rating_row *r = rating_table_find(t, model);
  if (r)
    return *r;
  struct rating_row fresh = {.model = (char *)model, .elo = ELO_INITIAL};
  return fresh;
}

void vote_batch_init(struct vote_batch *vb) { memset(vb, 0, sizeof *vb); }

void vote_batch_release(struct vote_batch *vb) {
  for (size_t i = 0; i < vb->n_rows; i++)
    free(vb->rows[i].model);
  for (size_t i = 0; i < vb->n_pairs; i++) {
    free(vb->pairs[i].a);
    free(vb->pairs[i].b);
    free(vb->pairs[i].slice);
  }
  free(vb->rows);
  free(vb->pairs);
  vote_batch_init(vb);
}

/* Stage row r (its model copied), replacing an earlier staged row of the
 * same model. 0, or -1 when memory runs out. */
static int stage_row(struct vote_batch *vb, const struct rating_row *r) {
  for (size_t i = 0; i < vb->n_rows; i++) {
    if (!strcmp(vb->rows[i].model, r->model)) {
      char *keep = vb->rows[i].model;
      vb->rows[i] = *r;
      vb->rows[i].model = keep;
      return 0;
    }
  }
  struct rating_row *rows =
      array_grow(vb->rows, vb->n_rows, &vb->cap_rows, sizeof *rows, 16);
  if (!rows)
    return -1;
  vb->rows = rows;
  char *name = strdup(r->model);
  if (!name)
    return -1;
  vb->rows[vb->n_rows] = *r;
  vb->rows[vb->n_rows++].model = name;
  return 0;
}

static int stage_pair(struct vote_batch *vb, const char *slice,
                      const char *a, const char *b, enum winner w) {
  struct staged_pair *pairs =
      array_grow(vb->pairs, vb->n_pairs, &vb->cap_pairs, sizeof *pairs, 16);
  if (!pairs)
    return -1;
  vb->pairs = pairs;
  struct staged_pair *p = &vb->pairs[vb->n_pairs];
  p->a = strdup(a);
  p->b = strdup(b);
  p->slice = slice ? strdup(slice) : NULL;
  p->w = w;
  if (!p->a || !p->b || (slice && !p->slice)) {
    free(p->a);
    free(p->b);
    free(p->slice);
    return -1;
  }
  vb->n_pairs++;
  return 0;
}

int live_ratings_elo_copy(struct live_ratings *live,
                          struct rating_table *out) {
  pthread_mutex_lock(&live->lock);
  int rc = rating_table_copy(out, &live->elo);
  pthread_mutex_unlock(&live->lock);
  return rc;
}

int vote_batch_apply(struct vote_batch *vb, struct live_ratings *live) {
  int rc = 0;
  pthread_mutex_lock(&live->lock);
  for (size_t i = 0; i < vb->n_rows; i++) {
    struct rating_row *l = rating_table_get(&live->elo, vb->rows[i].model);
    if (!l) {
      rc = -1;
      continue;
    }
    l->elo = vb->rows[i].elo;
    l->battles = vb->rows[i].battles;
    l->wins = vb->rows[i].wins;
    l->losses = vb->rows[i].losses;
    l->ties = vb->rows[i].ties;
  }
  for (size_t i = 0; i < vb->n_pairs; i++) {
    const struct staged_pair *p = &vb->pairs[i];
    if (p->slice ? slice_table_add(&live->slices, p->slice, p->a, p->b, p->w)
                 : pair_table_add(&live->pairs, p->a, p->b, p->w))
      rc = -1;
  }
  pthread_mutex_unlock(&live->lock);
  if (rc)
    log_error("msg=\"out of memory updating live ratings\"");
  return rc;
}

int vote_batch_stage(struct vote_batch *vb, const struct rating_row *ra,
                     const struct rating_row *rb, enum winner w) {
  if (stage_row(vb, ra) || stage_row(vb, rb) ||
      stage_pair(vb, NULL, ra->model, rb->model, w)) {
    vb->broken = 1;
    return -1;
  }
  return 0;
}

int vote_batch_stage_rows(struct vote_batch *vb, const struct rating_row *ra,
                          const struct rating_row *rb) {
  if (stage_row(vb, ra) || stage_row(vb, rb)) {
    vb->broken = 1;
    return -1;
  }
  return 0;
}

int vote_batch_stage_slices(struct vote_batch *vb,
                            const char (*keys)[SLICE_KEY_MAX], size_t n,
                            const char *model_a, const char *model_b,
                            enum winner w) {
  for (size_t i = 0; i < n; i++)
    if (stage_pair(vb, keys[i], model_a, model_b, w)) {
      vb->broken = 1;
      return -1;
    }
  return 0;
}

void vote_batch_peek(const struct vote_batch *vb,
                     const struct live_ratings *live, const char *model_a,
                     const char *model_b, struct rating_row *ra,
                     struct rating_row *rb) {
  *ra = current_row(&live->elo, vb, model_a);
  *rb = current_row(&live->elo, vb, model_b);
}

static int cmp_slice_count(const void *x, const void *y) {
  return strcmp(((const struct slice_count *)x)->key,
                ((const struct slice_count *)y)->key);
}

int live_ratings_slices(struct live_ratings *live, struct slice_count **out,
                        size_t *n) {
  *out = NULL;
  *n = 0;
  pthread_mutex_lock(&live->lock);
  size_t m = live->slices.n;
  struct slice_count *c = calloc(m + 1, sizeof *c);
  for (size_t i = 0; c && i < m; i++) {
    snprintf(c[i].key, sizeof c[i].key, "%s", live->slices.s[i].key);
    c[i].votes = live->slices.s[i].votes;
  }
  pthread_mutex_unlock(&live->lock);
  if (!c)
    return -1;
  qsort(c, m, sizeof *c, cmp_slice_count);
  *out = c;
  *n = m;
  return 0;
}

long live_ratings_slice_votes(struct live_ratings *live, const char *key) {
  pthread_mutex_lock(&live->lock);
  const struct slice *s = *key ? slice_table_find(&live->slices, key) : NULL;
  long votes = *key ? (s ? s->votes : 0) : pair_table_total(&live->pairs);
  pthread_mutex_unlock(&live->lock);
  return votes;
}
