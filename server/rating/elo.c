#include "rating/elo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const winner_names[] = {"a", "b", "tie", "bothbad"};

int winner_parse(const char *s, enum winner *out) {
  for (int i = 0; i < 4; i++) {
    if (!strcmp(s, winner_names[i])) {
      *out = (enum winner)i;
      return 0;
    }
  }
  return -1;
}

const char *winner_name(enum winner w) { return winner_names[w]; }

void elo_update(double *ra, double *rb, enum winner w, double k) {
  double ea = 1.0 / (1.0 + pow(ELO_BASE, (*rb - *ra) / ELO_SCALE));
  double eb = 1.0 / (1.0 + pow(ELO_BASE, (*ra - *rb) / ELO_SCALE));
  double sa;
  switch (w) {
  case WINNER_A:
    sa = 1.0;
    break;
  case WINNER_B:
    sa = 0.0;
    break;
  default:
    sa = 0.5;
    break;
  }
  *ra += k * (sa - ea);
  *rb += k * (1.0 - sa - eb);
}

struct rating_row *rating_table_get(struct rating_table *t, const char *model) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->rows[i].model, model))
      return &t->rows[i];
  struct rating_row *rows = realloc(t->rows, (t->n + 1) * sizeof *rows);
  if (!rows)
    return NULL;
  t->rows = rows;
  struct rating_row *r = &rows[t->n];
  memset(r, 0, sizeof *r);
  r->model = strdup(model);
  if (!r->model)
    return NULL;
  r->elo = ELO_INITIAL;
  t->n++;
  return r;
}

const struct rating_row *rating_table_find(const struct rating_table *t,
                                           const char *model) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->rows[i].model, model))
      return &t->rows[i];
  return NULL;
}

void rating_rows_apply(struct rating_row *ra, struct rating_row *rb,
                       enum winner w, double k) {
  elo_update(&ra->elo, &rb->elo, w, k);
  ra->battles++;
  rb->battles++;
  if (w == WINNER_A) {
    ra->wins++;
    rb->losses++;
  } else if (w == WINNER_B) {
    rb->wins++;
    ra->losses++;
  } else {
    ra->ties++;
    rb->ties++;
  }
}

int rating_table_apply(struct rating_table *t, const char *a, const char *b,
                       enum winner w, double k) {
  if (!rating_table_get(t, a))
    return -1;
  struct rating_row *rb = rating_table_get(t, b);
  if (!rb)
    return -1;
  struct rating_row *ra = rating_table_get(t, a); /* may have moved */
  rating_rows_apply(ra, rb, w, k);
  return 0;
}

int rating_table_copy(struct rating_table *dst,
                      const struct rating_table *src) {
  dst->rows = calloc(src->n + 1, sizeof *dst->rows);
  dst->n = 0;
  if (!dst->rows)
    return -1;
  for (size_t i = 0; i < src->n; i++) {
    dst->rows[i] = src->rows[i];
    dst->rows[i].model = strdup(src->rows[i].model);
    dst->n++;
    if (!dst->rows[i].model) {
      rating_table_release(dst);
      return -1;
    }
  }
  return 0;
}

void rating_table_release(struct rating_table *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->rows[i].model);
  free(t->rows);
  t->rows = NULL;
  t->n = 0;
}
