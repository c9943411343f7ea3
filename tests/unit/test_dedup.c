/* FastChat's de-duplication (rating/dedup.h): the prompt's hash and its
 * cut, the cutoff against a by-hand percentile, the sample's size, seed
 * and order, stability as battles are added. */
#include "check.h"
#include "rating/dedup.h"

#include <stdint.h>
#include <stdlib.h>

static uint64_t prompt_of(const char *const *turns, size_t n) {
  struct dedup_prompt p;
  dedup_prompt_init(&p);
  for (size_t i = 0; i < n; i++)
    dedup_prompt_add_turn(&p, turns[i], strlen(turns[i]));
  return p.hash;
}

static uint64_t one(const char *text) { return prompt_of(&text, 1); }

/* The pandas quantile of the counts, written out again: sorted counts
 * c[0..m), position q (m - 1). */
static double by_hand_quantile(const size_t *c, size_t m, double q) {
  size_t *s = malloc(m * sizeof *s);
  memcpy(s, c, m * sizeof *s);
  for (size_t i = 1; i < m; i++) /* insertion sort: small inputs */
    for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
      size_t t = s[j];
      s[j] = s[j - 1];
      s[j - 1] = t;
    }
  double pos = q * (double)(m - 1);
  size_t lo = (size_t)pos, hi = lo + 1 < m ? lo + 1 : lo;
  double v = (double)s[lo] + ((double)s[hi] - (double)s[lo]) * (pos - (double)lo);
  free(s);
  return v;
}

static char ids[4096][16];

