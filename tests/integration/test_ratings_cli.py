"""`agon ratings` (and `agon import` / `agon export`) against independent
reference implementations, on a real arena log (GenAI-Arena, see
tests/data/README.md).

- Online Elo: a pure-Python re-statement of FastChat's compute_online_elo
  (tstamp order, K=4, SCALE=400, BASE=10, INIT=1000), to 1e-6.
- Bradley-Terry: our own MLE (Newton in numpy, gradient below 1e-10), fitted
  on every connected group separately, to 0.01 rating points; where the
  MLE does not exist, the rule of server/rating/bt.h (the group's largest
  strongly connected part keeps its exact MLE, the other models are placed
  against it with one virtual tie each).
- Bootstrap intervals, seeds, malformed records, degenerate data, and the
  import/export round trip (skipped while those commands do not exist).

Needs numpy and scipy (Debian: python3-numpy, python3-scipy).
"""

import collections
import csv
import io
import json
import math
import re
import subprocess

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from conftest import REPO, check_sanitizers, run_agon

GENAI_NAME = "genai-arena-clean-battle-20240220.json"
GENAI = REPO / "tests" / "data" / GENAI_NAME
GENAI_SHARED = REPO / ".." / "shared" / "data" / "battles" / GENAI_NAME
SCALE = 400.0 / math.log(10.0)  # Elo points per unit of BT theta


# ---------------------------------------------------------------------------
# Helpers.

def load_genai():
    with open(GENAI, encoding="utf-8") as f:
        return json.load(f)


def strict_json(text):
    """Parse JSON, refusing NaN and Infinity (agon must never print them)."""
    def bad(c):
        raise AssertionError("non-finite number %r in agon's JSON" % c)
    return json.loads(text, parse_constant=bad)


def ratings_json(agon_bin, *args, files=(), timeout=120):
    r = run_agon(agon_bin, "ratings", "--json", *args, *map(str, files),
                 timeout=timeout)
    assert r.returncode == 0, "agon ratings failed (%d):\n%s" % (r.returncode, r.stderr)
    out = strict_json(r.stdout)
    return out, r.stderr


def by_model(out):
    return {m["model"]: m for m in out["models"]}


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write((rec if isinstance(rec, str) else json.dumps(rec)) + "\n")
    return path


def battle(a, b, w, t, anony=True):
    return {"model_a": a, "model_b": b, "winner": w, "judge": "test",
            "anony": anony, "tstamp": t}


# ---------------------------------------------------------------------------
# Reference: FastChat's online Elo, re-stated.

def fastchat_online_elo(records, k=4.0, scale=400.0, base=10.0, init=1000.0):
    """compute_online_elo: battles sorted by tstamp, FastChat's update.
    Records with model_a == model_b are skipped (the update would be a
    no-op for the pair anyway: K*(1 - ea - eb) = 0)."""
    rating = collections.defaultdict(lambda: init)
    order = sorted(range(len(records)), key=lambda i: records[i]["tstamp"])
    for i in order:
        rec = records[i]
        a, b, w = rec["model_a"], rec["model_b"], rec["winner"]
        if a == b:
            continue
        ra, rb = rating[a], rating[b]
        ea = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        eb = 1.0 / (1.0 + base ** ((ra - rb) / scale))
        if w == "model_a":
            sa = 1.0
        elif w == "model_b":
            sa = 0.0
        elif w in ("tie", "tie (bothbad)", "both_bad"):
            sa = 0.5
        else:
            raise ValueError("unexpected vote %r" % w)
        rating[a] += k * (sa - ea)
        rating[b] += k * (1.0 - sa - eb)
    return dict(rating)


# ---------------------------------------------------------------------------
# Reference: Bradley-Terry maximum likelihood, written from the model.

def half_win_matrix(records, models):
    """W[i, j] = wins of i over j + half the ties (and both-bad) between them."""
    idx = {m: i for i, m in enumerate(models)}
    W = np.zeros((len(models), len(models)))
    for rec in records:
        a, b, w = rec["model_a"], rec["model_b"], rec["winner"]
        if a == b:
            continue
        i, j = idx[a], idx[b]
        if w == "model_a":
            W[i, j] += 1
        elif w == "model_b":
            W[j, i] += 1
        else:
            W[i, j] += 0.5
            W[j, i] += 0.5
    return W


def groups_of(W):
    """Connected groups (lists of indices) of the comparison graph."""
    n_comp, labels = connected_components(csr_matrix((W + W.T) > 0),
                                          directed=False)
    return [list(np.flatnonzero(labels == c)) for c in range(n_comp)]


def strong_parts(W):
    """Labels of the strongly connected parts of the 'won at least half a
    game against' graph (Zermelo/Ford: the MLE exists iff there is one)."""
    _, labels = connected_components(csr_matrix(W > 0), directed=True,
                                     connection="strong")
    return labels


