#include "rating/dedup.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "rating/quantile.h"
#include "rating/rng.h"
#include "util/hash.h"

void dedup_prompt_init(struct dedup_prompt *p) {
  p->hash = HASH_FNV1A_BASIS;
  p->chars = 0;
  p->turns = 0;
}

/* The bytes of at most *room characters of UTF-8 at s[len]; *room is
 * reduced by the characters taken. A character is a byte that does not
 * continue one (10xxxxxx), as Python counts the code points of valid
 * UTF-8. */
static size_t take_chars(const char *s, size_t len, size_t *room) {
  size_t i = 0;
  while (i < len) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (*room == 0)
        break;
      (*room)--;
    }
    i++;
  }
  return i;
}

void dedup_prompt_add_turn(struct dedup_prompt *p, const char *text,
                           size_t len) {
  size_t room = DEDUP_PROMPT_CHARS - p->chars;
  size_t take = take_chars(text, len, &room);
  p->hash = hash_fnv1a_add(p->hash, text, take);
  if (room > 0) {
    p->hash = hash_fnv1a_add(p->hash, "\n", 1);
    room--;
  }
  p->chars = DEDUP_PROMPT_CHARS - room;
  p->turns++;
}

uint64_t dedup_battle_id(const char *id) { return hash_fnv1a_str(id); }

struct ranked {
  uint64_t prompt, rank;
  size_t idx;
};

static int by_prompt_rank(const void *x, const void *y) {
  const struct ranked *a = x, *b = y;
  if (a->prompt != b->prompt)
    return a->prompt < b->prompt ? -1 : 1;
  if (a->rank != b->rank)
    return a->rank < b->rank ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int dedup_compute(const struct dedup_battle *b, size_t n, double percentile,
                  uint64_t seed, unsigned char *out,
                  struct dedup_summary *summary) {
  struct dedup_summary sum = {0};
  struct ranked *r = NULL;
  double *counts = NULL;
  int rc = -1;
  if (!(percentile >= 0 && percentile <= 1) || n > (size_t)INT_MAX)
    return -1;
  if (n == 0) {
    rc = 0;
    goto out;
  }
  r = malloc(n * sizeof *r);
  counts = malloc(n * sizeof *counts);
  if (!r || !counts)
    goto out;
  for (size_t i = 0; i < n; i++)
    r[i] = (struct ranked){b[i].prompt, rng_mix(seed ^ rng_mix(b[i].id)), i};
  qsort(r, n, sizeof *r, by_prompt_rank);
  size_t m = 0;
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && r[j].prompt == r[i].prompt; j++)
      ;
    counts[m++] = (double)(j - i);
  }
  sum.prompts = m;
  qsort(counts, m, sizeof *counts, cmp_double);
  sum.cutoff = quantile_sorted(counts, (int)m, percentile);
  size_t keep = (size_t)floor(sum.cutoff);
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && r[j].prompt == r[i].prompt; j++)
      ;
    int high = (double)(j - i) > sum.cutoff;
    if (high) {
      sum.high_freq_prompts++;
      sum.high_freq_battles += j - i;
      sum.dropped += j - i - keep;
    }
    for (size_t k = i; k < j; k++)
      out[r[k].idx] = (unsigned char)(high ? DEDUP_HIGH_FREQ |
                                                 (k - i < keep ? DEDUP_SAMPLED
                                                               : 0u)
                                           : DEDUP_SAMPLED);
  }
  rc = 0;
out:
  if (rc == 0 && summary)
    *summary = sum;
  free(r);
  free(counts);
  return rc;
}
