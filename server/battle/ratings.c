/* The ratings as the leaderboards read them: copies and references that
 * the caller owns, so that no reader holds a lock of the arena's. */
#include "battle/arena_impl.h"

#include "storage/judgments.h"

struct bt_snapshot *arena_bt_snapshot(struct arena *a) {
  return rating_worker_snapshot(&a->bt);
}

struct bt_snapshot *arena_slice_snapshot(struct arena *a, const char *key) {
  return rating_worker_slice_snapshot(&a->bt, key);
}

struct style_board *arena_style_board(struct arena *a, const char *key) {
  return style_boards_get(&a->style, key);
}

struct history_board *arena_history_board(struct arena *a, int64_t as_of) {
  return history_board_get(&a->history, as_of);
}

char *arena_history_series(struct arena *a, size_t *len) {
  return history_series_get(&a->history, len);
}

long arena_slice_votes(struct arena *a, const char *key) {
  return live_ratings_slice_votes(&a->live, key);
}

int arena_slices(struct arena *a, struct slice_count **out, size_t *n) {
  return live_ratings_slices(&a->live, out, n);
}

int arena_elo(struct arena *a, struct rating_table *out) {
  return live_ratings_elo_copy(&a->live, out);
}

int arena_judge_ratings(struct arena *a, const char *judge, double k,
                        struct rating_table *elo, struct pair_table *pairs) {
  return store_judge_ratings(&a->store, judge, k, elo, pairs);
}

void arena_versions(struct arena *a, struct arena_versions *out) {
  out->votes = atomic_load(&a->version);
  out->judgments = atomic_load(&a->store.judgments);
  out->data = version_watch_value(&a->watch);
}

long arena_dedup_left_out(struct arena *a) {
  return atomic_load(&a->dedup_left_out);
}

int64_t arena_ratings_updated(struct arena *a) {
  return atomic_load(&a->ratings_updated);
}
