/* The pages and their assets, built into the binary (web/). Responses are
 * made once at start; repeat visits revalidate with a strong ETag. */
#include <string.h>

#include "handlers/handlers.h"
#include "http/reply.h"
#include "util/embedded.h"

#define MAX_ASSETS 64

static struct MHD_Response *responses[MAX_ASSETS];
static struct MHD_Response *not_modified[MAX_ASSETS];

static const char *content_type(const char *name) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
  };
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(dot, types[i].ext))
      return types[i].type;
  return "application/octet-stream";
}

int static_init(void) {
  for (size_t i = 0; agon_web_assets[i].name; i++) {
    const struct agon_embedded *e = &agon_web_assets[i];
    if (i >= MAX_ASSETS)
      return -1;
    responses[i] = MHD_create_response_from_buffer(
        e->size, (void *)e->data, MHD_RESPMEM_PERSISTENT);
    not_modified[i] =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!responses[i] || !not_modified[i])
      return -1;
    struct MHD_Response *both[2] = {responses[i], not_modified[i]};
    for (int k = 0; k < 2; k++) {
      MHD_add_response_header(both[k], MHD_HTTP_HEADER_ETAG, e->etag);
      MHD_add_response_header(both[k], MHD_HTTP_HEADER_CACHE_CONTROL,
                              "no-cache");
      reply_add_common_headers(both[k]);
    }
    MHD_add_response_header(responses[i], MHD_HTTP_HEADER_CONTENT_TYPE,
                            content_type(e->name));
  }
  return 0;
}

void static_release(void) {
  for (size_t i = 0; i < MAX_ASSETS; i++) {
    if (responses[i])
      MHD_destroy_response(responses[i]);
    if (not_modified[i])
      MHD_destroy_response(not_modified[i]);
    responses[i] = not_modified[i] = NULL;
  }
}

enum MHD_Result handle_static(struct request *rq) {
  const char *name = rq->url + 1;
  if (!strcmp(rq->url, "/"))
    name = "index.html";
  else if (!strcmp(rq->url, "/leaderboard"))
    name = "leaderboard.html";
  for (size_t i = 0; agon_web_assets[i].name; i++) {
    if (strcmp(agon_web_assets[i].name, name) ||
        !strcmp(name, "meson.build"))
      continue;
    const char *inm = MHD_lookup_connection_value(
        rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strstr(inm, agon_web_assets[i].etag))
      return reply_queue(rq, MHD_HTTP_NOT_MODIFIED, not_modified[i]);
    return reply_queue(rq, MHD_HTTP_OK, responses[i]);
  }
  return reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
}
