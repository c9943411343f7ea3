#include "rating/rng.h"

#include <math.h>
#include <pthread.h>

/* log(k!) from a table for small k and Stirling's series beyond: the
 * bootstrap draws millions of binomials, and lgamma was half its time. */
#define LOGFACT_TABLE 1024
static double logfact_table[LOGFACT_TABLE];
static pthread_once_t logfact_once = PTHREAD_ONCE_INIT;

static void logfact_init(void) {
  for (int k = 0; k < LOGFACT_TABLE; k++)
    logfact_table[k] = lgamma((double)k + 1.0);
}

/* log(x!) for whole x >= 0 (given as a double). */
static double logfact(double x) {
  if (x < LOGFACT_TABLE)
    return logfact_table[(int)x];
  double y = x + 1.0, iy = 1.0 / y, iy2 = iy * iy;
  return (y - 0.5) * log(y) - y + 0.91893853320467274178 +
         iy * (1.0 / 12 - iy2 * (1.0 / 360 - iy2 * (1.0 / 1260 - iy2 / 1680)));
}

uint64_t rng_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x) {
  return rng_mix(*x += 0x9e3779b97f4a7c15ull);
}

void rng_seed(struct rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_u64(struct rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double rng_uniform(struct rng *r) {
  return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Inversion by sequential search: expected n*p steps. p <= 0.5. */
static long binomial_inversion(struct rng *r, long n, double p) {
  double q = 1.0 - p;
  double s = p / q;
  double a = (double)(n + 1) * s;
  double f = pow(q, (double)n); /* P(X = 0) */
  double u = rng_uniform(r);
  long k = 0;
  while (u > f) {
    u -= f;
    k++;
    if (k > n)
      return n; /* rounding at the far tail */
    f *= (a / (double)k - s);
  }
  return k;
}

/* BTRS (Hörmann 1993, "The generation of binomial random variates"),
 * for n*p >= 10 and p <= 0.5. */
static long binomial_btrs(struct rng *r, long n, double p) {
  double q = 1.0 - p;
  double spq = sqrt((double)n * p * q);
  double b = 1.15 + 2.53 * spq;
  double a = -0.0873 + 0.0248 * b + 0.01 * p;
  double c = (double)n * p + 0.5;
  double vr = 0.92 - 4.2 / b;
  double alpha = (2.83 + 5.1 / b) * spq;
  double lpq = log(p / q);
  double m = floor((double)(n + 1) * p);
  pthread_once(&logfact_once, logfact_init);
  double h = logfact(m) + logfact((double)n - m);
  for (;;) {
    double u = rng_uniform(r) - 0.5;
    double v = rng_uniform(r);
    double us = 0.5 - fabs(u);
    double k = floor((2.0 * a / us + b) * u + c);
    if (k < 0 || k > (double)n)
      continue;
    if (us >= 0.07 && v <= vr)
      return (long)k;
    v = log(v * alpha / (a / (us * us) + b));
    if (v <= h - logfact(k) - logfact((double)n - k) + (k - m) * lpq)
      return (long)k;
  }
}

long rng_binomial(struct rng *r, long n, double p) {
  if (n <= 0 || p <= 0.0)
    return 0;
  if (p >= 1.0)
    return n;
  if (p > 0.5)
    return n - rng_binomial(r, n, 1.0 - p);
  if ((double)n * p < 10.0)
    return binomial_inversion(r, n, p);
  return binomial_btrs(r, n, p);
}
