#include "util/nowait.h"

#include <stdint.h>

#include "util/log.h"

static _Thread_local int marked;

void nowait_mark(void) { marked = 1; }

int nowait_marked(void) { return marked; }

void nowait_check(const char *what) {
  if (!marked)
    return;
  log_msg_keyed((uintptr_t)what, "error",
                "msg=\"" NOWAIT_MESSAGE " (a bug): %s\"", what);
}
