/* GET /healthz: 200 while the server can keep what it acknowledges; 503
 * with the reason while database writes fail (disk full, I/O error). It
 * never touches the database connection, so it answers at once whatever
 * the disk is doing. */
#include <stdio.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_health(struct request *rq) {
  char why[200], msg[256];
  if (arena_storage_fault(rq->arena, why, sizeof why)) {
    snprintf(msg, sizeof msg, "database writes are failing: %s", why);
    return reply_ec_msg(rq, EC_STORAGE_FAILING, msg);
  }
  return reply_json(rq, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}
