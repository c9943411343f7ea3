/* The identity-leak guard: a vote on a battle whose prompt or answers
 * name a model (or a word that gives one away) is stored but not counted,
 * as FastChat drops such battles. Pure. */
#ifndef AGON_RATING_IDENTITY_H
#define AGON_RATING_IDENTITY_H

#include <stddef.h>

#include "config/config.h"

/* The first configured model name, alias or identity word found in any
 * of texts[n] (case-insensitive, as a whole word), or NULL. */
const char *identity_leak(const struct config *cfg, const char *const *texts,
                          size_t n);

/* Whether needle (lowercase) occurs in hay as a whole word, ignoring case. */
int contains_word(const char *hay, const char *needle);

#endif
