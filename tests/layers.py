#!/usr/bin/env python3
"""Check that server/'s includes follow the layers declared in server/LAYERS:
a file includes its own folder's headers and those of lower layers only,
and of a folder that names its public headers (`folder: header ...`) only
those (a header of a subfolder, say storage/sqlite/, is private unless
named with its subfolder). A library header that LAYERS confines to a
folder (`<sqlite3.h>: storage/sqlite`) is included there only, so that
an engine's library stays behind its operations. Above battle/ (the
layers that call the arena) no file reaches into
the arena or a battle: no `arena->field` or `arena.field`, no `->live.` (the live ratings'
fields, their lock), no battle lock (`&b->lock`).

    python3 tests/layers.py SERVER_DIR     (exit 0, or 1 with one line per breach)
"""
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# any include, of ours or a library's, for the confined library headers
ANY_INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^>"]+)[>"]', re.M)
GENERATED = {"agon_version.h"}
# comments and string literals, blanked before the checks of ARENA_ONLY
NOT_CODE = re.compile(r'/\*.*?\*/|//[^\n]*|"(\\.|[^"\\\n])*"|\'(\\.|[^\'\\\n])*\'', re.S)

# What the layers above battle/ never write: the arena's fields and the
# battles' locks are battle/'s own (below it they are out of reach).
ARENA_ONLY = [
    (re.compile(r'\barena\s*(->|\.)\s*\w+'), "reads a field of the arena"),
    (re.compile(r'(->|\.)\s*live\s*\.'), "reads the arena's live ratings"),
    (re.compile(r'&\s*(\w+\s*(->|\.)\s*)*(b|battle)\s*->\s*lock\b'),
     "takes a battle's lock"),
]


def layers(path):
    """The rank of every module, the public headers of the folders that
    name them, and the folder each confined library header is for."""
    level, public, confined = {}, {}, {}
    rank = 0
    for n, line in enumerate(path.read_text().splitlines()):
        names = line.split("#", 1)[0].split()
        if names and names[0].startswith("<") and names[0].endswith(">:"):
            if len(names) != 2:
                raise SystemExit("%s:%d: '%s' names one folder" % (path, n + 1, names[0]))
            confined[names[0][1:-2]] = names[1].rstrip("/")
            continue
        if names and names[0].endswith(":"):
            public[names[0][:-1]] = set(names[1:])
            continue
        for name in names:
            if name in level:
                raise SystemExit("%s:%d: '%s' is declared twice" % (path, n + 1, name))
            level[name] = rank
        rank += 1 if names else 0
    for folder in public:
        if folder not in level:
            raise SystemExit("%s: public headers of an undeclared module '%s'"
                             % (path, folder))
    for header, folder in confined.items():
        if module_of(folder + "/x") not in level:
            raise SystemExit("%s: <%s> is confined to '%s', of an undeclared module"
                             % (path, header, folder))
    return level, public, confined


def module_of(rel):
    """The module of a path relative to server/: its folder, or for a file
    at the top its stem (config, main)."""
    parts = Path(rel).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def main(server):
    server = Path(server)
    level, public, confined = layers(server / "LAYERS")
    bad = []
    for f in sorted(list(server.rglob("*.c")) + list(server.rglob("*.cc")) + list(server.rglob("*.h"))):
        rel = f.relative_to(server)
        src = module_of(rel)
        if src not in level:
            bad.append("%s: module '%s' is not in server/LAYERS" % (rel, src))
            continue
        text = f.read_text(errors="replace")
        for m in ANY_INCLUDE.finditer(text):
            folder = confined.get(m.group(1))
            if folder and Path(folder) not in rel.parents:
                bad.append("server/%s:%d: includes <%s>, which only server/%s/ may "
                           "(the others use its operations)"
                           % (rel, line_of(text, m.start()), m.group(1), folder))
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            if inc in GENERATED or inc in confined:
                continue
            dst = module_of(inc)
            if dst == src:
                continue
            line = line_of(text, m.start())
            if dst not in level:
                bad.append("server/%s:%d: includes \"%s\" of an undeclared module '%s'"
                           % (rel, line, inc, dst))
            elif level[dst] >= level[src]:
                how = "sideways (same layer)" if level[dst] == level[src] else "up"
                bad.append("server/%s:%d: %s (%s) includes \"%s\" (%s): points %s"
                           % (rel, line, src, level[src], inc, dst, how))
            elif dst in public and Path(inc).relative_to(dst).as_posix() not in public[dst]:
                bad.append("server/%s:%d: includes \"%s\", private to %s/ "
                           "(its public headers: %s)"
                           % (rel, line, inc, dst, " ".join(sorted(public[dst]))))
        if level[src] <= level["battle"]:
            continue
        # blanked with their newlines kept, so that lines still count
        code = NOT_CODE.sub(lambda c: re.sub(r'[^\n]', ' ', c.group(0)), text)
        for pattern, what in ARENA_ONLY:
            for m in pattern.finditer(code):
                bad.append("server/%s:%d: %s (\"%s\"): only battle/ may"
                           % (rel, line_of(code, m.start()), what, m.group(0)))
    for b in bad:
        print(b)
    print("layers: %d breaches" % len(bad) if bad else "layers: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "server"))
