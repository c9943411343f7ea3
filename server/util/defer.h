/* Wakeups of other threads that an HTTP worker postpones until its reply
 * is on the wire.
 *
 * Starting a battle wakes two threads: its upstream loop, which should
 * start at once, and the database writer, which can wait. On a machine with
 * two cores, waking both took the CPU from the worker before it had sent
 * its 201 (0.59 ms to a new connection's reply instead of 0.29 ms with
 * neither woken, 0.47 ms with only the upstream woken). So while a worker
 * runs a handler, wakeups asked for through defer_wake are noted (per
 * thread); when the handler returns, defer_end either does them at once
 * or, when the handler queued a reply that libmicrohttpd sends next, keeps
 * them for defer_flush, which the HTTP layer calls once that request is
 * completed. Threads that never call defer_begin wake at once.
 *
 * Never lost: deferring lasts from defer_begin to defer_end only, so what
 * a thread asks for outside a handler (a resumed request, a stream's
 * reader) is done at once; and what defer_end keeps is done by the next
 * defer_flush of that thread, which the completion of the kept request
 * brings at the latest. Only the writer's wakeup for jobs nobody waits for
 * goes through here. */
#ifndef AGON_UTIL_DEFER_H
#define AGON_UTIL_DEFER_H

/* From now on, this thread's defer_wake calls are postponed. */
void defer_begin(void);

/* Call fn(arg) now, or later (see defer_end) when deferring; a wakeup
 * already noted (same fn and arg) is noted once. fn must be harmless to
 * call late or twice. */
void defer_wake(void (*fn)(void *), void *arg);

/* Stop deferring. keep: the noted wakeups wait for this thread's next
 * defer_flush, which must follow soon (the handler queued a reply whose
 * completion calls it); else they are done now. */
void defer_end(int keep);

/* Do the noted wakeups and stop deferring. */
void defer_flush(void);

#endif
