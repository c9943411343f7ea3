/* Request bodies: parsing and checking, pure (no I/O), shared by the
 * handlers and the fuzzers. Each check returns EC_OK when the body is
 * fine, else the error for the reply, with its message in msg. */
#ifndef AGON_HTTP_BODY_H
#define AGON_HTTP_BODY_H

#include <jansson.h>
#include <stddef.h>

#include "errors/errors.h"
#include "rating/elo.h"

/* Parse len bytes as a JSON object into *out (owned by the caller). */
enum agon_ec body_parse(const char *data, size_t len, json_t **out,
                        char *msg, size_t msglen);

/* {"prompt": "..."}: a string of 1 to max_chars characters, not only
 * white space, without NUL. *prompt borrows from body. */
enum agon_ec body_check_prompt(const json_t *body, long max_chars,
                               const char **prompt, char *msg, size_t msglen);

/* {"winner": "a" | "b" | "tie" | "bothbad"}. */
enum agon_ec body_check_winner(const json_t *body, enum winner *w,
                               char *msg, size_t msglen);

#endif
