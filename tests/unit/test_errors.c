/* The error table (errors/errors.c), walked: every entry is an error
 * status with a lowercase snake_case code and a message; a code has one
 * entry of its own, so it always means one status, Retry-After and close;
 * an entry that is a message of another's code says something else. */
#include <string.h>

#include "check.h"
#include "errors/errors.h"

static int snake_case(const char *s) {
  if (!s || !(*s >= 'a' && *s <= 'z'))
    return 0;
  for (const char *p = s; *p; p++) {
    int ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
             (*p == '_' && p[1] && p[1] != '_');
    if (!ok)
      return 0;
  }
  return 1;
}

int main(void) {
  int codes = 0;
  for (int i = EC_OK + 1; i < EC_COUNT; i++) {
    enum agon_ec ec = (enum agon_ec)i;
    struct ec_info e = ec_info(ec);
    enum agon_ec of = ec_of(ec);
    CHECK(e.status >= 400 && e.status <= 599);
    CHECK(snake_case(e.code));
    CHECK(e.message && e.message[0]);
    CHECK(e.message && e.message[0] &&
          e.message[strlen(e.message) - 1] != '.');
    CHECK(e.retry >= EC_RETRY_GIVEN);
    CHECK(e.close == 0 || e.close == 1);
    /* a message entry points at an entry with a code of its own */
    CHECK(of > EC_OK && of < EC_COUNT);
    CHECK(ec_of(of) == of);
    if (of == ec)
      codes++;
    if (!e.code || !e.message)
      continue;
    for (int j = EC_OK + 1; j < i; j++) {
      struct ec_info f = ec_info((enum agon_ec)j);
      if (!f.code || !f.message)
        continue;
      /* a code has one entry of its own ... */
      if (ec_of((enum agon_ec)j) == (enum agon_ec)j && of == ec &&
          !strcmp(e.code, f.code)) {
        fprintf(stderr, "code '%s' of entries %d and %d\n", e.code, j, i);
        CHECK(!"a code has one entry");
      }
      /* ... the same status, Retry-After and close wherever it is used ... */
      if (!strcmp(e.code, f.code))
        CHECK(e.status == f.status && e.retry == f.retry &&
              e.close == f.close);
      /* ... and no two entries of a code say the same */
      if (!strcmp(e.code, f.code) && !strcmp(e.message, f.message)) {
        fprintf(stderr, "'%s' twice for '%s'\n", e.message, e.code);
        CHECK(!"a message once per code");
      }
    }
  }
  CHECK(codes > 30);

  /* what is not an error of the table replies as internal */
  struct ec_info ok = ec_info(EC_OK), past = ec_info(EC_COUNT);
  CHECK(ok.status == 500 && past.status == 500);
  CHECK_STR(ok.code, "internal");
  CHECK_STR(past.code, "internal");
  CHECK(ec_of(EC_OK) == EC_OK && ec_of(EC_COUNT) == EC_OK);

  /* a few entries as the API documents them (README, "Safe by default") */
  struct ec_info busy = ec_info(EC_BUSY);
  CHECK(busy.status == 503 && busy.retry == 5 && !busy.close);
  CHECK_STR(busy.code, "busy");
  struct ec_info over = ec_info(EC_OVERLOADED);
  CHECK(over.status == 503 && over.retry == 1 && over.close);
  struct ec_info votes = ec_info(EC_TOO_MANY_VOTES);
  CHECK(votes.status == 429 && votes.retry == EC_RETRY_GIVEN);
  CHECK_STR(votes.code, "rate_limited");
  CHECK(ec_of(EC_TOO_MANY_VOTES) == EC_RATE_LIMITED);
  CHECK_STR(ec_info(EC_STORAGE_VOTE).code, "storage_unavailable");
  CHECK(ec_info(EC_FRAMING_HTTP_1_0).close);
  return check_done("errors");
}
