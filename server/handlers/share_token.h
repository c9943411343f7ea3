/* The form of a share's token in a URL: 32 lowercase hex digits (128
 * random bits, battle/shares.c). */
#ifndef AGON_HANDLERS_SHARE_TOKEN_H
#define AGON_HANDLERS_SHARE_TOKEN_H

#include <string.h>

static inline int share_token_ok(const char *t) {
  return strlen(t) == 32 && strspn(t, "0123456789abcdef") == 32;
}

#endif
