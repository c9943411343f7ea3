/* The form of a share's token in a URL: 32 lowercase hex digits (128
 * random bits, battle/shares.c). */
#ifndef AGON_HANDLERS_SHARE_TOKEN_H
#define AGON_HANDLERS_SHARE_TOKEN_H

#include <microhttpd.h>
#include <string.h>

#include "battle/arena.h"
#include "http/request.h"

static inline int share_token_ok(const char *t) {
  return strlen(t) == 32 && strspn(t, "0123456789abcdef") == 32;
}

/* What is done with a shared battle's id (as arena_hold wants it), on the
 * worker; it may wait on rq in its turn (with_held_battle). */
typedef enum MHD_Result (*shared_battle_fn)(struct request *rq,
                                            const char *id);

/* fn(rq, id) for the battle the share token rq->param names: from memory,
 * or read on the loader thread where only the database knows it (other
 * nodes share too: arena_share_lookup); share_not_found for a token of
 * the wrong form or one that shares nothing. */
enum MHD_Result with_shared_battle(struct request *rq, shared_battle_fn fn);

#endif
