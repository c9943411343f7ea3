/* The slice a leaderboard request asks for: ?language=, ?category= and
 * ?style= (handlers/leaderboard*.c). */
#ifndef AGON_HANDLERS_SLICE_QUERY_H
#define AGON_HANDLERS_SLICE_QUERY_H

#include <microhttpd.h>

#include "config/config.h"
#include "errors/errors.h"
#include "http/request.h"
#include "rating/slices.h"

struct slice_query {
  const char *language;      /* borrowed from the request; NULL: any */
  const char *category;      /* borrowed; NULL: any */
  char key[SLICE_KEY_MAX];   /* the slice's key; "" for the whole board */
  int style;                 /* style=control */
  int open_weights;          /* open_weights=true: the open-weights board */
};

/* Read and check the request's arguments: a language is an ISO 639 code
 * (two or three letters a-z, as tag/language.h gives them, or "und"), a
 * category a built-in or configured one (slice_category_known), a style
 * "control" or "none". EC_OK, or the error to answer with. */
enum agon_ec slice_query_read(struct request *rq, struct slice_query *q);

/* Whether name is a category of cfg's boards: a heuristic one
 * (tag/categories.h), an LLM built-in (tag/llm.h) or a [category]. */
int slice_category_known(const struct config *cfg, const char *name);

/* A board's "dedup": de-duplication's settings and the counted votes it
 * has left out of the BT boards (a new object); for a board of the humans'
 * votes, else (a judge's board, which it does not apply to) disabled. */
json_t *leaderboard_dedup_json(struct request *rq, int human);

/* The board of slice q (q->key not ""): its latest Bradley-Terry fit,
 * each model's counts in the slice and its rank change against the whole
 * board (handlers/leaderboard_slice.c). */
enum MHD_Result leaderboard_slice_reply(struct request *rq,
                                        const struct slice_query *q);

/* The open-weights board of slice q (q->open_weights; the whole board's
 * when q->key is ""): the background fit over the votes between two
 * open-weights models only, ranked among them; {"pending": true} while
 * its first fit is under way (handlers/leaderboard_slice.c). */
enum MHD_Result leaderboard_open_reply(struct request *rq,
                                       const struct slice_query *q);

/* The board of slice q (the whole board when q->key is "") fitted with
 * style control, with its coefficients (handlers/leaderboard_slice.c). */
enum MHD_Result leaderboard_style_reply(struct request *rq,
                                        const struct slice_query *q);

#endif
