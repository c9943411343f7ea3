/* The router: exact paths, one ":id" segment captured within its limit,
 * HEAD answered by GET routes, 404 (no such path) apart from 405 (no such
 * method there), and the Allow list of a path. */
#include "check.h"
#include "http/router.h"

/* the handlers are only compared, never called */
#define HANDLER(name)                                                        \
  static enum MHD_Result name(struct request *rq) {                          \
    (void)rq;                                                                \
    return MHD_YES;                                                          \
  }
HANDLER(h_list)
HANDLER(h_create)
HANDLER(h_get)
HANDLER(h_events)
HANDLER(h_vote)
HANDLER(h_stats)
HANDLER(h_page)

static const struct route table[] = {
    {.method = "GET", .pattern = "/api/items", .handler = &h_list},
    {.method = "POST", .pattern = "/api/items", .handler = &h_create,
     .json_body = 1},
    {.method = "GET", .pattern = "/api/items/:id", .handler = &h_get},
    {.method = "GET", .pattern = "/api/items/:id/events", .handler = &h_events},
    {.method = "POST", .pattern = "/api/items/:id/vote", .handler = &h_vote},
    {.method = "GET", .pattern = "/api/items/:id/stats", .handler = &h_stats},
    {.method = "GET", .pattern = "/api/items/all/recent", .handler = &h_list},
    {.method = "GET", .pattern = "/", .handler = &h_page},
    {.method = NULL},
};

#define PARAM 8   /* ids of up to 7 bytes */

static const struct route *found;
static char param[PARAM];

static enum route_match find(const char *method, const char *url) {
  found = NULL;
  memcpy(param, "garbage", sizeof "garbage");
  return router_find(table, method, url, &found, param, sizeof param);
}

static const char *allowed(const char *url) {
  static char out[64];
  memset(out, 'x', sizeof out);
  router_allowed(table, url, out, sizeof out);
  return out;
}

int main(void) {
  /* exact paths, by method */
  CHECK(find("GET", "/api/items") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_list);
  CHECK(param[0] == '\0');   /* no ":id": none captured */
  CHECK(find("POST", "/api/items") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_create && found->json_body);
  CHECK(find("GET", "/") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_page);

  /* nothing but the whole path matches */
  CHECK(find("GET", "/api/item") == ROUTE_NO_PATH);
  CHECK(!found);
  CHECK(find("GET", "/api/itemsx") == ROUTE_NO_PATH);
  CHECK(find("GET", "/api") == ROUTE_NO_PATH);
  CHECK(find("GET", "") == ROUTE_NO_PATH);
  CHECK(find("GET", "/api/Items") == ROUTE_NO_PATH);  /* case counts */
  CHECK(find("GET", "//") == ROUTE_NO_PATH);
  CHECK(param[0] == '\0');   /* no capture left behind */

  /* ":id" is one non-empty segment, captured */
  CHECK(find("GET", "/api/items/abc") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_get);
  CHECK_STR(param, "abc");
  CHECK(find("GET", "/api/items/abc/events") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_events);
  CHECK_STR(param, "abc");
  CHECK(find("POST", "/api/items/x1/vote") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_vote);
  CHECK_STR(param, "x1");
  CHECK(find("GET", "/api/items/") == ROUTE_NO_PATH);        /* empty */
  CHECK(find("GET", "/api/items//events") == ROUTE_NO_PATH);
  CHECK(find("GET", "/api/items/abc/") == ROUTE_NO_PATH);
  CHECK(find("GET", "/api/items/a/b") == ROUTE_NO_PATH);     /* one segment */
  CHECK(find("GET", "/api/items/abc/eventsx") == ROUTE_NO_PATH);
  /* routes with ":id" were tried first and took "all": not kept */
  CHECK(find("GET", "/api/items/all/recent") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_list);
  CHECK(param[0] == '\0');

  /* within its limit: paramlen - 1 bytes, no more */
  CHECK(find("GET", "/api/items/1234567") == ROUTE_FOUND);
  CHECK_STR(param, "1234567");
  CHECK(find("GET", "/api/items/12345678") == ROUTE_NO_PATH);
  CHECK(param[0] == '\0');
  CHECK(!found);
  CHECK(find("GET", "/api/items/12345678/events") == ROUTE_NO_PATH);

  /* HEAD is answered by the GET route, and only by one */
  CHECK(find("HEAD", "/api/items") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_list);
  CHECK(find("HEAD", "/api/items/abc") == ROUTE_FOUND);
  CHECK(found && found->handler == &h_get);
  CHECK_STR(param, "abc");
  CHECK(find("HEAD", "/api/items/abc/vote") == ROUTE_BAD_METHOD);

  /* a path that exists with another method: 405, not 404 */
  CHECK(find("POST", "/api/items/abc") == ROUTE_BAD_METHOD);
  CHECK(!found);
  CHECK(param[0] == '\0');
  CHECK(find("GET", "/api/items/abc/vote") == ROUTE_BAD_METHOD);
  CHECK(find("PUT", "/api/items") == ROUTE_BAD_METHOD);
  CHECK(find("DELETE", "/") == ROUTE_BAD_METHOD);
  CHECK(find("get", "/api/items") == ROUTE_BAD_METHOD);  /* exact methods */
  CHECK(find("PUT", "/nowhere") == ROUTE_NO_PATH);
  CHECK(find("POST", "/api/items/12345678/vote") == ROUTE_NO_PATH);

  /* the Allow list of a path */
  CHECK_STR(allowed("/api/items"), "GET, HEAD, POST");
  CHECK_STR(allowed("/api/items/abc"), "GET, HEAD");
  CHECK_STR(allowed("/api/items/abc/vote"), "POST");
  CHECK_STR(allowed("/api/items/abc/stats"), "GET, HEAD");
  CHECK_STR(allowed("/"), "GET, HEAD");
  CHECK_STR(allowed("/nowhere"), "");
  {
    char small[5];
    router_allowed(table, "/api/items", small, sizeof small);
    CHECK_STR(small, "GET,");   /* cut to the room given, NUL-terminated */
  }
  return check_done("test_router");
}
