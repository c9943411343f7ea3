/* GET /healthz: 200 while the database answers. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_health(struct request *rq) {
  if (store_schema_version(&rq->arena->store) < 1)
    return reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "unhealthy",
                       "the database does not answer");
  return reply_json(rq, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}
