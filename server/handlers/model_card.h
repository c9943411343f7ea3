/* A model's card as the API shows it (handlers/model_card.c). */
#ifndef AGON_HANDLERS_MODEL_CARD_H
#define AGON_HANDLERS_MODEL_CARD_H

#include <jansson.h>

#include "config/config.h"

/* A new object: "name" and the card's organization, license, url, price
 * (each null when not given), open_weights (a boolean) and context (a
 * number of tokens, or null). m NULL (a model no longer configured): the
 * name alone with every field null and open_weights false. */
json_t *model_card_json(const char *name, const struct model_config *m);

/* Set the card's fields (not the name) into the object o. */
void model_card_set(json_t *o, const struct model_config *m);

/* The cards of a voted battle's two models, [a, b], by their names in
 * cfg (a new array). Only for a battle that is voted: before, the cards
 * would name the models. */
json_t *model_cards_json(const struct config *cfg, const char *model_a,
                         const char *model_b);

#endif
