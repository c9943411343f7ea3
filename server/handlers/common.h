/* Helpers shared by the battle handlers. */
#ifndef AGON_HANDLERS_COMMON_H
#define AGON_HANDLERS_COMMON_H

#include <microhttpd.h>

#include "http/request.h"

/* The "prompt" of the request body, checked: a string of 1 to
 * max_prompt_chars characters, not only white space. NULL when it is not
 * (and the 400 is already queued in *res). */
const char *body_prompt(struct request *rq, enum MHD_Result *res);

/* body_prompt, then one token of the client's battles_per_minute (a
 * new battle and a follow-up count alike). NULL when either says no (the
 * 400 or 429 is already queued in *res). */
const char *body_prompt_allowed(struct request *rq, enum MHD_Result *res);

#endif