def bt_newton(W, prior=False, fixed=None, tol=1e-10):
    """Maximise sum_ij W_ij log sigmoid(t_i - t_j), plus, for every model
    with prior (a bool, or one per model), one virtual tie against an
    opponent at t = 0. fixed: {index: value} held constant. Without prior
    and fixed values, t_0 is held at 0 (the likelihood only sees
    differences). Newton with step halving until the largest free gradient
    component is below tol. Returns (theta, max |gradient|)."""
    n = W.shape[0]
    N = W + W.T
    prior = np.broadcast_to(np.asarray(prior, bool), (n,))
    fixed = fixed or {}
    t = np.zeros(n)
    is_free = np.ones(n, bool)
    for k, v in fixed.items():
        t[k] = v
        is_free[k] = False
    if not prior.any() and not fixed:
        is_free[0] = False
    free = np.flatnonzero(is_free)

    def sig(x):
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    def loglik(t):
        d = t[:, None] - t[None, :]
        ll = np.sum(W * -np.logaddexp(0.0, -d))
        tp = t[prior]
        return ll + np.sum(-0.5 * np.logaddexp(0.0, -tp) - 0.5 * np.logaddexp(0.0, tp))

    def grad_hess(t):
        P = sig(t[:, None] - t[None, :])
        g = np.sum(W - N * P, axis=1)
        C = N * P * (1.0 - P)
        H = np.diag(C.sum(axis=1)) - C       # minus the Hessian
        p = sig(t)
        g = g + np.where(prior, 0.5 - p, 0.0)
        H = H + np.diag(np.where(prior, p * (1.0 - p), 0.0))
        return g, H

    ll = loglik(t)
    for _ in range(500):
        g, H = grad_hess(t)
        gmax = np.max(np.abs(g[free])) if len(free) else 0.0
        if gmax < tol:
            return t, gmax
        step = np.zeros(n)
        step[free] = np.linalg.solve(H[np.ix_(free, free)], g[free])
        lam = 1.0
        while True:
            trial = t + lam * step
            tll = loglik(trial)
            if tll >= ll - 1e-12 * abs(ll) or lam < 1e-12:
                break
            lam *= 0.5
        t, ll = trial, tll
    g, _ = grad_hess(t)
    return t, np.max(np.abs(g[free])) if len(free) else 0.0


def fit_group(Wg):
    """One connected group, by the rule documented in server/rating/bt.h:
    its core (the largest strongly connected part of the half-win graph)
    gets the exact MLE of the battles among its members; every other model
    is then placed against the fixed core (centred at 0) with one virtual
    tie against an opponent at 0. Without a core of two or more models,
    every model gets that prior. Returns (theta centred at 0, kind) with
    kind "mle" (no prior: the MLE exists), "core" or "prior"."""
    labels = strong_parts(Wg)
    sizes = np.bincount(labels)
    big = sizes.max()
    if big < 2:
        theta, gmax = bt_newton(Wg, prior=True)
        kind = "prior"
    else:
        assert np.sum(sizes == big) == 1, "two largest strongly connected parts"
        core = np.flatnonzero(labels == np.argmax(sizes))
        tc, gmax = bt_newton(Wg[np.ix_(core, core)])
        assert gmax < 1e-10, "core fit did not converge (%g)" % gmax
        tc -= tc.mean()
        if len(core) == len(Wg):
            theta, kind = tc, "mle"
        else:
            others = np.setdiff1d(np.arange(len(Wg)), core)
            theta, gmax = bt_newton(Wg, prior=np.isin(np.arange(len(Wg)), others),
                                    fixed=dict(zip(core.tolist(), tc.tolist())))
            kind = "core"
    assert gmax < 1e-10, "reference fit did not converge (%g)" % gmax
    return theta - theta.mean(), kind


def reference_bt(records):
    """{model: rating}, each connected group fitted on its own data and
    centred at 1000; also {model: group key} and {group key: kind}."""
    models = sorted({r["model_a"] for r in records if r["model_a"] != r["model_b"]} |
                    {r["model_b"] for r in records if r["model_a"] != r["model_b"]})
    W = half_win_matrix(records, models)
    ratings, group_of, kinds = {}, {}, {}
    for g, members in enumerate(groups_of(W)):
        theta, kind = fit_group(W[np.ix_(members, members)])
        for m, th in zip(members, theta):
            ratings[models[m]] = 1000.0 + SCALE * th
            group_of[models[m]] = g
        kinds[g] = kind
    return ratings, group_of, kinds


# ---------------------------------------------------------------------------
# The data itself.

