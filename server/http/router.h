/* The route table: method + path pattern -> handler. A pattern segment
 * ":id" matches one non-empty path segment, captured in request.param. */
#ifndef AGON_HTTP_ROUTER_H
#define AGON_HTTP_ROUTER_H

#include <microhttpd.h>

#include "http/request.h"

typedef enum MHD_Result (*handler_fn)(struct request *rq);

struct route {
  const char *method;   /* "GET" also answers HEAD */
  const char *pattern;
  handler_fn handler;
  int json_body;        /* POST with a JSON body */
  int essential;        /* served even while the server sheds load (health,
                           metrics, admin): see http/connections.h */
};


enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_BAD_METHOD };

/* Find the route for method and url (path only) in table (ended by an
 * entry with a NULL method). On ROUTE_FOUND, *out is set and param holds
 * the ":id" segment (paramlen bytes at most), "" when the route has none;
 * otherwise param is "". */
enum route_match router_find(const struct route *table, const char *method,
                             const char *url, const struct route **out,
                             char *param, size_t paramlen);

/* The methods table allows on url, comma-separated ("GET, HEAD"), into
 * out. */
void router_allowed(const struct route *table, const char *url, char *out,
                    size_t outlen);

#endif
