/* De-duplication of the most repeated prompts, as FastChat does it
 * (fastchat/serve/monitor/deduplication.py, which writes each battle's
 * dedup_tag {"high_freq", "sampled"}):
 *
 * - a battle's prompt is its user turns, each followed by "\n", cut to
 *   the first DEDUP_PROMPT_CHARS characters (code points);
 * - the cutoff is the DEDUP_PERCENTILE quantile of how often each
 *   distinct prompt occurs (linear interpolation between the closest
 *   ranks, as pandas' Series.quantile);
 * - a prompt that occurs more often than the cutoff is high-frequency:
 *   all its battles get high_freq, and only floor(cutoff) of them are
 *   sampled; every other battle is sampled (high_freq false).
 *
 * FastChat draws a high-frequency prompt's sample with pandas'
 * random_state=42. Here the sampled battles of a prompt are the
 * floor(cutoff) with the smallest rank rng_mix(seed ^ rng_mix(id)), id
 * being a hash of the battle's id: the result depends on the seed and on
 * the set of (prompt, id) pairs only, not on their order; and it is
 * stable: a battle sampled under a cutoff stays sampled under any higher
 * one, and one new battle of a prompt puts at most one of its sampled
 * battles out of the sample.
 *
 * Prompts are compared by a 64-bit hash (FNV-1a): two different prompts
 * are taken for one with a probability of about n^2 / 2^65 (n distinct
 * prompts; 3e-8 for a million). Pure: no I/O, no state. */
#ifndef AGON_RATING_DEDUP_H
#define AGON_RATING_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define DEDUP_PERCENTILE 0.9999   /* FastChat's --percentile default */
#define DEDUP_PROMPT_CHARS 10000  /* conv[:10000] */
#define DEDUP_SEED 42u            /* FastChat's random_state */

/* A prompt's hash, built one user turn at a time. */
struct dedup_prompt {
  uint64_t hash;
  size_t chars;       /* characters hashed so far (at most the cap) */
  size_t turns;       /* user turns added */
};

void dedup_prompt_init(struct dedup_prompt *p);

/* Add one user turn of len bytes of UTF-8 at text, and the "\n" that
 * follows it, up to DEDUP_PROMPT_CHARS characters in all. */
void dedup_prompt_add_turn(struct dedup_prompt *p, const char *text,
                           size_t len);

/* The hash of a battle's id (any string that names the battle once). */
uint64_t dedup_battle_id(const char *id);

/* One battle: its prompt's hash (dedup_prompt.hash) and its id's. */
struct dedup_battle {
  uint64_t prompt;
  uint64_t id;
};

/* The flags of a battle (dedup_compute's out[]): FastChat's dedup_tag is
 * {"high_freq": flags & DEDUP_HIGH_FREQ, "sampled": flags & DEDUP_SAMPLED}. */
#define DEDUP_HIGH_FREQ 1u
#define DEDUP_SAMPLED 2u

struct dedup_summary {
  double cutoff;              /* the percentile of the prompt counts (0
                                 without battles) */
  size_t prompts;             /* distinct prompts */
  size_t high_freq_prompts;   /* prompts above the cutoff */
  size_t high_freq_battles;   /* their battles */
  size_t dropped;             /* battles not sampled */
};

/* The flags of each of the n battles b[] into out[n], for the given
 * percentile (0 to 1) and seed; summary (may be NULL) gets the figures.
 * Returns 0, or -1 when out of memory or percentile is outside [0, 1]
 * (out is then untouched). */
int dedup_compute(const struct dedup_battle *b, size_t n, double percentile,
                  uint64_t seed, unsigned char *out,
                  struct dedup_summary *summary);

#endif
