/* Relays: HTTP requests to another node whose responses are passed on as
 * they come, with back-pressure (the transport under http/forward.c).
 *
 * One thread of its own runs a libcurl multi handle (curl_multi_poll) for
 * every relay of the process: no thread per request, and no HTTP worker
 * ever waits on the network. A relay's response is held in a bounded
 * buffer; when it is full the transfer is paused (CURL_WRITEFUNC_PAUSE)
 * until the reader has taken half of it, so that a slow client slows its
 * relay down instead of filling memory (nginx's non-buffered upstream
 * does the same with its one buffer).
 *
 * Locking: each relay has a lock, taken around every callback below and
 * by relay_lock; a callback must not call relay_lock or relay_release. */
#ifndef AGON_UPSTREAM_RELAY_H
#define AGON_UPSTREAM_RELAY_H

#include <stddef.h>
#include <sys/types.h>

struct relay_loop;
struct relay;

/* Start the loop's thread. NULL on failure. */
struct relay_loop *relay_loop_new(void);

/* End every relay (on_end with ok 0, "shutdown") and stop the thread;
 * relay_start fails from then on. Idempotent. */
void relay_loop_stop(struct relay_loop *l);

/* relay_loop_stop if needed, and free it once every relay is released.
 * Accepts NULL. */
void relay_loop_free(struct relay_loop *l);

/* A request to relay. Everything is copied by relay_start. */
struct relay_request {
  const char *method;          /* "GET" or "POST" */
  const char *url;
  const char *const *headers;  /* "Name: value" lines, NULL-terminated */
  const char *body;            /* POST: body_len bytes; else NULL */
  size_t body_len;
  long timeout_ms;             /* the whole transfer; 0: none (a stream) */
  long connect_ms;             /* connecting */
  size_t max_held;             /* bytes of the response held at most
                                  before the transfer pauses */
};

/* What the relay tells its owner, on the loop's thread, with the relay's
 * lock held; cls as given to relay_start. */
struct relay_ops {
  /* The response's status line and header fields have come: its status,
   * Content-Type and Retry-After (NULL when absent; valid during the
   * call). Called at most once, before any on_data. */
  void (*on_head)(void *cls, long status, const char *content_type,
                  const char *retry_after);
  /* Bytes were added to what the relay holds (relay_take_locked). */
  void (*on_data)(void *cls);
  /* The transfer is over (called once, last): ok 1 when the response was
   * read to its end, else 0 with detail (libcurl's words, for the log). */
  void (*on_end)(void *cls, int ok, const char *detail);
};

/* Start relaying req; ops and cls until relay_release. *out gets the
 * relay, the caller's (relay_release), before any callback can be made.
 * 0; -1 when it cannot start (out of memory, or the loop stopping): *out
 * is NULL and no callback is ever made then. */
int relay_start(struct relay_loop *l, const struct relay_request *req,
                const struct relay_ops *ops, void *cls, struct relay **out);

/* Take and give back the relay's lock, for relay_take_locked. */
void relay_lock(struct relay *r);
void relay_unlock(struct relay *r);

/* Move up to max bytes of what the relay holds into out: how many; 0
 * when it holds nothing now (on_data will tell when it does, unless it
 * has ended: relay_ended_locked). The transfer goes on once at most half
 * of max_held is held. Lock held. */
size_t relay_take_locked(struct relay *r, char *out, size_t max);

/* Whether the transfer is over and every byte has been taken. Lock
 * held. */
int relay_ended_locked(struct relay *r);

/* The caller is done with r: no callback is made after this returns, and
 * the transfer is aborted if it still runs. Accepts NULL. */
void relay_release(struct relay *r);

#endif
