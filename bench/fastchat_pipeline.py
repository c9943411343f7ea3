#!/usr/bin/env python3
"""The numpy/scipy rating pipeline that FastChat users typically run,
re-implemented from its description (no FastChat code) as the baseline for
`agon ratings`:

  1. load a clean-battle log (JSON array, or JSON lines) with the json module;
  2. keep anonymous battles (unless --all), drop model_a == model_b and
     unknown winners, sort by tstamp;
  3. online Elo in a Python loop (K=4, scale 400, base 10, initial 1000; a
     tie or "tie (bothbad)" / "both_bad" scores 0.5);
  4. Bradley-Terry: aggregate the battles into unique (model_a, model_b,
     outcome) rows with weights, and minimise the weighted logistic loss
     with scipy.optimize.minimize(method="L-BFGS-B") (analytic gradient),
     ratings = 1000 + 400/ln(10) * theta, centred at 1000;
  5. bootstrap: every round resamples the battles with replacement
     (--resample battles, default; or a multinomial over the unique rows,
     --resample multinomial), re-aggregates, refits with L-BFGS-B from
     zero; 95% intervals from the 2.5% and 97.5% percentiles; rank (UB).

    bench/fastchat_pipeline.py [--bootstrap 1000] [--seed 1] [--all]
                               [--resample battles|multinomial] [--gtol 1e-6]
                               [--json] FILE

Prints phase timings on stderr, and the ratings (a table, or --json in
agon's shape) on stdout. Single process, like the usual notebook.
"""

import argparse
import json
import math
import sys
import time
from collections import defaultdict

import numpy as np
from scipy.optimize import minimize

SCALE = 400.0 / math.log(10.0)


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    s = text.lstrip()
    if s.startswith("["):
        return json.loads(s)
    return [json.loads(ln) for ln in text.splitlines() if ln.strip()]


SCORE = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5,
         "both_bad": 0.5}


def clean(records, anony_only):
    out = [r for r in records
           if (r.get("anony") or not anony_only)
           and r.get("model_a") != r.get("model_b")
           and r.get("winner") in SCORE]
    out.sort(key=lambda r: r["tstamp"])
    return out


def online_elo(battles, k=4.0, scale=400.0, base=10.0, init=1000.0):
    rating = defaultdict(lambda: init)
    for r in battles:
        a, b = r["model_a"], r["model_b"]
        ra, rb = rating[a], rating[b]
        ea = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        eb = 1.0 / (1.0 + base ** ((ra - rb) / scale))
        sa = SCORE[r["winner"]]
        rating[a] = ra + k * (sa - ea)
        rating[b] = rb + k * (1.0 - sa - eb)
    return dict(rating)


def encode(battles):
    """Models, and per battle the index of its unique (a, b, outcome) row."""
    models = sorted({r["model_a"] for r in battles} | {r["model_b"] for r in battles})
    idx = {m: i for i, m in enumerate(models)}
    n = len(models)
    ia = np.fromiter((idx[r["model_a"]] for r in battles), np.int64, len(battles))
    ib = np.fromiter((idx[r["model_b"]] for r in battles), np.int64, len(battles))
    oc = np.fromiter((int(2 * SCORE[r["winner"]]) for r in battles), np.int64,
                     len(battles))  # 0, 1 (tie), 2 (a wins)
    key = (ia * n + ib) * 3 + oc
    uniq, inverse = np.unique(key, return_inverse=True)
    rows_a = uniq // 3 // n
    rows_b = uniq // 3 % n
    rows_o = (uniq % 3) / 2.0
    return models, rows_a, rows_b, rows_o, inverse