def test_genai_copy_matches_shared():
    assert GENAI.is_file(), "missing %s" % GENAI
    if not GENAI_SHARED.is_file():
        pytest.skip("sibling folder %s not present" % GENAI_SHARED.parent)
    assert GENAI.read_bytes() == GENAI_SHARED.read_bytes(), \
        "tests/data copy differs from ../shared/data/battles"


def test_reference_bt_textbook():
    """The reference fit itself, on Wikipedia's Bradley-Terry example:
    strengths on the geometric-mean-1 scale A 0.640, B 1.043, C 0.660, D 2.270."""
    W = np.array([[0, 2, 0, 1], [3, 0, 5, 0], [0, 3, 0, 1], [4, 0, 3, 0]], float)
    theta, gmax = bt_newton(W)
    assert gmax < 1e-10
    p = np.exp(theta - theta.mean())
    assert np.allclose(p, [0.640, 1.043, 0.660, 2.270], atol=0.0015), p


# ---------------------------------------------------------------------------
# (a) Online Elo in FastChat's convention.

@pytest.mark.parametrize("anony_only", [True, False])
def test_genai_online_elo_matches_fastchat(agon_bin, anony_only):
    recs = load_genai()
    used = [r for r in recs if r["anony"] or not anony_only]
    want = fastchat_online_elo(used)
    args = ["--bootstrap", "0"] + (["--anony-only"] if anony_only else [])
    out, err = ratings_json(agon_bin, *args, files=[GENAI])
    got = by_model(out)
    assert set(got) == set(want)
    for m, r in want.items():
        assert abs(got[m]["elo"] - r) < 1e-6, (m, got[m]["elo"], r)
    # the record with model_a == model_b is reported (with its index) and
    # skipped; everything else is counted
    same = [i for i, r in enumerate(recs) if r["model_a"] == r["model_b"]]
    assert same == [1819]
    assert out["malformed"] == 1
    assert re.search(r"record 1819\b.*same model", err), err
    assert GENAI_NAME in err
    assert out["battles"] == sum(1 for r in used if r["model_a"] != r["model_b"])
    # counts
    cnt = collections.defaultdict(lambda: [0, 0, 0, 0])
    for r in used:
        a, b, w = r["model_a"], r["model_b"], r["winner"]
        if a == b:
            continue
        for m in (a, b):
            cnt[m][0] += 1
        if w == "model_a":
            cnt[a][1] += 1
            cnt[b][2] += 1
        elif w == "model_b":
            cnt[b][1] += 1
            cnt[a][2] += 1
        else:
            cnt[a][3] += 1
            cnt[b][3] += 1
    for m, (n, wi, lo, ti) in cnt.items():
        assert (got[m]["battles"], got[m]["wins"], got[m]["losses"], got[m]["ties"]) \
            == (n, wi, lo, ti), m


def test_online_elo_follows_tstamp_not_file_order(agon_bin, tmp_path):
    recs = [battle("x", "y", "model_a", 3.0), battle("y", "z", "model_a", 1.0),
            battle("z", "x", "tie", 2.0), battle("x", "z", "model_b", 4.5),
            battle("y", "x", "tie (bothbad)", 0.5)]
    f = write_jsonl(tmp_path / "shuffled.jsonl", recs)
    out, _ = ratings_json(agon_bin, "--bootstrap", "0", files=[f])
    want = fastchat_online_elo(recs)
    for m in out["models"]:
        assert abs(m["elo"] - want[m["model"]]) < 1e-6, m
    # K is honoured
    out, _ = ratings_json(agon_bin, "--bootstrap", "0", "--k", "32", files=[f])
    want = fastchat_online_elo(recs, k=32)
    for m in out["models"]:
        assert abs(m["elo"] - want[m["model"]]) < 1e-6, m


# ---------------------------------------------------------------------------
# (b) Bradley-Terry equals the exact MLE, group by group.

@pytest.mark.parametrize("anony_only", [True, False])
def test_genai_bt_matches_reference_mle(agon_bin, anony_only):
    recs = [r for r in load_genai() if r["anony"] or not anony_only]
    want, group_of, kinds_of = reference_bt(recs)
    # both groups' MLE exists: no prior anywhere, the exact MLE
    assert list(kinds_of.values()) == ["mle", "mle"]
    args = ["--bootstrap", "0"] + (["--anony-only"] if anony_only else [])
    out, _ = ratings_json(agon_bin, *args, files=[GENAI])
    got = by_model(out)
    assert set(got) == set(want)
    for m, r in want.items():
        assert abs(got[m]["bt"] - r) < 0.01, (m, got[m]["bt"], r)

    # two groups that never met: generation and editing models
    assert len(kinds_of) == 2
    for g in kinds_of:
        members = [m for m in want if group_of[m] == g]
        kinds = {m.rsplit("_", 1)[1] for m in members}
        assert len(kinds) == 1, kinds
        # agon's group ids: one per group, the same for all its members
        ids = {got[m]["group"] for m in members}
        assert len(ids) == 1, ids
        mean = sum(got[m]["bt"] for m in members) / len(members)
        assert abs(mean - 1000.0) < 1e-4, (kinds, mean)
    gen = {got[m]["group"] for m in got if m.endswith("_generation")}
    edi = {got[m]["group"] for m in got if m.endswith("_edition")}
    assert gen != edi


