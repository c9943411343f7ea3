/* A response body read from a relay (util/relay.h) whose producer, a
 * thread that may wait on the disk, writes it: libmicrohttpd's worker
 * takes what the relay holds; when it holds nothing yet the connection
 * is suspended (no thread waits, none polls) and the producer's next
 * bytes resume it. The relay bounds what is held between the two. */
#ifndef AGON_HTTP_RELAY_STREAM_H
#define AGON_HTTP_RELAY_STREAM_H

#include <microhttpd.h>
#include <stdint.h>

#include "util/relay.h"

/* A response of size bytes (its Content-Length; MHD_SIZE_UNKNOWN: until
 * the relay ends) from r on conn. Takes r's consumer end, also when it
 * fails (NULL: out of memory). A relay that fails, or ends short of
 * size, cuts the connection. No headers are set. */
struct MHD_Response *relay_stream_response(struct MHD_Connection *conn,
                                           struct relay *r, uint64_t size);

#endif
