/* The arena's side of the pairing rules (rating/pairing.h): which enabled
 * models a new battle pairs, and which model replaces a failed side. The
 * rules read the config (rule, weights, boosts), the live Elo table's
 * counted battles (for the boost) and the ratings worker's latest fit
 * (for the active rule), all from memory: a draw never touches the disk.
 * Private to battle/. */
#ifndef AGON_BATTLE_PAIRING_H
#define AGON_BATTLE_PAIRING_H

#include <pthread.h>
#include <stddef.h>

#include "config/config.h"
#include "rating/pairing.h"

struct arena;

/* The table of the last draw, kept while what it was built from holds
 * (config generation, rule, fit, enabled models, which are boosted): a
 * new fit, a reload or a model passing boost_until rebuilds it (O(n^2));
 * every other draw is O(log n). */
struct pairing_cache {
  pthread_mutex_t lock;
  struct pairing_table table;
  int built;
  long generation;
  long fit;                /* the fit its active scores came from; 0: none */
  enum config_pairing rule;
  size_t *models;          /* table index -> index in the config's models */
  unsigned char *boosted;  /* table index -> boosted when built */
  int n;
};

void pairing_cache_init(struct pairing_cache *c);
void pairing_cache_release(struct pairing_cache *c);

/* The two models of a new battle among cfg's enabled models (at most the
 * first 512 of them), as indices into cfg->models, in random side order:
 * 0, or -1 when fewer than two are enabled (or out of memory: then a
 * uniform draw is made, so -1 means too few models only). */
int arena_pairing_draw(struct arena *a, const struct config *cfg,
                       size_t *model_a, size_t *model_b);

/* One enabled model to replace a battle's failed side, by the same rules:
 * none of the n_exclude names in exclude (the failed model, the
 * survivor); partner (may be NULL) is the model it will face, whose pair
 * with each candidate sets the odds. Its index in cfg->models, or -1 when
 * no enabled model is left. */
long arena_pairing_draw_one(struct arena *a, const struct config *cfg,
                            const char *partner, const char *const *exclude,
                            size_t n_exclude);

#endif