def test_genai_groups_fitted_alone_give_the_same_ratings(agon_bin, tmp_path):
    """A group's ratings do not depend on the other group being in the file."""
    recs = [r for r in load_genai() if r["anony"]]
    both, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0",
                           files=[GENAI])
    both = by_model(both)
    for kind in ("generation", "edition"):
        part = [r for r in recs if r["model_a"].endswith(kind)]
        assert all(r["model_b"].endswith(kind) for r in part)
        f = write_jsonl(tmp_path / (kind + ".jsonl"), part)
        alone, _ = ratings_json(agon_bin, "--bootstrap", "0", files=[f])
        alone = by_model(alone)
        assert set(alone) == {m for m in both if m.endswith(kind)}
        for m, row in alone.items():
            assert abs(row["bt"] - both[m]["bt"]) < 1e-6, m
            assert abs(row["elo"] - both[m]["elo"]) < 1e-6, m


def test_bt_exact_mle_when_it_exists_prior_only_where_it_does_not(agon_bin, tmp_path):
    """Two groups in one file: one whose MLE exists (no prior: exact MLE),
    one with an unbeaten model (outside the group's core: the prior keeps
    it finite, the core u, v keeps its exact MLE)."""
    recs, t = [], 0.0
    # group 1: a strongly connected cycle with uneven results
    for a, b, wa, wb, ties in [("p", "q", 7, 3, 2), ("q", "r", 5, 4, 1),
                               ("r", "p", 2, 6, 0), ("p", "s", 1, 1, 3),
                               ("s", "r", 4, 2, 2)]:
        for w, cnt in (("model_a", wa), ("model_b", wb), ("tie", ties)):
            for _ in range(cnt):
                t += 1
                recs.append(battle(a, b, w, t))
    # group 2: "boss" never loses
    for a, b, wa, wb, ties in [("boss", "u", 5, 0, 0), ("boss", "v", 3, 0, 0),
                               ("u", "v", 4, 3, 1)]:
        for w, cnt in (("model_a", wa), ("model_b", wb), ("tie (bothbad)", ties)):
            for _ in range(cnt):
                t += 1
                recs.append(battle(a, b, w, t))
    f = write_jsonl(tmp_path / "two.jsonl", recs)
    want, group_of, kinds_of = reference_bt(recs)
    assert sorted(kinds_of.values()) == ["core", "mle"]
    out, _ = ratings_json(agon_bin, "--bootstrap", "0", files=[f])
    got = by_model(out)
    for m, r in want.items():
        assert math.isfinite(got[m]["bt"])
        assert abs(got[m]["bt"] - r) < 0.01, (m, got[m]["bt"], r, kinds_of[group_of[m]])
    assert got["boss"]["bt"] == max(got[m]["bt"] for m in ("boss", "u", "v"))
    # the core's difference is the MLE of its own battles: u beat v 4, v
    # beat u 3, one tie -> theta_u - theta_v = ln(4.5 / 3.5)
    assert abs(got["u"]["bt"] - got["v"]["bt"] - SCALE * math.log(4.5 / 3.5)) < 0.01
    assert got["u"]["group"] == got["boss"]["group"] != got["p"]["group"]


def test_ratings_do_not_depend_on_file_order(agon_bin, tmp_path):
    """The same battles (same tstamps) in another file order: the same
    ratings. On the GenAI log, and on a group whose two strongly connected
    halves are the same size (a, b and c, d; b beat c once), where the
    choice of the core must not follow the order in which models first
    appear."""
    import random
    recs = load_genai()
    random.Random(5).shuffle(recs)
    f = tmp_path / "shuffled.json"
    f.write_text(json.dumps(recs))
    a, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0", files=[GENAI])
    b, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0", files=[f])
    ma, mb = by_model(a), by_model(b)
    for m in ma:
        assert abs(ma[m]["bt"] - mb[m]["bt"]) < 1e-6, m
        assert ma[m]["elo"] == mb[m]["elo"], m

    recs, t = [], 0
    for x, y, wx, wy in [("a", "b", 30, 10), ("c", "d", 30, 10), ("b", "c", 1, 0)]:
        for w, cnt in (("model_a", wx), ("model_b", wy)):
            for _ in range(cnt):
                t += 1
                recs.append(battle(x, y, w, t))
    cd_first = [r for r in recs if r["model_a"] == "c"] + \
               [r for r in recs if r["model_a"] != "c"]
    f1 = write_jsonl(tmp_path / "ab-first.jsonl", recs)
    f2 = write_jsonl(tmp_path / "cd-first.jsonl", cd_first)
    r1, _ = ratings_json(agon_bin, "--bootstrap", "0", files=[f1])
    r2, _ = ratings_json(agon_bin, "--bootstrap", "0", files=[f2])
    r1, r2 = by_model(r1), by_model(r2)
    for m in "abcd":
        assert abs(r1[m]["bt"] - r2[m]["bt"]) < 1e-6, \
            {k: (r1[k]["bt"], r2[k]["bt"]) for k in "abcd"}


