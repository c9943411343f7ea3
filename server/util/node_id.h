/* Node names and the battle ids that name them (pure strings, no I/O but
 * the randomness of a new id).
 *
 * Every `agon serve` process is a node with a name ([server] node); the
 * battles it starts stream from it alone, so their ids name it:
 *
 *     NODE "-" 24 lowercase hex digits (96 random bits)
 *
 * at most 39 bytes (NODE_NAME_MAX + 25), which fits every id buffer of the
 * arena (40 bytes with the NUL). A name is 1 to NODE_NAME_MAX bytes of
 * a-z, 0-9, '_' and '-', starting with a letter or digit; the random part
 * holds no '-', so the last '-' of an id ends its node's name. An id of
 * another form (32 hex digits, as before nodes; an imported battle's)
 * names no node. The storage engines match the same form in SQL (length
 * and prefix: storage/ops.h, fail_node_battles and reap). */
#ifndef AGON_UTIL_NODE_ID_H
#define AGON_UTIL_NODE_ID_H

#include <stddef.h>

#define NODE_NAME_MAX 14      /* bytes of a node's name */
#define NODE_ID_RANDOM_HEX 24 /* hex digits after the '-' */

/* Whether name is a node name (see the top). */
int node_name_valid(const char *name);

/* The default name of a node that has no [server] node: the machine's
 * short host name (host up to its first '.'), lowercased, other bytes
 * than a-z, 0-9, '_' and '-' as '_', cut so that "-PORT" fits after it
 * ("web1-8080"; "node-PORT" when nothing of host is left). Never fails;
 * out gets a valid name. */
void node_name_default(const char *host, unsigned port,
                       char out[NODE_NAME_MAX + 1]);

/* A new battle id of node (a valid name) into out. 0, or -1 when the
 * kernel gives no randomness. */
int node_battle_id_new(const char *node, char out[40]);

/* The node battle id names, into node: 1 when it names one, else 0
 * (node ""). */
int node_of_battle(const char *id, char node[NODE_NAME_MAX + 1]);

#endif
