/* The model that takes over a failed side (a retry): drawn by the rules
 * of a new battle's pairing, for now uniformly among the enabled models
 * the battle has not held. One small function, so that the pairing rules
 * of a new battle (weights, active sampling) can take its place. */
#include "battle/arena_impl.h"

#include <string.h>

/* At most this many models are drawn from (as a new battle's draw). */
#define DRAW_MAX 512

const struct model_config *pairing_draw_replacement(
    const struct config *cfg, const char *const *exclude, size_t n_exclude,
    uint64_t random) {
  size_t eligible[DRAW_MAX];
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_models && n < DRAW_MAX; i++) {
    const struct model_config *m = &cfg->models[i];
    int held = !m->enabled || !m->base_url;
    for (size_t j = 0; j < n_exclude && !held; j++)
      held = exclude[j] && !strcmp(exclude[j], m->name);
    if (!held)
      eligible[n++] = i;
  }
  return n ? &cfg->models[eligible[random % n]] : NULL;
}