# ---------------------------------------------------------------------------
# (c) Bootstrap intervals.

def test_genai_bootstrap_intervals(agon_bin):
    args = ["--anony-only", "--bootstrap", "300", "--threads", "2"]
    a, _ = ratings_json(agon_bin, *args, "--seed", "7", files=[GENAI])
    assert a["bootstrap"] == 300 and a["seed"] == 7
    for m in a["models"]:
        assert m["ci_low"] < m["bt"] < m["ci_high"], m
        assert m["ci_high"] - m["ci_low"] < 1000, m
    # rank (UB) = 1 + models of the same group whose lower bound is above
    # this model's upper bound
    for m in a["models"]:
        above = sum(1 for o in a["models"]
                    if o["group"] == m["group"] and o["ci_low"] > m["ci_high"])
        assert m["rank_ub"] == 1 + above, m
    # the same seed gives the same intervals, whatever the threads
    b, _ = ratings_json(agon_bin, *args, "--seed", "7", files=[GENAI])
    assert a == b
    c, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "300",
                        "--threads", "1", "--seed", "7", files=[GENAI])
    assert c["models"] == a["models"]
    # another seed: other intervals, same point estimates
    d, _ = ratings_json(agon_bin, *args, "--seed", "8", files=[GENAI])
    ma, md = by_model(a), by_model(d)
    assert any((ma[m]["ci_low"], ma[m]["ci_high"]) != (md[m]["ci_low"], md[m]["ci_high"])
               for m in ma)
    for m in ma:
        assert ma[m]["bt"] == md[m]["bt"] and ma[m]["elo"] == md[m]["elo"]


def test_newcomer_with_one_battle_does_not_distort_intervals(agon_bin, tmp_path):
    """Three established models (800 battles each) and a newcomer "e" with a
    single tie against "c". In about e^-1 = 37% of the bootstrap replicates
    e has no battle at all; that must not move the other models (their
    intervals stay about as wide as without e), and e, which is only ever
    seen tying with c, must get an interval around c's, not a's."""
    recs, t = [], 0
    for a, b, wa, wb in [("a", "b", 300, 100), ("b", "c", 300, 100),
                         ("c", "a", 100, 300)]:
        for w, cnt in (("model_a", wa), ("model_b", wb)):
            for _ in range(cnt):
                t += 1
                recs.append(battle(a, b, w, t))
    without = write_jsonl(tmp_path / "without.jsonl", recs)
    with_e = write_jsonl(tmp_path / "with.jsonl", recs + [battle("e", "c", "tie", t + 1)])
    args = ["--bootstrap", "1000", "--seed", "1"]
    w0, _ = ratings_json(agon_bin, *args, files=[without])
    w1, _ = ratings_json(agon_bin, *args, files=[with_e])
    w0, w1 = by_model(w0), by_model(w1)
    assert abs(w1["e"]["bt"] - w1["c"]["bt"]) < 1e-3  # the MLE: e ties c
    for m in ("a", "b", "c"):
        width0 = w0[m]["ci_high"] - w0[m]["ci_low"]
        width1 = w1[m]["ci_high"] - w1[m]["ci_low"]
        assert width1 < 1.3 * width0, (m, w0[m], w1[m])
        assert w1[m]["ci_low"] < w1[m]["bt"] < w1[m]["ci_high"]
    assert w1["e"]["ci_high"] < w1["b"]["ci_low"], (w1["e"], w1["b"])
    assert w1["e"]["rank_ub"] == w1["c"]["rank_ub"], (w1["e"], w1["c"])


def test_bootstrap_zero_gives_null_intervals(agon_bin):
    out, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0",
                          files=[GENAI])
    assert out["bootstrap"] == 0
    for m in out["models"]:
        assert m["ci_low"] is None and m["ci_high"] is None, m
        assert m["rank_ub"] is None, m
        assert isinstance(m["bt"], float) and math.isfinite(m["bt"])


def test_bootstrap_round_counts_rejected(agon_bin):
    for bad in ("-1", "x", "1000001"):
        r = run_agon(agon_bin, "ratings", "--bootstrap", bad, str(GENAI))
        assert r.returncode == 2, (bad, r)
        assert "--bootstrap" in r.stderr


