/* The transport under upstream.h: a few libcurl event loops (a thread, a
 * multi handle and its epoll set each, fixed at start) that carry HTTP
 * requests for a protocol that never sees libcurl (upstream/openai.c).
 * Internal to upstream/: server/LAYERS names upstream.h its only public
 * header, so the layers test fails any include of this one from outside.
 *
 * The loops are struct upstream: upstream_new, upstream_stop,
 * upstream_free and upstream_active (upstream.h) are implemented in
 * loop.c. A protocol hands a request and its callbacks to
 * upstream_submit; the loop sends it, passes the response on, and owns
 * everything that is not the protocol's: the connection, timeouts,
 * cancellation, shutdown. Retries, when there are any, belong here too. */
#ifndef AGON_UPSTREAM_LOOP_H
#define AGON_UPSTREAM_LOOP_H

#include <stdatomic.h>
#include <stddef.h>

struct upstream;

/* How a transfer ended, as the transport sees it. The detail passed with
 * each (for the server log, never for the public) is said beside it. */
enum transfer_end {
  TRANSFER_DONE,        /* the response was read to its end, whatever its
                           HTTP status; detail "" */
  TRANSFER_TIMEOUT,     /* timeout_ms passed; libcurl's words */
  TRANSFER_UNREACHABLE, /* no connection: name, connect, proxy or TLS
                           handshake, or the loop could not take it;
                           libcurl's words, or "curl_multi_add_handle" */
  TRANSFER_BROKEN,      /* any other error of libcurl, among them a
                           write error after on_body refused bytes;
                           "<libcurl's error>: <its words>" */
  TRANSFER_CANCELLED,   /* *cancel became non-zero; "cancelled" */
  TRANSFER_SHUTDOWN,    /* upstream_stop ended it; "shutdown" */
};

/* An HTTP POST. Everything is borrowed: url and headers are copied by
 * upstream_submit, body is read while the transfer runs and must stay
 * valid until on_end. */
struct transfer_request {
  const char *url;
  const char *const *headers; /* "Name: value" lines, NULL-terminated */
  const char *bearer;         /* an API key sent as "Authorization: Bearer
                                 KEY", or NULL or "" for none; copied, and
                                 the copies wiped when the transfer ends */
  const char *body;           /* NUL-terminated */
  long timeout_ms;            /* the whole transfer; connecting gets at
                                 most 10 s of it */
  atomic_int *cancel;         /* may be NULL; when *cancel becomes non-zero
                                 the transfer ends (TRANSFER_CANCELLED).
                                 Transfers that share it share a loop. It
                                 must outlive the transfer (until on_end) */
};

/* What the loop tells the protocol, always on the thread of the loop that
 * took the request, one call at a time per transfer. cls is the
 * upstream_submit argument. */
struct transfer_ops {
  /* The response's HTTP status (0 when none came) and Content-Type (NULL
   * when none; valid during the call). Called once, before the first
   * on_body, or before on_end for a transfer that libcurl saw to its end
   * (TRANSFER_DONE, TIMEOUT, UNREACHABLE, BROKEN, and CANCELLED when
   * noticed by libcurl); not for one ended from outside libcurl (*cancel
   * seen by the loop's scan, shutdown, or not taken by the loop). */
  void (*on_response)(void *cls, long status, const char *content_type);
  /* n bytes of the response body (after the Content-Encoding is undone).
   * Return 0 to go on; non-zero ends the transfer (TRANSFER_BROKEN). */
  int (*on_body)(void *cls, const char *bytes, size_t n);
  /* Called exactly once, last: how the transfer ended. The loop has let go
   * of the request by then, so on_end may free it and cls. */
  void (*on_end)(void *cls, enum transfer_end how, const char *detail);
};

/* Queue req on a loop (the same one for every request with the same
 * cancel flag; in turn for those without). Callable from any thread.
 * Returns 0, and then ops' callbacks follow on the loop's thread; or -1
 * when nothing was queued (out of memory, or the loops are stopping), and
 * no callback is ever made. */
int upstream_submit(struct upstream *up, const struct transfer_request *req,
                    const struct transfer_ops *ops, void *cls);

#endif
