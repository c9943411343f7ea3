/* Threads that must never wait on the disk, on a lock held across I/O or
 * on the network (the HTTP workers: every request of the server shares
 * them) say so once; the code that would wait (the store's operations,
 * a synchronous job of the writer) asks, and logs the bug when it runs on
 * one. It waits all the same: this finds a mistake, it does not hide
 * one. */
#ifndef AGON_UTIL_NOWAIT_H
#define AGON_UTIL_NOWAIT_H

/* Mark the calling thread as one that must never wait. Cheap enough to
 * call on every request (a thread-local flag). */
void nowait_mark(void);

/* Whether the calling thread is marked. */
int nowait_marked(void);

/* On a marked thread: log an error naming what (a static string, the
 * operation about to wait), at most once a second per what. */
void nowait_check(const char *what);

/* The text that error line carries, for tests that look for it. */
#define NOWAIT_MESSAGE "an HTTP worker waits on storage"

#endif
