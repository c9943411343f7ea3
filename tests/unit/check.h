/* A minimal test harness: CHECK records a failure and goes on; the test
 * program exits non-zero when any check failed. */
#ifndef AGON_TESTS_CHECK_H
#define AGON_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                          \
  do {                                                                       \
    check_count++;                                                           \
    if (!(cond)) {                                                           \
      check_failures++;                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,      \
              #cond);                                                        \
    }                                                                        \
  } while (0)

#define CHECK_STR(a, b)                                                      \
  do {                                                                       \
    const char *a_ = (a), *b_ = (b);                                         \
    check_count++;                                                           \
    if (!a_ || !b_ || strcmp(a_, b_)) {                                      \
      check_failures++;                                                      \
      fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__,          \
              a_ ? a_ : "(null)", b_ ? b_ : "(null)");                       \
    }                                                                        \
  } while (0)

#define CHECK_NEAR(a, b, eps)                                                \
  do {                                                                       \
    double a_ = (a), b_ = (b);                                               \
    check_count++;                                                           \
    if (!(fabs(a_ - b_) <= (eps))) {                                         \
      check_failures++;                                                      \
      fprintf(stderr, "%s:%d: %.12f != %.12f\n", __FILE__, __LINE__, a_,    \
              b_);                                                           \
    }                                                                        \
  } while (0)

static inline int check_done(const char *name) {
  printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
  return check_failures ? 1 : 0;
}

#endif