def fit_bt(n, rows_a, rows_b, rows_o, weights, gtol):
    """Weighted logistic MLE by L-BFGS-B; returns theta centred at 0."""
    use = weights > 0
    a, b, o, w = rows_a[use], rows_b[use], rows_o[use], weights[use]
    total = w.sum()

    def loss_grad(theta):
        d = theta[a] - theta[b]
        # -[o log s(d) + (1-o) log s(-d)]
        loss = np.sum(w * (np.logaddexp(0.0, -d) * o + np.logaddexp(0.0, d) * (1.0 - o)))
        p = 0.5 * (1.0 + np.tanh(0.5 * d))
        r = w * (p - o)
        g = np.bincount(a, r, minlength=n) - np.bincount(b, r, minlength=n)
        return loss / total, g / total

    res = minimize(loss_grad, np.zeros(n), jac=True, method="L-BFGS-B",
                   options={"gtol": gtol, "ftol": 1e-15, "maxiter": 1000})
    theta = res.x
    return theta - theta.mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--all", action="store_true", help="not only anonymous battles")
    ap.add_argument("--resample", choices=("battles", "multinomial"), default="battles")
    ap.add_argument("--gtol", type=float, default=1e-6)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    records = load(args.file)
    t1 = time.perf_counter()
    battles = clean(records, not args.all)
    del records
    t2 = time.perf_counter()
    elo = online_elo(battles)
    t3 = time.perf_counter()
    models, ra, rb, ro, inverse = encode(battles)
    nb, n = len(battles), len(models)
    counts = np.bincount(inverse, minlength=len(ra)).astype(float)
    theta = fit_bt(n, ra, rb, ro, counts, args.gtol)
    bt = 1000.0 + SCALE * theta
    t4 = time.perf_counter()

    rng = np.random.default_rng(args.seed)
    samples = np.empty((args.bootstrap, n))
    for r in range(args.bootstrap):
        if args.resample == "battles":
            pick = rng.integers(0, nb, size=nb)
            w = np.bincount(inverse[pick], minlength=len(ra)).astype(float)
        else:
            w = rng.multinomial(nb, counts / nb).astype(float)
        samples[r] = 1000.0 + SCALE * fit_bt(n, ra, rb, ro, w, args.gtol)
    if args.bootstrap > 0:
        lo = np.percentile(samples, 2.5, axis=0)
        hi = np.percentile(samples, 97.5, axis=0)
    else:
        lo = hi = np.full(n, np.nan)
    t5 = time.perf_counter()

    print("fastchat_pipeline: %d battles, %d models; load %.2f s, clean+sort %.2f s, "
          "online Elo %.2f s, BT %.2f s, bootstrap %d rounds %.2f s (%.1f ms/round), "
          "total %.2f s" % (nb, n, t1 - t0, t2 - t1, t3 - t2, t4 - t3, args.bootstrap,
                            t5 - t4, 1000 * (t5 - t4) / max(args.bootstrap, 1), t5 - t0),
          file=sys.stderr)

    rows = []
    for i, m in enumerate(models):
        rank = None
        if args.bootstrap > 0:
            rank = 1 + int(np.sum(lo > hi[i]))
        rows.append({"model": m, "elo": elo[m], "bt": float(bt[i]),
                     "ci_low": None if math.isnan(lo[i]) else float(lo[i]),
                     "ci_high": None if math.isnan(hi[i]) else float(hi[i]),
                     "rank_ub": rank})
    rows.sort(key=lambda x: -x["bt"])
    if args.json:
        json.dump({"battles": nb, "bootstrap": args.bootstrap, "seed": args.seed,
                   "models": rows}, sys.stdout, indent=2)
        print()
    else:
        print("%-4s %-40s %8s %8s %17s %5s" % ("rank", "model", "elo", "bt", "95% ci", "ub"))
        for k, x in enumerate(rows):
            ci = "-" if x["ci_low"] is None else "%.1f..%.1f" % (x["ci_low"], x["ci_high"])
            print("%-4d %-40.40s %8.1f %8.1f %17s %5s" % (k + 1, x["model"], x["elo"], x["bt"],
                                                        ci, x["rank_ub"] or "-"))


if __name__ == "__main__":
    main()
