/* The HTTP daemon: libmicrohttpd on epoll with a small thread pool, with
 * suspend/resume so that event streams hold no thread while they wait. */
#ifndef AGON_HTTP_SERVER_H
#define AGON_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct http_server;

/* Listen on listen ("HOST:PORT", "[V6]:PORT"; port 0 picks one) and serve
 * the arena. Returns NULL with err set on failure. *port gets the bound
 * port. */
struct http_server *http_server_start(struct arena *a, const char *listen,
                                      unsigned threads, uint16_t *port,
                                      char *err, size_t errlen);

/* Stop accepting, close every connection, free. Accepts NULL. */
void http_server_stop(struct http_server *s);

#endif
