#!/usr/bin/env python3
"""Generate a synthetic battle log in FastChat's clean-battle format.

    bench/gen_battles.py [-n 1000000] [-m 100] [--seed 1] [--format array|jsonl] OUT

Models model_000 .. model_{M-1} get true ratings evenly spread over
700..1300 (in a shuffled order); each battle picks two distinct models
uniformly. With p = 1 / (1 + 10^((r_b - r_a) / 400)) (Bradley-Terry), the
battle is a tie ("tie" or, one time in three, "tie (bothbad)") with
probability t = 4 p (1 - p) * --ties (default 0.2: 20% between equals,
fewer between unequal models); otherwise model_a wins with the probability
q = (p - t/2) / (1 - t) that makes its expected score (a tie counting half)
exactly p. Timestamps increase with
some jitter, so the file is almost but not exactly in tstamp order.
--anony (default 1.0) is the fraction of anonymous battles.

The true ratings are written to OUT.truth.json.
"""

import argparse
import json
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("-n", "--battles", type=int, default=1_000_000)
    ap.add_argument("-m", "--models", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ties", type=float, default=0.2)
    ap.add_argument("--anony", type=float, default=1.0)
    ap.add_argument("--format", choices=("array", "jsonl"), default="array")
    a = ap.parse_args()
    if a.models < 2 or a.battles < 0 or not 0 <= a.ties <= 0.5:
        sys.exit("gen_battles: need at least 2 models, n >= 0, 0 <= ties <= 0.5")

    rng = np.random.default_rng(a.seed)
    m, n = a.models, a.battles
    names = ["model_%03d" % i for i in range(m)]
    truth = np.linspace(700.0, 1300.0, m)
    rng.shuffle(truth)

    ia = rng.integers(0, m, size=n)
    ib = (ia + rng.integers(1, m, size=n)) % m
    p = 1.0 / (1.0 + 10.0 ** ((truth[ib] - truth[ia]) / 400.0))
    t = a.ties * 4.0 * p * (1.0 - p)
    q = (p - t / 2) / (1.0 - t)
    tie = rng.random(n) < t
    a_wins = rng.random(n) < q
    bothbad = rng.random(n) < 1.0 / 3.0
    anony = rng.random(n) < a.anony
    tstamp = 1.7e9 + np.arange(n) * 0.5 + rng.uniform(0.0, 5.0, size=n)
    users = rng.integers(0, 50_000, size=n)

    winner = np.where(tie, np.where(bothbad, "tie (bothbad)", "tie"),
                      np.where(a_wins, "model_a", "model_b"))
    lines = [
        '{"model_a": "%s", "model_b": "%s", "winner": "%s", "judge": "arena_user_%d", '
        '"turn": 1, "anony": %s, "language": "English", "tstamp": %.4f}'
        % (names[x], names[y], w, usr, "true" if an else "false", ts)
        for x, y, w, usr, an, ts in zip(ia.tolist(), ib.tolist(), winner.tolist(),
                                        users.tolist(), anony.tolist(), tstamp.tolist())
    ]
    with open(a.out, "w", encoding="utf-8") as f:
        if a.format == "array":
            f.write("[\n" + ",\n".join(lines) + ("\n]\n" if lines else "]\n"))
        else:
            f.write("\n".join(lines) + ("\n" if lines else ""))
    centred = truth - truth.mean() + 1000.0
    with open(a.out + ".truth.json", "w", encoding="utf-8") as f:
        json.dump({nm: round(float(r), 6) for nm, r in zip(names, centred)}, f, indent=1)
    print("gen_battles: wrote %d battles among %d models to %s" % (n, m, a.out),
          file=sys.stderr)


if __name__ == "__main__":
    main()
