/* Who is asking, as far as the request's proxies can be believed: pure,
 * so that it can be tested without a connection (http/client.c). */
#ifndef AGON_HTTP_CLIENT_H
#define AGON_HTTP_CLIENT_H

#include <stddef.h>

/* The client's address into out (outlen bytes): peer itself, unless peer
 * is one of the n_trusted addresses of trusted and xff, the n_xff lines of
 * X-Forwarded-For in the order received (one list, as if joined by
 * commas), names the hops before it. Then it is the rightmost hop that is
 * not a trusted proxy; hops are read from the right
 * (empty ones passed over) up to one that is not an IPv4 or IPv6 address,
 * and the last one read before it is kept. Lines may be of any length.
 * Addresses compare as text, case aside. */
void client_address(const char *peer, const char *const *xff, size_t n_xff,
                    char *const *trusted, size_t n_trusted, char *out,
                    size_t outlen);

#endif
