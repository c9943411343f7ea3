"""Bradley-Terry by simulation: battles drawn from known ratings; `agon
ratings` must recover the ratings, and its 95% bootstrap intervals must
cover the truth about 95% of the time.

Ties: with probability TIE_RATE a battle is a tie; otherwise model a wins
with probability q chosen so that a's expected score (a tie counting half)
is exactly the BT probability p = 1 / (1 + 10^((r_b - r_a) / 400)):
TIE_RATE / 2 + (1 - TIE_RATE) * q = p. The half-win likelihood agon fits is
then unbiased for the true ratings.

Everything is seeded: the test is deterministic.
"""

import json
import math

import numpy as np

from conftest import run_agon

N_MODELS = 8
N_BATTLES = 2000
TIE_RATE = 0.15
ROUNDS = 200
N_SIMS = 40


def true_ratings():
    r = np.linspace(800.0, 1200.0, N_MODELS)
    return r - r.mean() + 1000.0  # centred, as agon centres its ratings


def simulate(rng, ratings, n=N_BATTLES):
    models = ["m%d" % i for i in range(len(ratings))]
    out = []
    for t in range(n):
        a, b = rng.choice(len(ratings), size=2, replace=False)
        p = 1.0 / (1.0 + 10.0 ** ((ratings[b] - ratings[a]) / 400.0))
        u = rng.random()
        if u < TIE_RATE:
            w = "tie" if rng.random() < 0.7 else "tie (bothbad)"
        else:
            q = (p - TIE_RATE / 2) / (1.0 - TIE_RATE)
            w = "model_a" if rng.random() < q else "model_b"
        out.append({"model_a": models[a], "model_b": models[b], "winner": w,
                    "anony": True, "tstamp": 1.7e9 + t})
    return models, out


def fit(agon_bin, path, seed):
    r = run_agon(agon_bin, "ratings", "--json", "--bootstrap", str(ROUNDS),
                 "--seed", str(seed), str(path), timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["battles"] == N_BATTLES and out["malformed"] == 0
    return {m["model"]: m for m in out["models"]}


def test_bt_recovers_truth_and_intervals_cover(agon_bin, tmp_path):
    truth = true_ratings()
    hits = total = 0
    errors = []     # per simulation, per model: fitted - true
    widths = []
    for sim in range(N_SIMS):
        rng = np.random.default_rng(1000 + sim)
        models, battles = simulate(rng, truth)
        path = tmp_path / ("sim%d.jsonl" % sim)
        path.write_text("".join(json.dumps(b) + "\n" for b in battles))
        got = fit(agon_bin, path, seed=sim + 1)
        assert set(got) == set(models)
        err = []
        for i, m in enumerate(models):
            row = got[m]
            assert row["group"] == got[models[0]]["group"]
            assert row["ci_low"] < row["bt"] < row["ci_high"], row
            err.append(row["bt"] - truth[i])
            widths.append(row["ci_high"] - row["ci_low"])
            total += 1
            hits += row["ci_low"] <= truth[i] <= row["ci_high"]
        err = np.array(err)
        # one fit: with ~500 battles a model, the standard error is ~17
        # points; no model should be off by more than ~4.5 of them
        assert np.max(np.abs(err)) < 75, (sim, err)
        assert math.sqrt(np.mean(err ** 2)) < 40, (sim, err)
        # the fitted order matches the truth except for near neighbours
        # (50 points apart)
        order = [int(m[1:]) for m in sorted(models, key=lambda m: got[m]["bt"])]
        assert all(abs(a - i) <= 2 for i, a in enumerate(order)), (sim, order)
        errors.append(err)
    errors = np.array(errors)
    # no bias: the mean error of every model over all simulations is small
    # (its standard error is ~17 / sqrt(40) ~ 2.7 points)
    bias = errors.mean(axis=0)
    assert np.max(np.abs(bias)) < 12, bias
    coverage = hits / total
    print("coverage %.3f over %d intervals, mean width %.1f, mean |error| %.1f"
          % (coverage, total, np.mean(widths), np.mean(np.abs(errors))))
    assert 0.85 <= coverage <= 0.99, coverage
    # the intervals are about as wide as the errors are large: a 95%
    # interval is ~4 standard errors wide
    rms = math.sqrt(np.mean(errors ** 2))
    assert 2.5 * rms < np.mean(widths) < 6 * rms, (np.mean(widths), rms)
