/* This process as one node among others (battle/node.h). */
#include "battle/arena_impl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/interchange.h"
#include "util/clock.h"
#include "util/digest.h"
#include "util/listen.h"
#include "util/log.h"
#include "util/random.h"

/* An unknown node is looked up in the table again at most this often
 * (a request naming one waits for that read). */
#define PEERS_REREAD_MS 50
/* ...and on a commit of another process at most this often, besides every
 * heartbeat */
#define PEERS_EVERY_MS 250

/* host:port as a URL's authority: an IPv6 address in brackets, a
 * wildcard as the machine's host name. */
static void url_for(const char *host, unsigned port, const char *machine,
                    char *out, size_t len) {
  int wildcard = !host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
  const char *h = wildcard ? machine : host;
  int v6 = strchr(h, ':') != NULL;
  snprintf(out, len, "http://%s%s%s:%u", v6 ? "[" : "", h, v6 ? "]" : "",
           port);
}

const char *arena_node_name(struct arena *a) { return a->node.name; }

static int beat_run(void *cls, struct store *st);

void arena_node_listening(struct arena *a, const char *host, unsigned port) {
  struct config *cfg = arena_config(a);
  pthread_mutex_lock(&a->node.lock);
  if (!cfg->internal_url)
    url_for(host, port, a->node.host, a->node.url, sizeof a->node.url);
  pthread_mutex_unlock(&a->node.lock);
  config_unref(cfg);
  /* stored before the server says it listens, so that the others find
   * this node where its battles are */
  if (store_writer_call(a->writer, beat_run, NULL, a, 0) == 0)
    store_writer_flush(a->writer);
  log_info("msg=\"node listening\" node=%s url=\"%s\"", a->node.name,
           log_q(a->node.url));
}

void arena_nodes_stale(struct arena *a) {
  pthread_mutex_lock(&a->node.lock);
  a->node.peers_stale = 1;
  pthread_mutex_unlock(&a->node.lock);
}

/* Read the nodes table into a->node.peers. 0 or -1. */
static int peers_read(struct arena *a) {
  struct store_node *rows = NULL;
  size_t n = 0;
  if (store_nodes_list(&a->store, &rows, &n))
    return -1;
  struct node_peer *peers = calloc(n + 1, sizeof *peers);
  if (!peers) {
    free(rows);
    return -1;
  }
  long long now = mono_ms();
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(rows[i].name, a->node.name))
      continue;
    struct node_peer *p = &peers[k++];
    snprintf(p->name, sizeof p->name, "%s", rows[i].name);
    snprintf(p->url, sizeof p->url, "%s", rows[i].url);
    p->alive_until = rows[i].lease_left > 0 ? now + rows[i].lease_left : 0;
  }
  free(rows);
  pthread_mutex_lock(&a->node.lock);
  struct node_peer *old = a->node.peers;
  a->node.peers = peers;
  a->node.n_peers = k;
  a->node.peers_at = now;
  pthread_mutex_unlock(&a->node.lock);
  free(old);
  return 0;
}

enum arena_owner arena_battle_owner(struct arena *a, const char *id,
                                    int settled, char *url, size_t len) {
  char node[NODE_NAME_MAX + 1];
  url[0] = '\0';
  if (!node_of_battle(id, node) || !strcmp(node, a->node.name))
    return ARENA_OWNER_HERE;
  enum arena_owner o = ARENA_OWNER_UNKNOWN;
  pthread_mutex_lock(&a->node.lock);
  const struct node_peer *p = NULL;
  for (size_t i = 0; i < a->node.n_peers && !p; i++)
    if (!strcmp(a->node.peers[i].name, node))
      p = &a->node.peers[i];
  if (p && a->node.peers_stale && !settled) {
    o = ARENA_OWNER_REREAD; /* a forward failed: the node may have moved */
  } else if (p) {
    snprintf(url, len, "%s", p->url);
    o = mono_ms() < p->alive_until ? ARENA_OWNER_THERE : ARENA_OWNER_GONE;
  } else if (!settled && mono_ms() - a->node.peers_at >= PEERS_REREAD_MS) {
    o = ARENA_OWNER_REREAD; /* a node that started since the last read */
  }
  pthread_mutex_unlock(&a->node.lock);
  return o;
}

void arena_nodes_reread(struct arena *a) {
  pthread_mutex_lock(&a->node.lock);
  a->node.peers_stale = 0;
  pthread_mutex_unlock(&a->node.lock);
  if (peers_read(a))
    log_warn("msg=\"cannot read the nodes table\" err=\"%s\"",
             log_q(store_error(&a->store)));
}

json_t *arena_nodes_json(struct arena *a) {
  struct store_node *rows = NULL;
  size_t n = 0;
  if (store_nodes_list(&a->store, &rows, &n))
    return NULL;
  json_t *list = json_array();
  for (size_t i = 0; list && i < n; i++)
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "name",
                        rows[i].name, "url", rows[i].url, "host",
                        rows[i].host, "pid", (json_int_t)rows[i].pid,
                        "started_at", (json_int_t)rows[i].started_at,
                        "heartbeat_at", (json_int_t)rows[i].heartbeat_at,
                        "lease_until", (json_int_t)rows[i].lease_until,
                        "alive", rows[i].lease_left > 0));
  free(rows);
  return list ? json_pack("{s:s, s:o}", "node", a->node.name, "nodes", list)
              : NULL;
}

