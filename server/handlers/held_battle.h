/* The handlers that work on one battle (its GET, its events, a follow-up,
 * a regenerate or retry, a share, a shared page) hold it in memory first
 * (battle/arena.h's arena_held): at once when it is there, else read back
 * on the arena's loader thread while the connection is suspended, so that
 * no HTTP worker waits on the disk. */
#ifndef AGON_HANDLERS_HELD_BATTLE_H
#define AGON_HANDLERS_HELD_BATTLE_H

#include <microhttpd.h>

#include "battle/arena.h"
#include "http/request.h"

/* What a handler does with the battle held: answer rq (at once, or by
 * suspending it again). h is borrowed for the call, and may hold no
 * battle (arena_held_result says so; the arena's operations answer
 * EC_BATTLE_NOT_FOUND for it). rq->pending is free for its own use. */
typedef enum MHD_Result (*held_battle_fn)(struct request *rq,
                                          struct arena_held *h);

/* Call fn(rq, h) with battle id held: at once when it is in memory, else
 * once the loader has read it (when the request is resumed). A read that
 * cannot be queued is answered EC_NOT_QUEUED. */
enum MHD_Result with_held_battle(struct request *rq, const char *id,
                                 held_battle_fn fn);

#endif
