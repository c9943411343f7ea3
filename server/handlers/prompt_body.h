/* The prompt of a request body, for the handlers that ask the models
 * (a new battle, a follow-up turn). */
#ifndef AGON_HANDLERS_PROMPT_BODY_H
#define AGON_HANDLERS_PROMPT_BODY_H

#include <microhttpd.h>

#include "http/request.h"

/* The "prompt" of the request body, checked (a string of 1 to
 * max_prompt_chars characters, not only white space), then one token of
 * the client's battles_per_minute (a new battle and a follow-up count
 * alike). NULL when either says no (the 400 or 429 is already queued in
 * *res). */
const char *prompt_from_body(struct request *rq, enum MHD_Result *res);

#endif
