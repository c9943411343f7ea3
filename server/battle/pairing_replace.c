/* Whether a failed side can be replaced at all: how many enabled models
 * the battle has not held are left. Pure (no lock, no draw), so that the
 * end of every turn can ask it under the battle's lock; the draw itself is
 * the pairing rules' (arena_pairing_draw_one, battle/pairing.c). */
#include "battle/arena_impl.h"

#include <string.h>

size_t pairing_replacements_left(const struct config *cfg,
                                 const char *const *exclude,
                                 size_t n_exclude) {
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_models; i++) {
    const struct model_config *m = &cfg->models[i];
    int held = !m->enabled || !m->base_url;
    for (size_t j = 0; j < n_exclude && !held; j++)
      held = exclude[j] && !strcmp(exclude[j], m->name);
    n += !held;
  }
  return n;
}
