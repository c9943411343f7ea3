/* The process's file-descriptor budget, from which the default limits on
 * connections and concurrent battles are derived (so that a flood meets a
 * 503 rather than "Too many open files"). */
#ifndef AGON_UTIL_FDBUDGET_H
#define AGON_UTIL_FDBUDGET_H

/* Descriptors kept back for what must work under any load: the database
 * and its WAL, the log, epoll and event fds, /healthz and the admin API. */
#define FDBUDGET_RESERVE 64

/* Raise the soft RLIMIT_NOFILE to the hard limit (once, at start) and
 * return the soft limit now in force. Never fails: when it cannot be
 * raised, the current limit is returned. */
long fdbudget_raise(void);

/* The soft limit as last seen by fdbudget_raise (or read now). */
long fdbudget_limit(void);

/* Derived defaults: HTTP connections take half of what is left after the
 * reserve, streaming battles (two upstream sockets each, and the event
 * stream of their visitor) a quarter; both are capped so that memory
 * stays bounded too (see the README's limits). At least 1. */
long fdbudget_connections(void);
long fdbudget_battles(void);

#endif
