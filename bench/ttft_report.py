#!/usr/bin/env python3
"""Time to first token through Agon versus straight from the upstream.

    bench/ttft_report.py BATTLES DIRECT UPSTREAM_STATS [--json]
    bench/ttft_report.py --by-start BATTLES

BATTLES is `arena_load battles --out`, DIRECT `arena_load direct --out`,
UPSTREAM_STATS fake_upstream's GET /stats taken after the battles run (it
knows when it sent each request's first chunk, on the same clock).

Prints percentiles (ms) of:
  client TTFT     POST /api/battles sent -> first delta event received
  direct TTFT     request sent straight to the upstream -> first content chunk
  added TTFT      client TTFT percentile - direct TTFT percentile
  create          POST /api/battles sent -> 201 received
  to upstream     POST sent -> the upstream has read agon's first request
  relay           upstream sent its first chunk (the earlier side) -> the
                  client has the first delta
"""

import json
import sys


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    i = min(len(v) - 1, int(p * len(v)))
    return v[i]


def load(path):
    rows = []
    for line in open(path):
        f = line.split()
        rows.append({"tag": int(f[0]), "ok": int(f[1]), "t_post": int(f[4]),
                     "t_created": int(f[5]), "t_first": int(f[6]),
                     "t_end": int(f[7])})
    return rows


def by_start(path):
    """Client TTFT percentiles for each tenth of the battles, in the order
    they were started."""
    rows = sorted(load(path), key=lambda b: b["t_post"])
    step = max(1, len(rows) // 10)
    for i in range(0, len(rows), step):
        part = rows[i:i + step]
        v = [(b["t_first"] - b["t_post"]) * 1e-6 for b in part
             if b["ok"] and b["t_first"]]
        print("battles %4d-%4d: p50 %8.2f  p99 %8.2f" %
              (i, i + len(part) - 1, pct(v, 0.5), pct(v, 0.99)))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    as_json = "--json" in sys.argv
    if "--by-start" in sys.argv:
        by_start(args[0])
        return
    battles, direct = load(args[0]), load(args[1])
    up = {}
    for line in open(args[2]):
        tag, t_req, t_first = (int(x) for x in line.split())
        r = up.setdefault(tag, [None, None])
        r[0] = t_req if r[0] is None else min(r[0], t_req)
        r[1] = t_first if r[1] is None else min(r[1], t_first)
    ms = 1e-6
    ok = [b for b in battles if b["ok"] and b["t_first"]]
    series = {
        "client_ttft": [(b["t_first"] - b["t_post"]) * ms for b in ok],
        "direct_ttft": [(d["t_first"] - d["t_post"]) * ms
                        for d in direct if d["ok"] and d["t_first"]],
        "create": [(b["t_created"] - b["t_post"]) * ms for b in ok],
        "to_upstream": [(up[b["tag"]][0] - b["t_post"]) * ms
                        for b in ok if b["tag"] in up],
        "relay": [(b["t_first"] - up[b["tag"]][1]) * ms
                  for b in ok if b["tag"] in up],
    }
    ps = (0.5, 0.9, 0.99, 1.0)
    out = {k: {str(p): pct(v, p) for p in ps} for k, v in series.items()}
    out["added_ttft"] = {str(p): out["client_ttft"][str(p)] -
                         out["direct_ttft"][str(p)] for p in ps}
    out["battles"] = len(battles)
    out["errors"] = len(battles) - sum(b["ok"] for b in battles)
    out["direct_errors"] = len(direct) - sum(d["ok"] for d in direct)
    if as_json:
        print(json.dumps(out))
        return
    print("%-14s %9s %9s %9s %9s" % ("ms", "p50", "p90", "p99", "max"))
    for k in ("client_ttft", "direct_ttft", "added_ttft", "create",
              "to_upstream", "relay"):
        print("%-14s %9.2f %9.2f %9.2f %9.2f" %
              ((k,) + tuple(out[k][str(p)] for p in ps)))
    print("battles %d, errors %d; direct streams %d, errors %d" %
          (out["battles"], out["errors"], len(direct), out["direct_errors"]))


if __name__ == "__main__":
    main()
