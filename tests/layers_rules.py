#!/usr/bin/env python3
"""The rules of tests/layers.py, each shown to fail: a small tree with one
breach of each (and look-alikes that are no breach), checked against the
lines layers.py must print for it.

    python3 tests/layers_rules.py LAYERS     (exit 0, or 1 naming what went wrong)
"""
import contextlib
import io
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import layers  # noqa: E402

FILES = {
    # the arena's own files may do all of it
    "battle/arena_impl.h": "struct arena { int live; };\n",
    "battle/feed.c": '#include "battle/arena_impl.h"\n'
                     "void f(struct battle *b) { pthread_mutex_lock(&b->lock); }\n",
    # below battle/ a `b` is something else
    "rating/bt.c": "void g(struct boot *b) { pthread_mutex_lock(&b->lock); }\n",
    # through the API, and in words only: no breach
    "handlers/fine.c": '#include "battle/arena.h"\n'
                       "/* never &b->lock, nor rq->arena->up, nor a->live.elo */\n"
                       'static const char *s = "arena.h: a->live.lock";\n'
                       "void h(struct request *rq) { arena_shutdown(rq->arena); }\n",
    # one breach each
    "handlers/private.c": '#include "battle/arena_impl.h"\n',
    "handlers/registry.c": '#include "battle/registry.h"\n',
    "handlers/lock.c": "void i(struct battle *b) {\n"
                       "  pthread_mutex_lock(&b->lock);\n}\n",
    "handlers/live.c": "void j(struct arena *a) { use(&a->live.elo); }\n",
    "http/field.c": "void k(struct request *rq) { use(rq->arena->writer); }\n",
    "cli/serve.c": "void l(void) { struct arena arena; upstream_stop(arena.up); }\n",
    # the SQLite engine's files may include SQLite, and storage/ its engine
    "storage/sqlite/db.c": '#include <sqlite3.h>\n#include "storage/sqlite/internal.h"\n',
    "storage/store.c": '#include "storage/ops.h"\n#include "storage/sqlite/sqlite.h"\n',
    "judge/fine.c": '#include "storage/judgments.h"\n#include "storage/store.h"\n',
    # one breach each: the engine's headers, and SQLite, above or beside it
    "battle/peek.c": '#include "storage/sqlite/internal.h"\n',
    "battle/ops.c": '#include "storage/ops.h"\n',
    "cli/alike.c": '#include "storage/sqlite/store.h"\n',
    "cli/raw.c": "#include <stdio.h>\n#include <sqlite3.h>\n",
    "storage/writer.c": '#  include "sqlite3.h"\n',
}

WANT = {
    'server/handlers/private.c:1: includes "battle/arena_impl.h", private to '
    "battle/ (its public headers: arena.h)",
    'server/handlers/registry.c:1: includes "battle/registry.h", private to '
    "battle/ (its public headers: arena.h)",
    "server/handlers/lock.c:2: takes a battle's lock (\"&b->lock\"): only battle/ may",
    "server/handlers/live.c:1: reads the arena's live ratings (\"->live.\"): only battle/ may",
    'server/http/field.c:1: reads a field of the arena ("arena->writer"): only battle/ may',
    'server/cli/serve.c:1: reads a field of the arena ("arena.up"): only battle/ may',
    'server/battle/peek.c:1: includes "storage/sqlite/internal.h", private to storage/ '
    "(its public headers: interchange.h judgments.h nodes.h rows.h store.h tagging.h writer.h)",
    'server/battle/ops.c:1: includes "storage/ops.h", private to storage/ '
    "(its public headers: interchange.h judgments.h nodes.h rows.h store.h tagging.h writer.h)",
    'server/cli/alike.c:1: includes "storage/sqlite/store.h", private to storage/ '
    "(its public headers: interchange.h judgments.h nodes.h rows.h store.h tagging.h writer.h)",
    "server/cli/raw.c:2: includes <sqlite3.h>, which only server/storage/sqlite/ may "
    "(the others use its operations)",
    "server/storage/writer.c:1: includes <sqlite3.h>, which only server/storage/sqlite/ may "
    "(the others use its operations)",
}


def main(layers_file):
    with tempfile.TemporaryDirectory() as tmp:
        server = Path(tmp)
        (server / "LAYERS").write_text(Path(layers_file).read_text())
        for name, text in FILES.items():
            (server / name).parent.mkdir(parents=True, exist_ok=True)
            (server / name).write_text(text)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = layers.main(str(server))
    got = {line for line in out.getvalue().splitlines()
           if not line.startswith("layers:")}
    ok = rc == 1 and got == WANT
    for line in sorted(WANT - got):
        print("not reported:", line)
    for line in sorted(got - WANT):
        print("reported, wrongly:", line)
    print("layers rules: ok" if ok else "layers rules: FAILED (rc %d)" % rc)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
