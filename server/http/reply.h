/* Queueing replies. Every function returns what libmicrohttpd's access
 * handler must return (MHD_NO: close the connection). */
#ifndef AGON_HTTP_REPLY_H
#define AGON_HTTP_REPLY_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "errors/errors.h"
#include "http/request.h"

struct relay;

/* A reply's body from a buffer, and the headers that describe it. */
struct reply_body {
  void *data;
  size_t len;
  enum MHD_ResponseMemoryMode mem; /* PERSISTENT: data outlives the
                                      response; MUST_COPY; MUST_FREE: data
                                      (malloc'd) is the response's */
  const char *type;  /* Content-Type, or NULL */
  const char *cache; /* Cache-Control, or NULL */
  const char *etag;  /* ETag, or NULL */
  int bare;          /* without the common headers (/metrics) */
};

/* The one builder of responses from a buffer: b's data with its headers
 * and, unless b->bare, the common ones. NULL when out of memory; MUST_FREE
 * data is freed then too. */
struct MHD_Response *reply_response_new(const struct reply_body *b);

/* Reply status with the response made of b (reply_response_new). */
enum MHD_Result reply_body(struct request *rq, unsigned int status,
                           const struct reply_body *b);

/* Reply status with size bytes (Content-Length) streamed from relay r
 * as its producer writes them (http/relay_stream.h), with b's headers
 * (b->data, len and mem unused). Takes r's consumer end, also on
 * failure. */
enum MHD_Result reply_relay(struct request *rq, unsigned int status,
                            struct relay *r, uint64_t size,
                            const struct reply_body *b);

/* Reply with JSON; steals body. */
enum MHD_Result reply_json(struct request *rq, unsigned int status,
                           json_t *body);

/* Reply with len bytes of JSON text (copied). */
enum MHD_Result reply_json_text(struct request *rq, unsigned int status,
                                const char *text, size_t len);

/* Reply with the error ec (errors/errors.h): {"error": {"code",
 * "message"}} with the status, Retry-After and Connection: close its entry
 * gives. Every error reply is made here. */
enum MHD_Result reply_ec(struct request *rq, enum agon_ec ec);

/* reply_ec with msg instead of the entry's message, for one that carries
 * details (a size, a parser's or the config file's complaint); NULL: the
 * entry's. The message must never name a model before its battle is
 * voted. */
enum MHD_Result reply_ec_msg(struct request *rq, enum agon_ec ec,
                             const char *msg);

/* reply_ec with Retry-After: seconds, for entries whose caller knows when
 * to come back (EC_RETRY_GIVEN: a rate limit's wait). */
enum MHD_Result reply_ec_retry(struct request *rq, enum agon_ec ec,
                               int seconds);

/* A suspended request's work was refused before it was queued: resume it
 * now, and answer ec when libmicrohttpd calls back (rq->on_resume).
 * Returns MHD_YES, the handler's answer. */
enum MHD_Result reply_ec_resumed(struct request *rq, enum agon_ec ec);

/* Resume the suspended connection cls (a struct MHD_Connection *): the
 * callback to hand the arena for work that answers a suspended request
 * once it is done. */
void reply_resume(void *cls);

/* EC_METHOD_NOT_ALLOWED with msg and Allow: allow. As it always has, it
 * goes without Cache-Control. */
enum MHD_Result reply_ec_allow(struct request *rq, const char *msg,
                               const char *allow);

/* Queue an already built response, adding the session cookie when new.
 * Does not destroy it. */
enum MHD_Result reply_queue(struct request *rq, unsigned int status,
                            struct MHD_Response *resp);

/* Headers every response carries (reply_response_new adds them). */
void reply_add_common_headers(struct MHD_Response *resp);

#endif
