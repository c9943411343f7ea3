/* Queueing replies. Every function returns what libmicrohttpd's access
 * handler must return (MHD_NO: close the connection). */
#ifndef AGON_HTTP_REPLY_H
#define AGON_HTTP_REPLY_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "http/request.h"

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

/* Reply with JSON; steals body. */
enum MHD_Result reply_json(struct request *rq, unsigned int status,
                           json_t *body);

/* Reply with len bytes of JSON text (copied). */
enum MHD_Result reply_json_text(struct request *rq, unsigned int status,
                                const char *text, size_t len);

/* Reply {"error": {"code": code, "message": message}}. The message must
 * never name a model before its battle is voted. */
enum MHD_Result reply_error(struct request *rq, unsigned int status,
                            const char *code, const char *message);

/* reply_error with a Retry-After header of seconds. */
enum MHD_Result reply_error_retry(struct request *rq, unsigned int status,
                                  const char *code, const char *message,
                                  int seconds);

/* reply_error with Connection: close: the connection is not reused (the
 * request's framing cannot be trusted, or the client sent too much). */
enum MHD_Result reply_error_close(struct request *rq, unsigned int status,
                                  const char *code, const char *message);

/* reply_error_close with Retry-After (seconds > 0): shedding load. */
enum MHD_Result reply_error_close_retry(struct request *rq, unsigned int status,
                                        const char *code, const char *message,
                                        int seconds);

/* Queue an already built response, adding the session cookie when new.
 * Does not destroy it. */
enum MHD_Result reply_queue(struct request *rq, unsigned int status,
                            struct MHD_Response *resp);

/* Headers every response carries (reply_response_new adds them). */
void reply_add_common_headers(struct MHD_Response *resp);

#endif