int main(void) {
  /* ---- the prompt: user turns each with "\n", cut at 10000 characters */
  const char *ab[] = {"a", "b"};
  CHECK(prompt_of(ab, 2) == one("a\nb"));  /* "a\n" "b\n" == "a\nb" "\n" */
  CHECK(one("a") != one("b"));
  CHECK(one("a") != one("a "));
  static char long_a[20001], long_b[20001];
  memset(long_a, 'x', 20000);
  memcpy(long_b, long_a, 20000);
  long_b[10005] = 'y';  /* differs after the cut: the same prompt */
  CHECK(one(long_a) == one(long_b));
  long_b[9999] = 'y';   /* the 10000th character: another one */
  CHECK(one(long_a) != one(long_b));
  /* characters, not bytes: 10000 of "é" (2 bytes each) are all kept */
  static char accents[2 * 10001 + 1];
  for (int i = 0; i < 10001; i++)
    memcpy(accents + 2 * i, "\xc3\xa9", 2);
  struct dedup_prompt p;
  dedup_prompt_init(&p);
  dedup_prompt_add_turn(&p, accents, 2 * 10001);
  CHECK(p.chars == 10000 && p.turns == 1);
  char *shorter = strndup(accents, 2 * 10000);
  CHECK(one(accents) == one(shorter)); /* the 10001st is cut, and the "\n" */
  shorter[2 * 9999] = 'e';
  shorter[2 * 9999 + 1] = '\0';
  CHECK(one(accents) != one(shorter));
  free(shorter);
  /* a turn after the cut adds nothing */
  const char *past[] = {long_a, "more"};
  CHECK(prompt_of(past, 2) == one(long_a));

  /* ---- the cutoff and the sample, against a by-hand count ---- */
  /* 3222 prompts: most once, some 2, 5 or 9 times, one planted 200 times:
   * 4000 battles; at the 99.5th percentile the cutoff is 8.58, so the
   * 9s and the planted one are high-frequency and keep 8 each */
  enum { N = 4000 };
  struct dedup_battle b[N];
  size_t group[N];          /* the prompt number of each battle */
  size_t n = 0, m = 0;
  size_t counts[N];
  char text[64];
  for (size_t g = 0; n < N; g++) {
    size_t times = g == 7           ? 200
                   : g % 211 == 5 ? 9
                   : g % 61 == 3  ? 5
                   : g % 13 == 1  ? 2
                                  : 1;
    snprintf(text, sizeof text, "prompt number %zu", g);
    for (size_t t = 0; t < times && n < N; t++) {
      snprintf(ids[n], sizeof ids[n], "b%zu", n);
      b[n] = (struct dedup_battle){one(text), dedup_battle_id(ids[n])};
      group[n++] = g;
    }
    counts[m++] = times;
  }
  counts[m - 1] = 0;
  for (size_t i = 0; i < n; i++)
    if (group[i] == m - 1)
      counts[m - 1]++;  /* the last prompt may have been cut short */
  unsigned char flags[N], again[N];
  struct dedup_summary s;
  CHECK(dedup_compute(b, n, 0.995, DEDUP_SEED, flags, &s) == 0);
  double want = by_hand_quantile(counts, m, 0.995);
  CHECK_NEAR(s.cutoff, want, 1e-12);
  CHECK(s.prompts == m);
  CHECK(want > 8.0 && want < 9.0);
  size_t keep = (size_t)want, high_prompts = 0, high_battles = 0;
  size_t sampled[N] = {0};
  for (size_t g = 0; g < m; g++)
    if ((double)counts[g] > want) {
      high_prompts++;
      high_battles += counts[g];
    }
  int flags_ok = 1;
  for (size_t i = 0; i < n; i++) {
    int high = (double)counts[group[i]] > want;
    if (!!(flags[i] & DEDUP_HIGH_FREQ) != high)
      flags_ok = 0;
    if (!high && !(flags[i] & DEDUP_SAMPLED))
      flags_ok = 0;
    if (flags[i] & DEDUP_SAMPLED)
      sampled[group[i]]++;
  }
  CHECK(flags_ok);
  for (size_t g = 0; g < m; g++)
    if ((double)counts[g] > want)
      CHECK(sampled[g] == keep);
  CHECK(sampled[7] == keep && keep < 200);
  CHECK(s.high_freq_prompts == high_prompts);
  CHECK(s.high_freq_battles == high_battles);
  CHECK(s.dropped == high_battles - high_prompts * keep);

  /* FastChat's own percentile on this set: 99.99% of 3000 counts is the
   * largest but one, plus a little of the step to the planted 200 */
  CHECK(dedup_compute(b, n, DEDUP_PERCENTILE, DEDUP_SEED, again, &s) == 0);
  CHECK_NEAR(s.cutoff, by_hand_quantile(counts, m, DEDUP_PERCENTILE), 1e-12);
  CHECK(s.high_freq_prompts == 1);  /* the planted prompt alone */
  size_t planted_kept = 0;
  for (size_t i = 0; i < n; i++)
    if (group[i] == 7)
      planted_kept += (again[i] & DEDUP_SAMPLED) != 0;
  CHECK(planted_kept == (size_t)s.cutoff);

  /* ---- the same set in another order: the same flags per battle ---- */
  struct dedup_battle r[N];
  unsigned char rflags[N];
  for (size_t i = 0; i < n; i++)
    r[i] = b[(i * 7919) % n];  /* 7919 is prime to 4000: a permutation */
  CHECK(dedup_compute(r, n, 0.995, DEDUP_SEED, rflags, NULL) == 0);
  int same = 1;
  for (size_t i = 0; i < n; i++)
    same = same && rflags[i] == flags[(i * 7919) % n];
  CHECK(same);

  /* ---- the seed chooses the sample; the same seed, the same one ---- */
  CHECK(dedup_compute(b, n, 0.995, DEDUP_SEED, again, NULL) == 0);
  CHECK(memcmp(again, flags, n) == 0);
  CHECK(dedup_compute(b, n, 0.995, 7, again, NULL) == 0);
  CHECK(memcmp(again, flags, n) != 0);
  size_t kept7 = 0;
  for (size_t i = 0; i < n; i++)
    kept7 += group[i] == 7 && (again[i] & DEDUP_SAMPLED);
  CHECK(kept7 == keep);

  /* ---- stable: one more battle of the planted prompt puts at most one
   * of its sampled battles out (the cutoff stays where it is) ---- */
  snprintf(ids[n], sizeof ids[n], "b%zu", n);
  struct dedup_battle more[N + 1];
  unsigned char mflags[N + 1];
  memcpy(more, b, n * sizeof *b);
  snprintf(text, sizeof text, "prompt number %d", 7);
  more[n] = (struct dedup_battle){one(text), dedup_battle_id(ids[n])};
  CHECK(dedup_compute(more, n + 1, 0.995, DEDUP_SEED, mflags, &s) == 0);
  CHECK_NEAR(s.cutoff, want, 1e-12);
  size_t left = 0;
  for (size_t i = 0; i < n; i++)
    left += (flags[i] & DEDUP_SAMPLED) && !(mflags[i] & DEDUP_SAMPLED);
  CHECK(left <= 1);
  /* a higher cutoff only adds battles to the sample */
  CHECK(dedup_compute(b, n, DEDUP_PERCENTILE, DEDUP_SEED, again, &s) == 0);
  CHECK(s.cutoff > want);
  int only_added = 1;
  for (size_t i = 0; i < n; i++)
    if ((flags[i] & DEDUP_SAMPLED) && !(again[i] & DEDUP_SAMPLED))
      only_added = 0;
  CHECK(only_added);

  /* ---- the edges ---- */
  CHECK(dedup_compute(b, 0, DEDUP_PERCENTILE, 1, flags, &s) == 0);
  CHECK(s.prompts == 0 && s.cutoff == 0 && s.dropped == 0);
  /* one prompt only: it is its own percentile, nothing is dropped */
  for (size_t i = 0; i < 10; i++)
    r[i] = (struct dedup_battle){one("same"), (uint64_t)i};
  CHECK(dedup_compute(r, 10, DEDUP_PERCENTILE, 1, flags, &s) == 0);
  CHECK(s.cutoff == 10 && s.dropped == 0);
  int all = 1;
  for (size_t i = 0; i < 10; i++)
    all = all && flags[i] == DEDUP_SAMPLED;
  CHECK(all);
  /* prompts all once but one twice: the cutoff is 1, one of two kept */
  r[0] = (struct dedup_battle){one("twice"), 100};
  r[1] = (struct dedup_battle){one("twice"), 101};
  for (size_t i = 2; i < 10; i++) {
    snprintf(text, sizeof text, "once %zu", i);
    r[i] = (struct dedup_battle){one(text), (uint64_t)i};
  }
  CHECK(dedup_compute(r, 10, 0.5, 1, flags, &s) == 0);
  CHECK(s.cutoff == 1 && s.high_freq_prompts == 1 && s.dropped == 1);
  CHECK((flags[0] | flags[1]) == (DEDUP_HIGH_FREQ | DEDUP_SAMPLED));
  CHECK((flags[0] & flags[1]) == DEDUP_HIGH_FREQ);
  CHECK(dedup_compute(r, 10, 1.5, 1, flags, &s) == -1);
  CHECK(dedup_compute(r, 10, -0.1, 1, flags, &s) == -1);
  return check_done("dedup");
}