# ---------------------------------------------------------------------------
# (d) Malformed input.

def test_malformed_json_lines_reported_with_index(agon_bin, tmp_path):
    lines = [
        json.dumps(battle("a", "b", "model_a", 1)),                     # 0 ok
        '{"model_a": "a", "model_b": "b", "winner": ',                   # 1 bad JSON
        json.dumps({"model_b": "b", "winner": "model_a", "tstamp": 2}),  # 2 no model_a
        json.dumps(battle("a", "b", "model_c", 3)),                     # 3 bad winner
        json.dumps(battle("a", "b", "both_bad", 4)),                    # 4 ok
        json.dumps(battle("b", "a", "tie (bothbad)", 5)),               # 5 ok
        json.dumps(battle("b", "c", "tie", 6)),                         # 6 ok
        json.dumps(battle("c", "a", "model_b", 7)),                     # 7 ok
        json.dumps(battle("c", "a", "model_a", "8")),                   # 8 tstamp a string
        "[1, 2]",                                                        # 9 not an object
    ]
    f = tmp_path / "some-bad.jsonl"
    f.write_text("\n".join(lines) + "\n")
    out, err = ratings_json(agon_bin, "--bootstrap", "0", files=[f])
    assert out["battles"] == 5, out
    assert out["malformed"] == 5, (out, err)
    for idx in (1, 2, 3, 8, 9):
        assert re.search(r"some-bad\.jsonl: record %d\b" % idx, err), (idx, err)
    for idx in (0, 4, 5, 6, 7):
        assert not re.search(r"record %d\b" % idx, err), (idx, err)
    assert "model_a" in err and "winner" in err
    m = by_model(out)
    # both_bad and "tie (bothbad)" are ties
    assert (m["a"]["wins"], m["a"]["losses"], m["a"]["ties"]) == (2, 0, 2)
    assert (m["b"]["wins"], m["b"]["losses"], m["b"]["ties"]) == (0, 1, 3)
    good = [json.loads(lines[i]) for i in (0, 4, 5, 6, 7)]
    want = fastchat_online_elo(good)
    for k, v in want.items():
        assert abs(m[k]["elo"] - v) < 1e-6


def test_malformed_records_in_array_skipped(agon_bin, tmp_path):
    recs = [battle("a", "b", "model_a", 1), {"model_a": "a", "winner": "tie"},
            battle("a", "b", "model_b", 2), battle("a", "b", "tie", 3, anony="yes")]
    f = tmp_path / "arr.json"
    f.write_text(json.dumps(recs, indent=1))
    out, err = ratings_json(agon_bin, "--bootstrap", "0", files=[f])
    assert out["battles"] == 2 and out["malformed"] == 2
    assert re.search(r"arr\.json: record 1\b.*model_b", err), err
    assert re.search(r"arr\.json: record 3\b.*anony", err), err


def test_unclosed_array_rejected_naming_the_file(agon_bin, tmp_path):
    recs = [battle("a", "b", "model_a", 1), battle("a", "b", "model_b", 2)]
    f = tmp_path / "cut-short.json"
    f.write_text(json.dumps(recs)[:-1])
    r = run_agon(agon_bin, "ratings", "--json", str(f))
    assert r.returncode != 0
    assert re.search(r"cut-short\.json: record 1\b.*']'", r.stderr), r.stderr
    assert r.stdout.strip() == ""
    f.write_text(json.dumps(recs)[:-1] + ",\n")
    r = run_agon(agon_bin, "ratings", "--json", str(f))
    assert r.returncode != 0
    assert "cut-short.json" in r.stderr and "not closed" in r.stderr, r.stderr
    # invalid JSON inside an array: the file is rejected, with the index
    f2 = tmp_path / "broken.json"
    f2.write_text('[%s, {"model_a": "a",, }]' % json.dumps(recs[0]))
    r = run_agon(agon_bin, "ratings", "--json", str(f2))
    assert r.returncode != 0
    assert re.search(r"broken\.json: record 1\b", r.stderr), r.stderr
    # a missing file is named too
    r = run_agon(agon_bin, "ratings", "--json", str(tmp_path / "nope.json"))
    assert r.returncode != 0 and "nope.json" in r.stderr


