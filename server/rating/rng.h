/* A small, fast, seedable random number generator (xoshiro256**, seeded
 * through splitmix64) and the samplers the bootstrap needs. Pure. */
#ifndef AGON_RATING_RNG_H
#define AGON_RATING_RNG_H

#include <stdint.h>

struct rng {
  uint64_t s[4];
};

/* Seed from one 64-bit value; the same seed gives the same stream. */
void rng_seed(struct rng *r, uint64_t seed);

uint64_t rng_u64(struct rng *r);

/* splitmix64's finalizer: a bijection of 64-bit values whose every output
 * bit depends on every input bit (a stateless hash of a number). */
uint64_t rng_mix(uint64_t x);

/* Uniform in [0, 1). */
double rng_uniform(struct rng *r);

/* One draw of Binomial(n, p). Inversion when n*min(p,1-p) < 10, else
 * Hörmann's BTRS transformed rejection (1993). */
long rng_binomial(struct rng *r, long n, double p);

#endif
