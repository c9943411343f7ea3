/* GET /s/TOKEN: the page of a shared battle (web/share.html, which reads
 * GET /api/shared/TOKEN), kept out of search engines and sending no
 * referrer; an unknown token is share_not_found (from memory, or from the
 * database where other nodes may have shared it: battle/shares.c). */
#include "handlers/handlers.h"
#include "battle/arena.h"
#include "handlers/share_token.h"
#include "http/reply.h"
#include "util/embedded.h"

#include <string.h>

static enum MHD_Result share_page(struct request *rq, const char *id) {
  (void)id; /* the page reads it by its token */
  for (size_t i = 0; agon_web_assets[i].name; i++) {
    const struct agon_embedded *e = &agon_web_assets[i];
    if (strcmp(e->name, "share.html"))
      continue;
    struct MHD_Response *resp = reply_response_new(&(struct reply_body){
        .data = (void *)e->data,
        .len = e->size,
        .mem = MHD_RESPMEM_PERSISTENT,
        .type = "text/html; charset=utf-8",
        .cache = "no-store"});
    if (!resp)
      return reply_ec(rq, EC_INTERNAL_ASSET);
    MHD_add_response_header(resp, "X-Robots-Tag", "noindex");
    enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
  }
  return reply_ec(rq, EC_INTERNAL_ASSET);
}

enum MHD_Result handle_share_page(struct request *rq) {
  return with_shared_battle(rq, share_page);
}
