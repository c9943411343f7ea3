/* Python's random module, as far as lm-evaluation-harness uses it to
 * draw few-shot examples: random.Random(seed) for an integer seed (the
 * Mersenne Twister MT19937 seeded by init_by_array with the seed's 32-bit
 * words), getrandbits(k) for k <= 32, _randbelow and random.sample over
 * a population of n items (the pool and the set algorithms, chosen as
 * CPython 3.x chooses them). Same seed, same draws as Python, so the
 * shots of an item are the ones lm-eval shows the model. Pure. */
#ifndef AGON_BENCH_PYRANDOM_H
#define AGON_BENCH_PYRANDOM_H

#include <stddef.h>
#include <stdint.h>

struct pyrandom {
  uint32_t mt[624];
  int index;
};

/* random.Random(seed), seed >= 0. */
void pyrandom_seed(struct pyrandom *r, uint64_t seed);

/* The next 32-bit output (genrand_uint32). */
uint32_t pyrandom_u32(struct pyrandom *r);

/* random.getrandbits(k) for 1 <= k <= 32. */
uint32_t pyrandom_bits(struct pyrandom *r, unsigned k);

/* random._randbelow(n) for 1 <= n < 2^32: uniform in [0, n). */
uint32_t pyrandom_below(struct pyrandom *r, uint32_t n);

/* random.sample(range(n), k) into out (k slots, k <= n <= 2^32 - 1):
 * the indices Python's sample picks, in its order. 0, or -1 when k > n
 * or out of memory (nothing drawn then). */
int pyrandom_sample(struct pyrandom *r, size_t n, size_t k, size_t *out);

/* The uniform float random.random() gives (53 bits). */
double pyrandom_double(struct pyrandom *r);

#endif
