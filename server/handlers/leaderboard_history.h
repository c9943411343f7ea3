/* The leaderboard as it was, and each model's rating over time
 * (handlers/leaderboard_history.c). */
#ifndef AGON_HANDLERS_LEADERBOARD_HISTORY_H
#define AGON_HANDLERS_LEADERBOARD_HISTORY_H

#include <microhttpd.h>
#include <stdint.h>

#include "http/request.h"

/* An as_of value into *ms (ms since the epoch): an RFC 3339 UTC time
 * "YYYY-MM-DDTHH:MM:SS[.fff]Z" (a "t" or a space for the "T", "z" for the
 * "Z"), or a date "YYYY-MM-DD" (its midnight UTC). 0, or -1 when it is
 * neither. Pure. */
int leaderboard_as_of_parse(const char *s, int64_t *ms);

/* GET /api/leaderboard?as_of=T with T not in the future: the board as
 * of T from the rating history (battle/history.h), or {"pending": true,
 * "as_of"} while it is computed in the background. by_bt: sorted by BT,
 * else by Elo. */
enum MHD_Result leaderboard_as_of_reply(struct request *rq, int64_t as_of,
                                        int by_bt);

#endif