def test_several_files_and_stdin(agon_bin, tmp_path):
    recs = load_genai()
    half = len(recs) // 2
    f1 = write_jsonl(tmp_path / "one.jsonl", recs[half:])   # later half first
    f2 = tmp_path / "two.json"
    f2.write_text(json.dumps(recs[:half]))
    split, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0",
                            files=[f1, f2])
    whole, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0",
                            files=[GENAI])
    assert split["battles"] == whole["battles"]
    ms, mw = by_model(split), by_model(whole)
    for m in mw:
        assert abs(ms[m]["elo"] - mw[m]["elo"]) < 1e-6, m
        assert abs(ms[m]["bt"] - mw[m]["bt"]) < 1e-6, m
    r = subprocess.run([agon_bin, "ratings", "--json", "--anony-only",
                        "--bootstrap", "0", "-"], input=GENAI.read_text(),
                       capture_output=True, text=True, timeout=60)
    check_sanitizers(r.stderr)
    assert r.returncode == 0, r.stderr
    piped = strict_json(r.stdout)
    assert piped["models"] == whole["models"]


# ---------------------------------------------------------------------------
# (e) Degenerate data: only wins, only losses.

def test_only_wins_finite_json_and_table(agon_bin, tmp_path):
    recs, t = [], 0
    for opp in ("b", "c", "d"):
        for _ in range(4):
            t += 1
            recs.append(battle("champ", opp, "model_a", t))
    for a, b, w in [("b", "c", "model_a"), ("c", "d", "model_a"),
                    ("d", "b", "model_a"), ("b", "d", "tie"),
                    ("loser", "b", "model_b"), ("c", "loser", "model_a")]:
        t += 1
        recs.append(battle(a, b, w, t))
    f = write_jsonl(tmp_path / "wins.jsonl", recs)
    r = run_agon(agon_bin, "ratings", "--json", "--seed", "3",
                 "--bootstrap", "100", str(f))
    assert r.returncode == 0, r.stderr
    assert not re.search(r"nan|inf", r.stdout, re.I), r.stdout
    out = strict_json(r.stdout)
    m = by_model(out)
    for row in out["models"]:
        for key in ("elo", "bt", "ci_low", "ci_high"):
            assert isinstance(row[key], (int, float)) and math.isfinite(row[key]), row
        assert row["ci_low"] <= row["bt"] <= row["ci_high"], row
    assert out["models"][0]["model"] == "champ"
    assert m["champ"]["bt"] > max(m[x]["bt"] for x in "bcd")
    assert m["loser"]["bt"] < min(m[x]["bt"] for x in "bcd")
    assert abs(sum(x["bt"] for x in out["models"]) / len(m) - 1000) < 1e-4
    # the documented rule: core b, c, d by exact MLE, champ and loser
    # placed against it with the prior
    want, _, kinds_of = reference_bt(recs)
    assert list(kinds_of.values()) == ["core"]
    for k, v in want.items():
        assert abs(m[k]["bt"] - v) < 0.01, (k, m[k]["bt"], v)

    # the table, without --json
    r = run_agon(agon_bin, "ratings", "--seed", "3", "--bootstrap", "100", str(f))
    assert r.returncode == 0, r.stderr
    assert not re.search(r"\bnan\b|\binf\b", r.stdout, re.I), r.stdout
    lines = r.stdout.strip().splitlines()
    rows = [ln for ln in lines if re.match(r"^\s*\d+\s+\S+\s+-?\d+\.\d", ln)]
    assert len(rows) == 5, r.stdout
    assert rows[0].split()[1] == "champ"
    assert {ln.split()[1] for ln in rows} == {"champ", "b", "c", "d", "loser"}
    for ln in rows:
        nums = re.findall(r"-?\d+\.\d+", ln)
        assert nums and all(math.isfinite(float(x)) for x in nums), ln


def test_two_models_one_side_always_wins(agon_bin, tmp_path):
    recs = [battle("a", "b", "model_a", i) for i in range(10)]
    f = write_jsonl(tmp_path / "pair.jsonl", recs)
    out, _ = ratings_json(agon_bin, "--bootstrap", "50", "--seed", "1", files=[f])
    m = by_model(out)
    assert m["a"]["bt"] > 1000 > m["b"]["bt"]
    assert abs(m["a"]["bt"] + m["b"]["bt"] - 2000) < 1e-4
    want, _, _ = reference_bt(recs)
    assert abs(m["a"]["bt"] - want["a"]) < 0.01


def test_empty_input(agon_bin, tmp_path):
    f = tmp_path / "empty.json"
    f.write_text("[]")
    out, _ = ratings_json(agon_bin, "--bootstrap", "10", files=[f])
    assert out["battles"] == 0 and out["models"] == []
    f.write_text("")
    out, _ = ratings_json(agon_bin, "--bootstrap", "10", files=[f])
    assert out["battles"] == 0 and out["models"] == []


# ---------------------------------------------------------------------------
# (f) Import and export (commands from the lead; skipped until they exist).

def _need(agon_bin, r):
    if "unknown command" in (r.stdout + r.stderr):
        pytest.skip("agon has no '%s' command yet" % r.args[1])


def _parse_export(text):
    """FastChat format: a JSON array; also accept JSON lines."""
    s = text.strip()
    if s.startswith("["):
        return json.loads(s)
    return [json.loads(ln) for ln in s.splitlines() if ln.strip()]


