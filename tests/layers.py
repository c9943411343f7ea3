#!/usr/bin/env python3
"""Check that server/'s includes follow the layers declared in server/LAYERS:
a file includes its own folder's headers and those of lower layers only.

    python3 tests/layers.py SERVER_DIR     (exit 0, or 1 with one line per include that points up or sideways)
"""
import re
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
GENERATED = {"agon_version.h"}


def layers(path):
    level = {}
    rank = 0
    for n, line in enumerate(path.read_text().splitlines()):
        names = line.split("#", 1)[0].split()
        for name in names:
            if name in level:
                raise SystemExit("%s:%d: '%s' is declared twice" % (path, n + 1, name))
            level[name] = rank
        rank += 1 if names else 0
    return level


def module_of(rel):
    """The module of a path relative to server/: its folder, or for a file
    at the top its stem (config, main)."""
    parts = Path(rel).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def main(server):
    server = Path(server)
    level = layers(server / "LAYERS")
    bad = []
    for f in sorted(list(server.rglob("*.c")) + list(server.rglob("*.cc")) + list(server.rglob("*.h"))):
        rel = f.relative_to(server)
        src = module_of(rel)
        if src not in level:
            bad.append("%s: module '%s' is not in server/LAYERS" % (rel, src))
            continue
        text = f.read_text(errors="replace")
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            if inc in GENERATED:
                continue
            dst = module_of(inc)
            if dst == src:
                continue
            line = text.count("\n", 0, m.start()) + 1
            if dst not in level:
                bad.append("server/%s:%d: includes \"%s\" of an undeclared module '%s'"
                           % (rel, line, inc, dst))
            elif level[dst] >= level[src]:
                how = "sideways (same layer)" if level[dst] == level[src] else "up"
                bad.append("server/%s:%d: %s (%s) includes \"%s\" (%s): points %s"
                           % (rel, line, src, level[src], inc, dst, how))
    for b in bad:
        print(b)
    print("layers: %d includes point up or sideways" % len(bad) if bad else "layers: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "server"))
