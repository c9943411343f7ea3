/* A battle's tags in the forms every storage engine stores them
 * (tag/battle_tags.h): the categories as comma-separated names, and the
 * style counts as FastChat's conv_metadata JSON, so that an export gives
 * them back as FastChat wrote them. Engine-neutral, pure. */
#ifndef AGON_STORAGE_TAGS_H
#define AGON_STORAGE_TAGS_H

#include <jansson.h>

#include "tag/battle_tags.h"

/* FastChat's conv_metadata of t (a new object; NULL when out of memory):
 * sum_user_tokens, sum_assistant_{a,b}_tokens, turns, and
 * header_count_{a,b} {h1..h6}, list_count_{a,b} {ordered, unordered},
 * bold_count_{a,b} {"**", "__"}. */
json_t *store_conv_metadata(const struct battle_tags *t);

#endif
