/* What judges need from storage, the same for every engine: battles as
 * cases, few-shot examples; the rest is the engine's (storage/ops.h). */
#include "storage/ops.h"

#include <stdlib.h>
#include <string.h>

void case_data_release(struct case_data *d) {
  for (size_t t = 0; t < d->c.n_turns; t++) {
    free((char *)d->c.prompts[t]);
    free((char *)d->c.answers[0][t]);
    free((char *)d->c.answers[1][t]);
  }
  free(d->c.prompts);
  free(d->c.answers[0]);
  free(d->c.answers[1]);
  memset(&d->c, 0, sizeof d->c);
}

int case_data_add_turn(struct case_data *d, const char *p, const char *a,
                       const char *b) {
  size_t n = d->c.n_turns + 1;
  const char **np = realloc(d->c.prompts, n * sizeof *np);
  if (np)
    d->c.prompts = np;
  const char **na = realloc(d->c.answers[0], n * sizeof *na);
  if (na)
    d->c.answers[0] = na;
  const char **nb = realloc(d->c.answers[1], n * sizeof *nb);
  if (nb)
    d->c.answers[1] = nb;
  if (!np || !na || !nb)
    return -1;
  d->c.prompts[n - 1] = strdup(p ? p : "");
  d->c.answers[0][n - 1] = strdup(a ? a : "");
  d->c.answers[1][n - 1] = strdup(b ? b : "");
  d->c.n_turns = n;
  return 0;
}

int case_data_from_record(struct case_data *d, const char *record) {
  json_t *r = json_loads(record, 0, NULL);
  json_t *ca = json_object_get(r, "conversation_a");
  json_t *cb = json_object_get(r, "conversation_b");
  int rc = 1;
  size_t ia = 0, ib = 0;
  while (json_is_array(ca) && json_is_array(cb)) {
    const char *p = NULL, *a = NULL, *b = NULL;
    for (; ia < json_array_size(ca); ia++) {
      json_t *m = json_array_get(ca, ia);
      const char *role = json_string_value(json_object_get(m, "role"));
      const char *content = json_string_value(json_object_get(m, "content"));
      if (role && !strcmp(role, "user") && !p)
        p = content;
      else if (role && !strcmp(role, "assistant") && p) {
        a = content;
        ia++;
        break;
      }
    }
    int user_seen = 0;
    for (; ib < json_array_size(cb); ib++) {
      json_t *m = json_array_get(cb, ib);
      const char *role = json_string_value(json_object_get(m, "role"));
      if (role && !strcmp(role, "user"))
        user_seen = 1;
      else if (role && !strcmp(role, "assistant") && user_seen) {
        b = json_string_value(json_object_get(m, "content"));
        ib++;
        break;
      }
    }
    if (!p || !a || !b)
      break;
    if (case_data_add_turn(d, p, a, b)) {
      rc = -1;
      break;
    }
    rc = 0;
  }
  json_decref(r);
  return rc;
}

int store_case_load(struct store *st, const char *id, struct case_data *out) {
  return STORE_OPS(st)->case_load(st->impl, id, out);
}

int store_judge_pending(struct store *st, const char *judge, long limit,
                        char ***ids, size_t *n) {
  return STORE_OPS(st)->judge_pending(st->impl, judge, limit, ids, n);
}

int store_few_shot(struct store *st, size_t n, struct case_data *out,
                   size_t *got) {
  *got = 0;
  if (!n)
    return 0;
  size_t want = n * 4; /* some candidates may have nothing to show */
  char (*ids)[40] = calloc(want, sizeof *ids);
  char *winners = calloc(want, 1);
  size_t found = 0;
  if (!ids || !winners)
    goto out;
  /* an error reads as fewer examples */
  if (STORE_OPS(st)->recent_votes(st->impl, want, ids, winners, &found))
    found = 0;
  for (size_t i = 0; i < found && *got < n; i++) {
    if (store_case_load(st, ids[i], &out[*got]) == 0) {
      out[*got].c.human = winners[i];
      (*got)++;
    }
  }
out:
  free(ids);
  free(winners);
  return 0;
}

int store_judgment_save(struct store *st, const struct judgment *j) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->judgment_save(st->impl, j);
  pthread_mutex_unlock(&st->lock);
  if (rc == 0)
    atomic_fetch_add(&st->judgments, 1);
  return rc;
}

json_t *store_judge_stats(struct store *st, const char *judge) {
  return STORE_OPS(st)->judge_stats(st->impl, judge);
}

int store_judge_ratings(struct store *st, const char *judge, double k,
                        struct rating_table *elo, struct pair_table *pairs) {
  return STORE_OPS(st)->judge_ratings(st->impl, judge, k, elo, pairs);
}