size_t arena_node_peers(struct arena *a, struct arena_peer *out,
                        size_t max) {
  _Static_assert(ARENA_PEER_NAME > NODE_NAME_MAX, "a node's name fits");
  _Static_assert(ARENA_PEER_URL >= STORE_NODE_URL, "a node's URL fits");
  size_t n = 0;
  long long now = mono_ms();
  pthread_mutex_lock(&a->node.lock);
  for (size_t i = 0; i < a->node.n_peers && n < max; i++) {
    const struct node_peer *p = &a->node.peers[i];
    if (now >= p->alive_until)
      continue;
    snprintf(out[n].name, sizeof out[n].name, "%s", p->name);
    snprintf(out[n].url, sizeof out[n].url, "%s", p->url);
    n++;
  }
  pthread_mutex_unlock(&a->node.lock);
  return n;
}

int arena_node_has_peers(struct arena *a) {
  pthread_mutex_lock(&a->node.lock);
  /* until the table was read a heartbeat after this node joined, a node
   * that started beside it may not be in what was read */
  int peers = a->node.n_peers > 0 ||
              a->node.peers_at < a->node.joined_at + a->node.heartbeat_ms;
  pthread_mutex_unlock(&a->node.lock);
  return peers;
}

int arena_forward_mac(struct arena *a, const char *text, char out[65]) {
  char key[80];
  /* a key of its own, from the database's secret (every node's) */
  if (hmac_sha256_hex(a->secret, strlen(a->secret), "agon-forward", 12, key))
    return -1;
  return hmac_sha256_hex(key, strlen(key), text, strlen(text), out);
}

int node_join(struct arena *a, const struct config *cfg, char *err,
              size_t errlen) {
  struct arena_node *n = &a->node;
  pthread_mutex_init(&n->lock, NULL);
  pthread_condattr_t monotonic;
  pthread_condattr_init(&monotonic);
  pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
  pthread_cond_init(&n->wake, &monotonic);
  pthread_condattr_destroy(&monotonic);
  atomic_init(&n->beating, 0);
  atomic_init(&n->dedup_stale, 0);
  n->lease_ms = cfg->lease_seconds * 1000;
  n->heartbeat_ms = cfg->heartbeat_seconds * 1000;
  if (gethostname(n->host, sizeof n->host - 1))
    snprintf(n->host, sizeof n->host, "localhost");
  char host[256];
  uint16_t port = 0;
  if (parse_listen(cfg->listen, host, sizeof host, &port))
    host[0] = '\0';
  if (cfg->node)
    snprintf(n->name, sizeof n->name, "%s", cfg->node);
  else
    node_name_default(n->host, port, n->name);
  if (cfg->internal_url)
    snprintf(n->url, sizeof n->url, "%s", cfg->internal_url);
  else  /* until the server listens (arena_node_listening) */
    url_for(host, port, n->host, n->url, sizeof n->url);
  if (random_hex(n->instance, (STORE_NODE_INSTANCE - 1) / 2)) {
    snprintf(err, errlen, "cannot make a node instance: no randomness");
    return -1;
  }
  struct store_node me = {.pid = (long)getpid()};
  snprintf(me.name, sizeof me.name, "%s", n->name);
  snprintf(me.url, sizeof me.url, "%s", n->url);
  snprintf(me.host, sizeof me.host, "%s", n->host);
  snprintf(me.instance, sizeof me.instance, "%s", n->instance);
  struct store_node holder;
  int rc = store_node_register(&a->store, &me, n->lease_ms, 0, &holder);
  if (rc == 1 && !strcmp(holder.host, me.host) && holder.pid > 0 &&
      holder.pid != me.pid && kill((pid_t)holder.pid, 0) && errno == ESRCH) {
    /* its process on this machine is gone (killed, crashed): no need to
     * wait for its lease */
    log_warn("msg=\"node taken over from a process that is gone\" "
             "node=%s pid=%ld",
             n->name, holder.pid);
    rc = store_node_register(&a->store, &me, n->lease_ms, 1, &holder);
  }
  if (rc == 1) {
    snprintf(err, errlen,
             "node '%s' is held by another process (host %s, pid %ld, %s) "
             "for %lld s more: give each node its own [server] node",
             n->name, holder.host, holder.pid, holder.url,
             (long long)(holder.lease_left + 999) / 1000);
    return -1;
  }
  if (rc) {
    snprintf(err, errlen, "cannot register node '%s': %s", n->name,
             store_error(&a->store));
    return -1;
  }
  n->registered = 1;
  n->joined_at = mono_ms();
  /* the battles this node was streaming when it last ended */
  long failed = store_node_fail_battles(&a->store, n->name);
  if (failed < 0) {
    snprintf(err, errlen, "cannot fail node '%s''s old battles: %s", n->name,
             store_error(&a->store));
    return -1;
  }
  log_info("msg=\"node registered\" node=%s url=\"%s\" lease_ms=%ld "
           "failed_battles=%ld",
           n->name, log_q(n->url), n->lease_ms, failed);
  peers_read(a);
  return 0;
}

