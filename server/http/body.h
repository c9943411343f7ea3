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

/* The most reasons one vote may give (beside: no more than the arena
 * has). */
#define BODY_MAX_REASONS 16

/* A vote's optional extras: {"reasons": [...], "comment": "..."} (either
 * absent or null: none). reasons: distinct strings, each one of
 * allowed[n_allowed], at most BODY_MAX_REASONS, else EC_INVALID_REASON
 * (the message never echoes what was sent); *reasons gets them as a
 * compact JSON array for the caller to free, NULL for none or an empty
 * array. comment: a string without NUL (EC_INVALID_COMMENT) of at most
 * max_comment_chars characters (EC_COMMENT_TOO_LONG); *comment borrows it
 * from body, NULL for none or "". EC_INTERNAL_VOTE when out of memory. */
enum agon_ec body_check_vote_extras(const json_t *body,
                                    const char *const *allowed,
                                    size_t n_allowed, long max_comment_chars,
                                    char **reasons, const char **comment,
                                    char *msg, size_t msglen);

#endif
