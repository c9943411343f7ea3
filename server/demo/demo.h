/* Built-in demo models: a small OpenAI-compatible server on loopback that
 * streams deterministic, plausible answers at a visible pace. The arena
 * reaches it through the same client code as any real backend. */
#ifndef AGON_DEMO_DEMO_H
#define AGON_DEMO_DEMO_H

#include <stddef.h>

#include "config/config.h"

struct demo_server;

/* Start the demo server on 127.0.0.1 (a free port) and add its models to
 * cfg. NULL with err set on failure. */
struct demo_server *demo_start(struct config *cfg, char *err, size_t errlen);

void demo_stop(struct demo_server *d);

/* The answer a demo model gives to prompt (deterministic); the caller
 * frees it. Exposed for tests. */
char *demo_answer(const char *model, const char *prompt, size_t turn);

#endif
