/* The HTTP daemon: libmicrohttpd on epoll with a small thread pool, with
 * suspend/resume so that event streams hold no thread while they wait. */
#ifndef AGON_HTTP_SERVER_H
#define AGON_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct config;
struct route;
struct http_server;

/* What the server serves: the route table (ended by a NULL method), the
 * application handed to every request (rq->arena) and where each request
 * takes its configuration from (a reference, dropped with the request). */
struct http_app {
  const struct route *routes;
  struct arena *arena;
  struct config *(*config)(struct arena *arena);
};

/* Listen on listen ("HOST:PORT", "[V6]:PORT"; port 0 picks one) and serve
 * app, with the connection limits of cfg (read at start only). Returns
 * NULL with err set on failure. *port gets the bound port. */
struct http_server *http_server_start(const struct http_app *app,
                                      const struct config *cfg,
                                      const char *listen, unsigned threads,
                                      uint16_t *port, char *err,
                                      size_t errlen);

/* Stop accepting, close every connection, free. Accepts NULL. */
void http_server_stop(struct http_server *s);

#endif
