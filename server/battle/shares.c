/* Shared battles: a voted battle its owner chose to show to anyone with
 * an unguessable link. The tokens live in memory (battle/share_map.h),
 * loaded at start and changed on the writer thread once stored, so that
 * neither a share page nor a share refusal waits on the disk. */
#include "battle/wait.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"

static int load_one(void *ctx, const char *token, const char *id) {
  return share_map_set(ctx, token, id);
}

int shares_load(struct arena *a) {
  long max = a->cfg->max_shares;
  return store_shares_load(&a->store, max, load_one, &a->shares);
}

/* The writer's part: inside the group's transaction. */
static int share_run(void *cls, struct store *st) {
  struct arena_wait *w = cls;
  if (!w->share)
    return store_share_delete_tx(st, w->id);
  return store_share_put_tx(st, w->token, w->id, now_ms(), w->token);
}

static void share_done(void *cls, int ok) {
  struct arena_wait *w = cls;
  if (ok) {
    char url[8 + ARENA_SHARE_TOKEN];
    snprintf(url, sizeof url, "/s/%s", w->token);
    if (!w->share) {
      share_map_drop(&w->a->shares, w->id);
      w->body = json_pack("{s:b}", "shared", 0);
    } else if (share_map_set(&w->a->shares, w->token, w->id) == 0) {
      w->body = json_pack("{s:s}", "url", url);
    }
    w->rc = w->body ? EC_OK : EC_INTERNAL;
    log_info("msg=\"%s\" battle=%s", w->share ? "shared" : "unshared",
             w->id);
  }
  waiter_tell(&w->waiter);
}

enum agon_ec arena_share_start(struct arena *a, struct arena_held *h,
                               const char *session, int share,
                               arena_vote_fn done, void *cls,
                               struct arena_wait **out,
                               char token[ARENA_SHARE_TOKEN]) {
  *out = NULL;
  token[0] = '\0';
  struct battle *b = arena_held_battle(h);
  if (!b)
    return EC_BATTLE_NOT_FOUND;
  char id[ARENA_BATTLE_ID];
  snprintf(id, sizeof id, "%s", b->id);
  pthread_mutex_lock(&b->lock);
  int mine = session && session[0] && !strcmp(b->session, session);
  int voted = b->status == BATTLE_VOTED;
  pthread_mutex_unlock(&b->lock);
  battle_unref(b);
  /* the owner first: nobody else learns whether it is voted */
  if (!mine)
    return EC_NOT_YOUR_BATTLE;
  if (!voted)
    return EC_BATTLE_NOT_VOTED;
  /* known shared here: answered at once (another node's share or unshare
   * is not in this memory: the writer asks the database then) */
  int shared = !arena_node_has_peers(a) && share_map_token(&a->shares, id,
                                                           token);
  if (share && shared)
    return EC_OK;
  struct config *cfg = arena_config(a);
  long max = cfg->max_shares;
  config_unref(cfg);
  if (share && share_map_count(&a->shares) >= (size_t)max)
    return EC_TOO_MANY_SHARES;
  struct arena_wait *w = arena_wait_new(a, done, cls);
  if (!w)
    return EC_NOT_QUEUED;
  w->share = share;
  snprintf(w->id, sizeof w->id, "%s", id);
  if (share && random_hex(w->token, 16)) {
    arena_wait_abandon(w);
    return EC_NOT_QUEUED;
  }
  if (store_writer_call(a->writer, share_run, share_done, w, 0)) {
    arena_wait_abandon(w);
    return EC_NOT_QUEUED;
  }
  *out = w;
  return EC_OK;
}

int arena_share_lookup(struct arena *a, const char *token,
                       char id[ARENA_BATTLE_ID]) {
  if (arena_node_has_peers(a))
    return -1;
  return share_map_battle(&a->shares, token, id) ? 1 : 0;
}

int arena_share_stored(struct arena *a, const char *token,
                       char id[ARENA_BATTLE_ID]) {
  return store_share_find(&a->store, token, id) == 1;
}

void arena_share_refresh(struct arena *a, const char *id) {
  struct battle *b = arena_node_has_peers(a) ? registry_get(&a->battles, id)
                                             : NULL;
  if (b) {
    pthread_mutex_lock(&b->lock);
    int stale = b->status != BATTLE_VOTED;
    pthread_mutex_unlock(&b->lock);
    if (stale)
      registry_forget(&a->battles, b);
    battle_unref(b);
  }
}

enum agon_ec arena_shared_json(struct arena *a, const char *token,
                               struct arena_held *h, json_t **out) {
  *out = NULL;
  char id[ARENA_BATTLE_ID];
  struct battle *b = arena_held_battle(h);
  /* still shared, and still this battle (it may be taken back meanwhile:
   * memory knows; where only the database does, it was read just now) */
  int k = b ? arena_share_lookup(a, token, id) : 0;
  int same = b && k != 0 && (k < 0 || !strcmp(id, b->id));
  if (b)
    battle_unref(b);
  if (!same)
    return EC_SHARE_NOT_FOUND;
  json_t *body;
  /* read as GET /api/battles/ID reads it */
  if (arena_battle_json(a, h, &body) || !body)
    return EC_SHARE_NOT_FOUND;
  if (!json_is_string(json_object_get(body, "winner"))) {
    json_decref(body);  /* only voted battles are ever shared */
    return EC_SHARE_NOT_FOUND;
  }
  json_object_del(body, "id");
  *out = body;
  return EC_OK;
}
