/* MT19937 (Matsumoto and Nishimura 1998) with CPython's seeding and its
 * sample algorithm (pyrandom.h). Written from the published algorithm
 * and the documented behaviour of random.Random; checked against Python
 * itself by tests/unit/test_bench.c's figures and the integration
 * tests' prompts. */
#include "bench/pyrandom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MT_N 624
#define MT_M 397

static void init_genrand(struct pyrandom *r, uint32_t s) {
  r->mt[0] = s;
  for (int i = 1; i < MT_N; i++)
    r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) +
               (uint32_t)i;
  r->index = MT_N;
}

static void init_by_array(struct pyrandom *r, const uint32_t *key,
                          size_t len) {
  init_genrand(r, 19650218u);
  size_t i = 1, j = 0;
  size_t k = MT_N > len ? MT_N : len;
  for (; k; k--) {
    r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) *
                            1664525u)) +
               key[j] + (uint32_t)j;
    i++;
    j++;
    if (i >= MT_N) {
      r->mt[0] = r->mt[MT_N - 1];
      i = 1;
    }
    if (j >= len)
      j = 0;
  }
  for (k = MT_N - 1; k; k--) {
    r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) *
                            1566083941u)) -
               (uint32_t)i;
    i++;
    if (i >= MT_N) {
      r->mt[0] = r->mt[MT_N - 1];
      i = 1;
    }
  }
  r->mt[0] = 0x80000000u;
  r->index = MT_N;
}

void pyrandom_seed(struct pyrandom *r, uint64_t seed) {
  /* CPython: the absolute value's 32-bit words, least significant first;
   * zero is one word 0 */
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  init_by_array(r, key, key[1] ? 2 : 1);
}

static void twist(struct pyrandom *r) {
  for (int i = 0; i < MT_N; i++) {
    uint32_t y = (r->mt[i] & 0x80000000u) | (r->mt[(i + 1) % MT_N] &
                                             0x7fffffffu);
    r->mt[i] = r->mt[(i + MT_M) % MT_N] ^ (y >> 1) ^
               ((y & 1u) ? 0x9908b0dfu : 0u);
  }
  r->index = 0;
}

uint32_t pyrandom_u32(struct pyrandom *r) {
  if (r->index >= MT_N)
    twist(r);
  uint32_t y = r->mt[r->index++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint32_t pyrandom_bits(struct pyrandom *r, unsigned k) {
  return pyrandom_u32(r) >> (32 - k);
}

uint32_t pyrandom_below(struct pyrandom *r, uint32_t n) {
  unsigned k = 0; /* n.bit_length() */
  for (uint32_t v = n; v; v >>= 1)
    k++;
  uint32_t x = pyrandom_bits(r, k);
  while (x >= n)
    x = pyrandom_bits(r, k);
  return x;
}

double pyrandom_double(struct pyrandom *r) {
  uint32_t a = pyrandom_u32(r) >> 5, b = pyrandom_u32(r) >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

int pyrandom_sample(struct pyrandom *r, size_t n, size_t k, size_t *out) {
  if (k > n || n > UINT32_MAX)
    return -1;
  /* CPython's choice: a pool when an n-list is smaller than a k-set */
  double setsize = 21;
  if (k > 5)
    setsize += pow(4, ceil(log((double)k * 3) / log(4)));
  if ((double)n <= setsize) {
    size_t *pool = malloc((n ? n : 1) * sizeof *pool);
    if (!pool)
      return -1;
    for (size_t i = 0; i < n; i++)
      pool[i] = i;
    for (size_t i = 0; i < k; i++) {
      size_t j = pyrandom_below(r, (uint32_t)(n - i));
      out[i] = pool[j];
      pool[j] = pool[n - i - 1];
    }
    free(pool);
    return 0;
  }
  for (size_t i = 0; i < k; i++) {
    size_t j;
    int again;
    do { /* k is small here (the set is the cheaper): a scan will do */
      j = pyrandom_below(r, (uint32_t)n);
      again = 0;
      for (size_t q = 0; q < i && !again; q++)
        again = out[q] == j;
    } while (again);
    out[i] = j;
  }
  return 0;
}
