/* One HTTP request's context: everything a request allocates hangs off
 * this struct, freed in one place (http_request_free) when libmicrohttpd
 * reports the request complete. */
#ifndef AGON_HTTP_REQUEST_H
#define AGON_HTTP_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>

#include "errors/errors.h"
#include "util/buf.h"

struct arena;
struct route;
struct relay_loop;

#define SESSION_COOKIE "agon_session"
#define SESSION_HEX 32

struct request {
  struct MHD_Connection *conn;
  struct arena *arena;
  struct config *cfg;         /* the configuration for this request (a ref) */
  const char *method;
  const char *url;
  const struct route *routes; /* the server's table */
  const struct route *route;
  char param[72];             /* the ":id" segment of the route, if any */
  struct buf body;
  int body_too_large;
  int uri_too_long;           /* over the URI or query argument limit */
  json_t *json;               /* the parsed body of a POST */
  char session[SESSION_HEX + 1];
  int new_session;            /* set the cookie on the reply */
  int replied;
  char client[64];            /* client address (via trusted proxies) */
  unsigned status;            /* of the reply, for logs and metrics */
  long long started;          /* monotonic ms */
  int secure;                 /* served over https (a trusted proxy says) */
  int forwarded;              /* another node forwarded it (http/forward.h):
                                 client and secure are the ones it named */
  struct relay_loop *relays;  /* the server's, to forward on */
  int nodes_settled;          /* the nodes table was read again for it
                                 (http/forward.c): route from memory */
  /* A request whose answer waits for another thread (a vote for its
   * commit) suspends its connection instead of blocking a worker; when
   * resumed, on_resume answers it. `pending` is what it waits on, freed by
   * pending_free with the request. */
  enum MHD_Result (*on_resume)(struct request *rq);
  void *pending;
  void (*pending_free)(void *pending);
  enum agon_ec pending_rc;    /* for on_resume: an answer known already */
};

struct config;

/* Set client and secure from the peer and, when the peer is a trusted
 * proxy, X-Forwarded-For / X-Forwarded-Proto (http/client.c). */
void request_identify(struct request *rq, const struct config *cfg);

/* Whether a POST may proceed: no Origin header, our own origin, or one of
 * allowed_origins. */
int request_origin_ok(struct request *rq, const struct config *cfg);

/* The client's session token, or NULL. With create != 0, a new one is
 * made when the client has none (and sent with the reply). */
const char *request_session(struct request *rq, int create);

/* The value of the URL's query argument name, or NULL when there is none;
 * borrowed from libmicrohttpd for the request's life. */
const char *request_query(struct request *rq, const char *name);

#endif
