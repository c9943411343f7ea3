/* Admin changes made on every node (docs/deploy.md): POST
 * /api/admin/models/NAME and POST /api/admin/reload are handled by the
 * node they reach, then sent to every other node whose lease holds (its
 * internal URL, from the nodes table in memory) with the admin's own
 * Authorization, signed as forwarded (http/forward.h) so that none sends
 * them on. The reply is this node's, with "nodes": what each other node
 * answered, [{"node", "status", "error"?}] ("error": the code it gave, or
 * node_unreachable when it gave none in time).
 *
 * No worker waits: the requests go out on the relay thread
 * (upstream/relay.h) while the connection is suspended, and it is resumed
 * once the last answer is in or FANOUT_TIMEOUT_MS have passed. */
#ifndef AGON_HTTP_FANOUT_H
#define AGON_HTTP_FANOUT_H

#include <jansson.h>
#include <microhttpd.h>

#include "http/request.h"

/* Answer rq (an admin POST handled here, whose reply is body: taken) with
 * status 200: at once when it was forwarded to this node or this node has
 * no peers alive ("nodes": [] then, unless forwarded), else once the
 * other nodes have answered. rq->pending must be free (loaded_done). */
enum MHD_Result fanout_reply(struct request *rq, json_t *body);

#endif