def _key(rec):
    """What must survive a round trip; tstamp exactly (doubles round-trip)."""
    anony = rec["anony"]
    if isinstance(anony, str):  # CSV
        assert anony in ("true", "false"), anony
        anony = anony == "true"
    return (rec["model_a"], rec["model_b"], rec["winner"], anony,
            float(rec["tstamp"]))


def _imported(text):
    """The count of new battles from import's message, if it gives one."""
    m = re.search(r"imported (\d+)|(\d+) (?:new|added)", text)
    return None if not m else int(m.group(1) or m.group(2))


def test_import_export_round_trip(agon_bin, tmp_path):
    db = tmp_path / "arena.db"
    r = run_agon(agon_bin, "import", "--db", str(db), str(GENAI), timeout=120)
    _need(agon_bin, r)
    assert r.returncode == 0, r.stderr
    assert "record 1819" in r.stderr, "the same-model record is not reported:\n" + r.stderr
    n_first = _imported(r.stdout + r.stderr)
    assert n_first in (None, 2060), r.stdout + r.stderr

    r = run_agon(agon_bin, "recompute", "--db", str(db), timeout=120)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr)
    live = {m["model"]: m for m in json.loads(r.stdout)["models"]}

    r = run_agon(agon_bin, "export", "--db", str(db), "--format", "fastchat",
                 timeout=120)
    _need(agon_bin, r)
    assert r.returncode == 0, r.stderr
    exported = _parse_export(r.stdout)
    original = [rec for rec in load_genai() if rec["model_a"] != rec["model_b"]]
    assert collections.Counter(map(_key, exported)) == \
        collections.Counter(map(_key, original))
    for rec in exported:
        for fld in ("conversation_a", "conversation_b"):
            if fld in rec:
                assert isinstance(rec[fld], list)
                for msg in rec[fld]:
                    assert set(msg) >= {"role", "content"}, msg

    # re-import: nothing new
    r = run_agon(agon_bin, "import", "--db", str(db), str(GENAI), timeout=120)
    assert r.returncode == 0, r.stderr
    said = r.stdout + r.stderr
    assert _imported(said) in (None, 0), said
    r = run_agon(agon_bin, "export", "--db", str(db), "--format", "fastchat",
                 timeout=120)
    assert r.returncode == 0
    again = _parse_export(r.stdout)
    assert collections.Counter(map(_key, again)) == collections.Counter(map(_key, exported))

    # ratings from the export equal ratings from the original (anonymous only)
    f = tmp_path / "exported.json"
    f.write_text(json.dumps(exported))
    a, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0", files=[f])
    b, _ = ratings_json(agon_bin, "--anony-only", "--bootstrap", "0", files=[GENAI])
    assert a["battles"] == b["battles"]
    ma, mb = by_model(a), by_model(b)
    assert set(ma) == set(mb)
    for k in mb:
        assert abs(ma[k]["elo"] - mb[k]["elo"]) < 1e-6, k
        assert abs(ma[k]["bt"] - mb[k]["bt"]) < 1e-6, k
        for c in ("battles", "wins", "losses", "ties"):
            assert ma[k][c] == mb[k][c], (k, c)
    # the live ratings of the database are the offline anonymous-only ones
    for k in mb:
        assert k in live, k
        assert abs(live[k]["elo"] - mb[k]["elo"]) < 1e-6, (k, live[k], mb[k]["elo"])
        assert live[k]["battles"] == mb[k]["battles"], k


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_other_formats(agon_bin, tmp_path, fmt):
    db = tmp_path / "arena.db"
    r = run_agon(agon_bin, "import", "--db", str(db), str(GENAI), timeout=120)
    _need(agon_bin, r)
    assert r.returncode == 0, r.stderr
    r = run_agon(agon_bin, "export", "--db", str(db), "--format", fmt, timeout=120)
    _need(agon_bin, r)
    assert r.returncode == 0, r.stderr
    n = sum(1 for rec in load_genai() if rec["model_a"] != rec["model_b"])
    if fmt == "jsonl":
        recs = [json.loads(ln) for ln in r.stdout.splitlines() if ln.strip()]
        assert len(recs) == n
        assert collections.Counter(map(_key, recs)) == collections.Counter(
            map(_key, [x for x in load_genai() if x["model_a"] != x["model_b"]]))
    else:
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        assert len(rows) == n
        assert {"model_a", "model_b", "winner", "anony", "tstamp"} <= set(rows[0])
        assert collections.Counter(map(_key, rows)) == collections.Counter(
            map(_key, [x for x in load_genai() if x["model_a"] != x["model_b"]]))
    r = run_agon(agon_bin, "export", "--db", str(db), "--format", "xml")
    assert r.returncode != 0
