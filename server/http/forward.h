/* Requests for a battle that another node runs, forwarded to it
 * (docs/deploy.md): a battle streams from the node that started it (its
 * id names it), so its event stream, its follow-ups, regenerates and
 * retries are answered there; votes and reads are answered by any node
 * from the database. The load balancer needs no stickiness.
 *
 * A forwarded request carries the client's session cookie, its body, and
 * X-Agon-Forwarded: "v1 NODE CLIENT SECURE MAC", the node that forwards
 * it, the client's address (the one its limits count) and whether it
 * came over https, signed with a key every node of the database shares
 * (arena_forward_mac) over those and the method and path. A node never
 * forwards a forwarded request again: a loop (the nodes table giving a
 * node an address that is another's) is answered 508 forward_loop.
 *
 * Nothing here depends on which models a battle holds: the choice to
 * forward is made from the battle's id and the nodes table alone, before
 * the battle is looked at, and the owner's answer is passed on as it is
 * (status, Content-Type, Retry-After, body). */
#ifndef AGON_HTTP_FORWARD_H
#define AGON_HTTP_FORWARD_H

#include <microhttpd.h>

#include "http/request.h"

/* The header a forwarded request carries. */
#define FORWARD_HEADER "X-Agon-Forwarded"

/* Bytes of that header's line, "X-Agon-Forwarded: v1 ...". */
#define FORWARD_HEADER_MAX 1400

/* The header line a request to another node carries for rq (method and
 * rq's path signed, with this node's name and rq's client): 0, or -1 when
 * it does not fit in len bytes. */
int forward_header(struct request *rq, const char *method, char *out,
                   size_t len);

/* Check rq's X-Agon-Forwarded, if any, before anything else reads the
 * client: 0 when there is none; 1 when it is a node's, and then
 * rq->forwarded is set and rq->client and rq->secure are the ones it
 * names; -1 when it is not valid (answer EC_FORWARD_REFUSED). */
int forward_accept(struct request *rq);

/* For a handler of GET /api/battles/ID/events (events 1) or of a POST that
 * streams on the battle's node (follow-up, regenerate, retry; events 0),
 * whose battle is rq->param: 0 when this node answers it; 1 when it was
 * answered here (*res set): forwarded to the battle's node, or refused
 * (EC_FORWARD_LOOP, EC_NODE_GONE, EC_BATTLE_NOT_FOUND for a node nobody
 * knows). An event stream of a battle whose node is gone is answered by
 * this node from the database once the battle is no longer streaming
 * there (its end, failed or as it was left): for it, 2, and the caller
 * reads the battle off the worker (with_held_battle) and answers
 * EC_NODE_GONE while it is still stored as streaming. */
int forward_battle(struct request *rq, int events, enum MHD_Result *res);

/* For a read of battle rq->param that this node did not find in the
 * database: 1 (*res set) when it was forwarded to the battle's node,
 * which is alive and may not have stored it yet (a new battle is answered
 * before its row is committed); else 0 (not found). */
int forward_unstored(struct request *rq, enum MHD_Result *res);

#endif
