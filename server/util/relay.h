/* A bounded relay of bytes from a thread that may wait (one that reads a
 * file, say) to one that must not (an HTTP worker sending them): the
 * producer blocks while the relay is full; the consumer never blocks, it
 * is told to sleep when the relay is empty and woken when bytes (or the
 * end) come. At most `cap` bytes are held, whatever the two speeds.
 *
 * Two ends, each dropped once: the producer's by relay_end, the
 * consumer's by relay_leave; the last frees the relay. */
#ifndef AGON_UTIL_RELAY_H
#define AGON_UTIL_RELAY_H

#include <stddef.h>
#include <sys/types.h>

struct relay;

/* A new relay holding at most cap (>= 1) bytes, with both ends. NULL when
 * out of memory. */
struct relay *relay_new(size_t cap);

/* ---- the producer ---- */

/* Hand over len bytes of data, waiting while the relay is full. 0, or -1
 * once the consumer has left (nothing more will be read: stop). */
int relay_write(struct relay *r, const void *data, size_t len);

/* No more bytes: the consumer reads what is held, then the end (failed
 * != 0: the stream is cut, RELAY_FAILED). Drops the producer's end. */
void relay_end(struct relay *r, int failed);

/* ---- the consumer ---- */

#define RELAY_EMPTY 0    /* nothing now: sleep was called, wake will be */
#define RELAY_END (-1)   /* everything was read */
#define RELAY_FAILED (-2) /* the producer gave up before the end */

/* Copy up to max (>= 1) bytes into out and return how many (> 0). When
 * the relay holds none and its producer has not ended: call sleep(cls),
 * note wake(cls) to be called once at the producer's next bytes or end,
 * and return RELAY_EMPTY; both are called with the relay's lock held, so
 * that a wake never comes before its sleep. Else RELAY_END or
 * RELAY_FAILED. Never waits. */
ssize_t relay_read(struct relay *r, void *out, size_t max,
                   void (*sleep)(void *cls), void (*wake)(void *cls),
                   void *cls);

/* The consumer is gone: the producer's next relay_write returns -1, and a
 * wake noted is never called. Drops the consumer's end. Accepts NULL. */
void relay_leave(struct relay *r);

#endif