/* ---- the keeper ---- */

/* The writer's job: renew the lease, then fail what dead nodes were
 * streaming (writer thread, st->lock held, in the group's transaction). */
static int beat_run(void *cls, struct store *st) {
  struct arena *a = cls;
  char url[STORE_NODE_URL];
  pthread_mutex_lock(&a->node.lock);
  snprintf(url, sizeof url, "%s", a->node.url);
  pthread_mutex_unlock(&a->node.lock);
  int64_t lapsed = 0;
  int rc = store_node_heartbeat_tx(st, a->node.name, a->node.instance, url,
                                   a->node.lease_ms, &lapsed);
  if (rc == 1)
    log_error("msg=\"another process has taken this node's name over: "
              "give each node its own [server] node\" node=%s",
              a->node.name);
  else if (rc == 0 && lapsed > 0)
    log_warn("msg=\"this node's lease had passed: other nodes may have "
             "failed its streaming battles\" node=%s lapsed_ms=%lld",
             a->node.name, (long long)lapsed);
  long reaped = store_nodes_reap_tx(st);
  if (reaped > 0)
    log_info("msg=\"battles of dead nodes failed\" count=%ld", reaped);
  return rc < 0 || reaped < 0 ? -1 : 0;
}

static void beat_done(void *cls, int ok) {
  struct arena *a = cls;
  if (!ok)
    log_warn("msg=\"cannot renew this node's lease\" node=%s", a->node.name);
  atomic_store(&a->node.beating, 0);
}

static void beat(struct arena *a) {
  if (atomic_exchange(&a->node.beating, 1))
    return;  /* the last one is still queued */
  if (store_writer_call(a->writer, beat_run, beat_done, a, 0))
    atomic_store(&a->node.beating, 0);
}

static void *keeper_main(void *cls) {
  struct arena *a = cls;
  struct arena_node *n = &a->node;
  long long next_beat = 0;
  long seen = store_data_version(&a->store);
  pthread_mutex_lock(&n->lock);
  while (!n->stop) {
    pthread_mutex_unlock(&n->lock);
    long long now = mono_ms();
    if (now >= next_beat) {
      beat(a);
      peers_read(a);
      long prompts = 0, left_out = 0;
      if (atomic_exchange(&n->dedup_stale, 0) &&
          store_dedup_stats(&a->store, &prompts, &left_out) == 0)
        atomic_store(&a->dedup_left_out, left_out);
      next_beat = now + n->heartbeat_ms;
    }
    /* another process committed: the writer reads what it moved (and a
     * node that starts is known before the next heartbeat) */
    long v = store_data_version(&a->store);
    if (v >= 0 && v != seen && store_writer_look(a->writer) == 0) {
      seen = v;
      pthread_mutex_lock(&n->lock);
      int due = now - n->peers_at >= PEERS_EVERY_MS;
      pthread_mutex_unlock(&n->lock);
      if (due)
        peers_read(a);
    }
    pthread_mutex_lock(&n->lock);
    if (n->stop)
      break;
    struct timespec until = clock_in_ms(CLOCK_MONOTONIC, STORE_WATCH_MS);
    pthread_cond_timedwait(&n->wake, &n->lock, &until);
  }
  pthread_mutex_unlock(&n->lock);
  return NULL;
}

int node_start(struct arena *a) {
  if (pthread_create(&a->node.thread, NULL, keeper_main, a))
    return -1;
  a->node.started = 1;
  return 0;
}

void node_stop(struct arena *a) {
  struct arena_node *n = &a->node;
  if (!n->started)
    return;
  pthread_mutex_lock(&n->lock);
  n->stop = 1;
  pthread_cond_signal(&n->wake);
  pthread_mutex_unlock(&n->lock);
  pthread_join(n->thread, NULL);
  n->started = 0;
}

void node_release(struct arena *a) {
  struct arena_node *n = &a->node;
  node_stop(a);
  if (n->registered && store_node_leave(&a->store, n->name, n->instance))
    log_warn("msg=\"cannot end this node's lease\" node=%s", n->name);
  n->registered = 0;
  free(n->peers);
  n->peers = NULL;
  pthread_cond_destroy(&n->wake);
  pthread_mutex_destroy(&n->lock);
}

void node_followed(void *cls, int votes) {
  struct arena *a = cls;
  atomic_fetch_add(&a->version, 1);
  rating_worker_poke(&a->bt);
  style_boards_poke(&a->style);
  if (!votes)
    return;
  history_poke(&a->history);
  atomic_store(&a->ratings_updated, now_ms());
  own_boards_clear(&a->own);
  registry_drop_unsettled(&a->battles);
  atomic_store(&a->node.dedup_stale, 1);
}
