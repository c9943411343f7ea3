/* Shots and prompts (prompt.h). */
#include "bench/prompt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/pyrandom.h"
#include "util/buf.h"

#define MAX_PROMPT (64u << 20)

static int draw_first_n(const struct bench_doc *items, size_t n,
                        const struct bench_doc *pool, size_t n_pool,
                        int same_split, unsigned k, size_t *out, char *err,
                        size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    unsigned got = 0;
    for (size_t j = 0; j < n_pool && got < k; j++) {
      const char *g = pool[j].group, *h = items[i].group;
      if ((g || h) && (!g || !h || strcmp(g, h)))
        continue;
      if (same_split && json_equal(pool[j].raw, items[i].raw))
        continue;
      out[i * k + got++] = j;
    }
    if (got < k) {
      snprintf(err, errlen,
               "line %zu: only %u shots for its subject '%s' in the shots "
               "file (%u wanted)",
               items[i].line, got, items[i].group ? items[i].group : "",
               k);
      return -1;
    }
  }
  return 0;
}

static int draw_random(const struct bench_doc *items, size_t n,
                       const struct bench_doc *pool, size_t n_pool,
                       int same_split, unsigned k, size_t *out, char *err,
                       size_t errlen) {
  size_t want = k + (same_split ? 1 : 0);
  if (want > n_pool) {
    snprintf(err, errlen, "%zu shots to draw from, %zu wanted", n_pool, want);
    return -1;
  }
  struct pyrandom r;
  pyrandom_seed(&r, BENCH_FEWSHOT_SEED);
  size_t *drawn = calloc(want ? want : 1, sizeof *drawn);
  if (!drawn) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    if (pyrandom_sample(&r, n_pool, want, drawn)) {
      snprintf(err, errlen, "out of memory");
      rc = -1;
      break;
    }
    unsigned got = 0;
    for (size_t j = 0; j < want && got < k; j++) {
      if (same_split && json_equal(pool[drawn[j]].raw, items[i].raw))
        continue;
      out[i * k + got++] = drawn[j];
    }
    if (got < k) {
      snprintf(err, errlen,
               "line %zu: its draw of shots holds it twice (a duplicate "
               "line): give the shots with --shots",
               items[i].line);
      rc = -1;
    }
  }
  free(drawn);
  return rc;
}

int bench_draw_shots(const struct bench_task *t, const struct bench_doc *items,
                     size_t n, const struct bench_doc *pool, size_t n_pool,
                     int same_split, unsigned k, size_t *out, char *err,
                     size_t errlen) {
  if (!k)
    return 0;
  if (t->sampler == BENCH_SAMPLER_FIRST_N)
    return draw_first_n(items, n, pool, n_pool, same_split, k, out, err,
                        errlen);
  return draw_random(items, n, pool, n_pool, same_split, k, out, err, errlen);
}

int bench_shot_text(const struct bench_task *t, const struct bench_doc *s,
                    struct buf *b) {
  const char *q, *a;
  switch (t->kind) {
  case BENCH_PARTIAL:
    q = s->choices[s->gold];
    a = s->target;
    break;
  case BENCH_GENERATE:
    q = s->query;
    a = s->target;
    break;
  case BENCH_CHOICE:
  default:
    q = s->query;
    a = s->choices[s->gold];
    break;
  }
  return buf_append_str(b, q) || buf_append_str(b, " ") ||
         buf_append_str(b, a) || buf_append_str(b, "\n\n");
}

const char *bench_prefix_query(const struct bench_task *t,
                               const struct bench_doc *d) {
  return t->kind == BENCH_PARTIAL ? NULL : d->query;
}

char *bench_prefix(const struct bench_task *t, const struct bench_doc *d,
                   const struct bench_doc *const *shots, size_t n_shots) {
  struct buf b;
  buf_init(&b, MAX_PROMPT);
  char *desc = t->description ? t->description(d) : NULL;
  if ((t->description && !desc) || buf_append(&b, "", 0) ||
      (desc && buf_append_str(&b, desc)))
    goto fail;
  for (size_t i = 0; i < n_shots; i++)
    if (bench_shot_text(t, shots[i], &b))
      goto fail;
  const char *query = bench_prefix_query(t, d);
  if (query && buf_append_str(&b, query))
    goto fail;
  free(desc);
  return buf_steal(&b);
fail:
  free(desc);
  buf_release(&b);
  return NULL;
}

void bench_pairs_free(struct bench_pair *p, size_t n) {
  if (!p)
    return;
  for (size_t i = 0; i < n; i++) {
    free(p[i].context);
    free(p[i].continuation);
  }
  free(p);
}

/* a + b, NULL when out of memory */
static char *concat(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 1);
  if (s) {
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
  }
  return s;
}

int bench_pairs(const struct bench_task *t, const struct bench_doc *d,
                const char *prefix, struct bench_pair **out) {
  struct bench_pair *p = calloc(d->n_choices ? d->n_choices : 1, sizeof *p);
  if (!p)
    return -1;
  for (size_t i = 0; i < d->n_choices; i++) {
    if (t->kind == BENCH_PARTIAL) {
      p[i].context = concat(prefix, d->choices[i]);
      p[i].continuation = concat(" ", d->target);
    } else {
      p[i].context = strdup(prefix);
      p[i].continuation = concat(" ", d->choices[i]);
    }
    if (!p[i].context || !p[i].continuation) {
      bench_pairs_free(p, d->n_choices);
      return -1;
    }
  }
  *out = p;
  return 0;
}

char *bench_mc_prompt(const struct bench_doc *d) {
  struct buf b;
  char letters[27] = {0};
  size_t n = d->n_choices < 26 ? d->n_choices : 26;
  for (size_t i = 0; i < n; i++)
    letters[i] = (char)('A' + i);
  buf_init(&b, MAX_PROMPT);
  if (buf_append_str(&b,
                     "Answer the following multiple choice question. The "
                     "last line of your response should be of the following "
                     "format: 'Answer: $LETTER' (without quotes) where "
                     "LETTER is one of ") ||
      buf_append_str(&b, letters) ||
      buf_append_str(&b, ". Think step by step before answering.\n\n") ||
      buf_append_str(&b, d->question) || buf_append_str(&b, "\n"))
    goto fail;
  for (size_t i = 0; i < n; i++) {
    char head[8];
    snprintf(head, sizeof head, "\n%c) ", letters[i]);
    if (buf_append_str(&b, head) || buf_append_str(&b, d->options[i]))
      goto fail;
  }
  return buf_steal(&b);
fail:
  buf_release(&b);
  return NULL;
}

void bench_messages_free(struct chat_message *m, size_t n) {
  if (!m)
    return;
  for (size_t i = 0; i < n; i++)
    free((char *)m[i].content);
  free(m);
}

int bench_gsm8k_messages(const struct bench_doc *d,
                         const struct bench_doc *const *shots,
                         size_t n_shots, struct chat_message **out,
                         size_t *n) {
  size_t total = 2 * n_shots + 1;
  struct chat_message *m = calloc(total, sizeof *m);
  if (!m)
    return -1;
  for (size_t i = 0; i < n_shots; i++) {
    m[2 * i].role = "user";
    m[2 * i].content = strdup(shots[i]->query);
    m[2 * i + 1].role = "assistant";
    m[2 * i + 1].content = strdup(shots[i]->target);
  }
  m[total - 1].role = "user";
  m[total - 1].content = strdup(d->query);
  for (size_t i = 0; i < total; i++)
    if (!m[i].content) {
      bench_messages_free(m, total);
      return -1;
    }
  *out = m;
  *n = total;
  return 0;
}
