/* The pages and their assets, built into the binary (web/). Responses are
 * made once at start; repeat visits revalidate with a strong ETag. */
#include <stdio.h>
#include <string.h>

#include "util/buf.h"

#include "handlers/handlers.h"
#include "http/reply.h"
#include "util/embedded.h"

#define MAX_ASSETS 64

static struct MHD_Response *responses[MAX_ASSETS];
static char web_dir[1024];  /* --web-dir: serve from disk (development) */

static const char *content_type(const char *name);

void static_set_dir(const char *dir) {
  snprintf(web_dir, sizeof web_dir, "%s", dir ? dir : "");
}

/* Serve the named asset from web_dir, fresh on every request. Only names
 * of built-in assets get here, so nothing else on disk is reachable. */
static enum MHD_Result serve_from_dir(struct request *rq, const char *name) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", web_dir, name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return reply_ec(rq, EC_NOT_FOUND);
  struct buf b;
  buf_init(&b, 16u << 20);
  char chunk[16384];
  size_t n;
  int bad = 0;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (buf_append(&b, chunk, n))
      bad = 1;
  fclose(f);
  if (bad) {
    buf_release(&b);
    return reply_ec(rq, EC_INTERNAL_ASSET);
  }
  size_t len = b.len;
  return reply_body(rq, MHD_HTTP_OK,
                    &(struct reply_body){.data = buf_steal(&b),
                                         .len = len,
                                         .mem = MHD_RESPMEM_MUST_FREE,
                                         .type = content_type(name),
                                         .cache = "no-store"});
}
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
    responses[i] = reply_response_new(&(struct reply_body){
        .data = (void *)e->data,
        .len = e->size,
        .mem = MHD_RESPMEM_PERSISTENT,
        .type = content_type(e->name),
        .cache = "no-cache",
        .etag = e->etag});
    not_modified[i] = reply_response_new(&(struct reply_body){
        .mem = MHD_RESPMEM_PERSISTENT, .cache = "no-cache", .etag = e->etag});
    if (!responses[i] || !not_modified[i])
      return -1;
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
    if (web_dir[0])
      return serve_from_dir(rq, name);
    if (!strcmp(name, "index.html") && !request_session(rq, 0)) {
      /* a first visit: give the session now, so that battles the page
       * starts at once all belong to it (a response of its own, as the
       * shared one must not carry anyone's cookie) */
      request_session(rq, 1);
      const struct agon_embedded *e = &agon_web_assets[i];
      return reply_body(rq, MHD_HTTP_OK,
                        &(struct reply_body){.data = (void *)e->data,
                                             .len = e->size,
                                             .mem = MHD_RESPMEM_PERSISTENT,
                                             .type = content_type(name),
                                             .cache = "no-cache",
                                             .etag = e->etag});
    }
    const char *inm = MHD_lookup_connection_value(
        rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm && strstr(inm, agon_web_assets[i].etag))
      return reply_queue(rq, MHD_HTTP_NOT_MODIFIED, not_modified[i]);
    return reply_queue(rq, MHD_HTTP_OK, responses[i]);
  }
  return reply_ec(rq, EC_NOT_FOUND);
}
