/* The nodes' store functions (storage/nodes.h), handed to the engine. An
 * engine that has not filled these ops cannot run as a node: the calls
 * fail with a message, never crash. */
#include "storage/nodes.h"

#include "storage/ops.h"
#include "util/log.h"
#include "util/nowait.h"

static int has(struct store *st, const void *op, const char *what) {
  nowait_check(what); /* every op here reads or writes the database */
  if (op)
    return 1;
  log_error("msg=\"this storage engine cannot keep nodes\" engine=%s op=%s",
            st->ops->name, what);
  return 0;
}

/* fn(st) inside a transaction of its own with st->lock held; rolled back
 * when it returns < 0. */
static long in_tx(struct store *st, long (*fn)(struct store *st, void *cls),
                  void *cls) {
  pthread_mutex_lock(&st->lock);
  long rc = -1;
  if (store_tx_begin(st) == 0) {
    rc = fn(st, cls);
    if (rc < 0 || store_tx_commit(st)) {
      store_tx_rollback(st);
      rc = -1;
    }
  }
  pthread_mutex_unlock(&st->lock);
  return rc;
}

struct register_args {
  const struct store_node *me;
  long lease_ms;
  int force;
  struct store_node *holder;
};

static long register_fn(struct store *st, void *cls) {
  struct register_args *r = cls;
  return st->ops->node_register(st->impl, r->me, r->lease_ms, r->force,
                                r->holder);
}

int store_node_register(struct store *st, const struct store_node *me,
                        long lease_ms, int force, struct store_node *holder) {
  if (!has(st, st->ops->node_register, "node_register"))
    return -1;
  struct register_args r = {me, lease_ms, force, holder};
  return (int)in_tx(st, register_fn, &r);
}

int store_node_heartbeat_tx(struct store *st, const char *name,
                            const char *instance, const char *url,
                            long lease_ms, int64_t *lapsed_ms) {
  if (!has(st, st->ops->node_heartbeat, "node_heartbeat"))
    return -1;
  return st->ops->node_heartbeat(st->impl, name, instance, url, lease_ms,
                                 lapsed_ms);
}

long store_nodes_reap_tx(struct store *st) {
  if (!has(st, st->ops->nodes_reap, "nodes_reap"))
    return -1;
  return st->ops->nodes_reap(st->impl);
}

static long fail_fn(struct store *st, void *cls) {
  return st->ops->node_fail_battles(st->impl, cls);
}

long store_node_fail_battles(struct store *st, const char *name) {
  if (!has(st, st->ops->node_fail_battles, "node_fail_battles"))
    return -1;
  return in_tx(st, fail_fn, (void *)name);
}

struct leave_args {
  const char *name, *instance;
};

static long leave_fn(struct store *st, void *cls) {
  struct leave_args *l = cls;
  return st->ops->node_leave(st->impl, l->name, l->instance);
}

int store_node_leave(struct store *st, const char *name,
                     const char *instance) {
  if (!has(st, st->ops->node_leave, "node_leave"))
    return -1;
  struct leave_args l = {name, instance};
  return (int)in_tx(st, leave_fn, &l);
}

int store_nodes_list(struct store *st, struct store_node **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!has(st, st->ops->nodes_list, "nodes_list"))
    return -1;
  return st->ops->nodes_list(st->impl, out, n);
}

int store_changed_elsewhere_tx(struct store *st, long live_battles) {
  /* an engine without it has nothing to say: nothing changed */
  return st->ops->changed_elsewhere
             ? st->ops->changed_elsewhere(st->impl, live_battles)
             : 0;
}

int store_share_find(struct store *st, const char *token, char id[40]) {
  id[0] = '\0';
  if (!has(st, st->ops->share_find, "share_find"))
    return -1;
  return st->ops->share_find(st->impl, token, id);
}
