/* Every HTTP connection, tracked from libmicrohttpd's connection
 * notifications: how many are open (to shed load before the descriptors
 * run out), and a deadline for each request to arrive whole (headers and
 * body), as
 * nginx's client_header_timeout: libmicrohttpd's own timeout is reset by
 * every byte, so a client sending one byte every few seconds (slowloris)
 * would hold its connection forever. A sweeper thread shuts down the
 * socket of every connection whose request is overdue; libmicrohttpd then
 * sees the end of the stream and closes the connection itself.
 *
 * Sound because the connection's entry is removed (under the lock) when
 * libmicrohttpd reports it closed, which it does before closing the
 * socket: a shutdown() under the lock always reaches the socket of a live
 * connection, never a reused descriptor. */
#ifndef AGON_HTTP_CONNECTIONS_H
#define AGON_HTTP_CONNECTIONS_H

#include <microhttpd.h>

struct deadline;

/* timeout_s: the request deadline, 0 for none. NULL when out of memory or
 * the thread cannot start. */
struct deadline *deadline_new(long timeout_s);
/* Stop the sweeper and free; call after the daemon has stopped. Accepts
 * NULL. */
void deadline_free(struct deadline *d);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the deadline. */
void deadline_notify(void *cls, struct MHD_Connection *conn,
                     void **socket_context,
                     enum MHD_ConnectionNotificationCode toe);

/* The request on conn has arrived whole: its deadline is met. */
void deadline_request_in(struct MHD_Connection *conn);

/* The reply on conn is out: the clock runs again for the next request of
 * a kept-alive connection. */
void deadline_request_done(struct MHD_Connection *conn);

/* Connections cut so far (for logs and tests). */
long deadline_cut_count(struct deadline *d);

/* Connections open now. */
long deadline_open_count(struct deadline *d);

#endif
