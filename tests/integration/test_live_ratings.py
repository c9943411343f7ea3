"""Live ratings (issue 3), through HTTP and the command line only.

- GET /api/leaderboard: Bradley-Terry (bt, ci_low, ci_high, rank_ub) next to the
  online Elo, fitted in the background after votes; ?sort=bt; provisional models.
- GET /api/leaderboard/matrix: battle counts, observed and predicted win rates.
- The identity-leak guard: votes on battles whose text names a model are stored
  but not counted.
- agon export / import / recompute after live votes.
- The BT fit after a restart.

The echo fake answers "[TAG] turn N (M messages): you said: PROMPT", where TAG
is a hash of the upstream model id: the test knows which model is on which side
before it votes, so it can cast votes with known outcomes, and the prompt
controls the answer text.
"""

import csv
import io
import json
import math
import re
import threading
import time
from pathlib import Path

import pytest

import fake_backend
from conftest import Model, assert_error, expected_ratings

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
JUDGE_RE = re.compile(r"^arena_user_[0-9a-f]{16}$")
ROW_KEYS = {"rank", "model", "elo", "bt", "ci_low", "ci_high", "rank_ub", "battles",
            "wins", "losses", "ties", "provisional"}
TOP_KEYS = {"votes", "updated_at", "bt_updated_at", "sort", "min_battles",
            "bootstrap_rounds", "models", "provisional"}
BT_SCALE = 400.0 / math.log(10.0)
FASTCHAT_WINNER = {"a": "model_a", "b": "model_b", "tie": "tie", "bothbad": "tie (bothbad)"}


# ---------------------------------------------------------------------------
# Arena set-up.

def start_arena(agon_factory, models, ratings=None, sub=None, start=True, **cfg):
    """agon_factory with extra [ratings] keys (bootstrap_rounds, ...)."""
    a = agon_factory(models, sub=sub, start=False, **cfg)
    if ratings:
        p = Path(a.config)
        text = p.read_text()
        extra = "".join("%s = %s\n" % kv for kv in ratings.items())
        assert "[ratings]\n" in text
        p.write_text(text.replace("[ratings]\n", "[ratings]\n" + extra, 1))
    if start:
        a.start()
    return a


def model_of_answer(agon, text):
    for m in agon.models:
        if text.startswith(fake_backend.answer_tag(m.upstream or m.name) + " "):
            return m.name
    raise AssertionError("answer %r is from none of the configured models" % text[:80])


class Vote:
    def __init__(self, bid, a, b, winner, counted, es, resp):
        self.bid, self.a, self.b, self.winner = bid, a, b, winner
        self.counted, self.es, self.resp = counted, es, resp

    def triple(self):
        return (self.a, self.b, self.winner)


def play(c, agon, prompt, decide=None, winner=None, expect_counted=None):
    """One battle to the end, then a vote. decide(model_a, model_b) returns the
    winner ("a", "b", "tie", "bothbad") or None to leave the battle unvoted."""
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, (es.end, es.raw[-300:])
    sides = {s: model_of_answer(agon, es.text(s)) for s in ("a", "b")}
    w = winner if decide is None else decide(sides["a"], sides["b"])
    if w is None:
        return None
    r = c.post("/api/battles/%s/vote" % bid, {"winner": w})
    assert r.status == 200, r
    v = r.json()
    assert v["winner"] == w and v["models"] == sides, (v, sides)
    assert isinstance(v.get("counted"), bool), v
    if expect_counted is not None:
        assert v["counted"] is expect_counted, (prompt, v)
    return Vote(bid, sides["a"], sides["b"], w, v["counted"], es, v)


def outcome_for(who_wins):
    """decide() from a model-level outcome: the model that wins, or "tie"/"bothbad"."""
    def decide(a, b):
        if who_wins in ("tie", "bothbad"):
            return who_wins
        assert who_wins in (a, b), (who_wins, a, b)
        return "a" if who_wins == a else "b"
    return decide


class PairScript:
    """Per-pair cycles of outcomes: script[(x, y)] = ["x", "y", "tie", ...] where
    "x" means the pair's first model wins. Pairs not in the script: not voted."""

    def __init__(self, script):
        self.script = {tuple(k): list(v) for k, v in script.items()}
        self.used = {k: 0 for k in self.script}

    def key(self, a, b):
        if (a, b) in self.script:
            return (a, b)
        if (b, a) in self.script:
            return (b, a)
        return None

    def __call__(self, a, b):
        k = self.key(a, b)
        if k is None:
            return None
        cyc = self.script[k]
        o = cyc[self.used[k] % len(cyc)]
        self.used[k] += 1
        return outcome_for({"x": k[0], "y": k[1]}.get(o, o))(a, b)

    def done(self, at_least):
        return all(n >= at_least for n in self.used.values())


def play_script(c, agon, script, at_least, prefix="q", max_battles=200):
    votes = []
    i = 0
    while not script.done(at_least):
        assert i < max_battles, "pairing never produced the pairs needed: %r" % script.used
        v = play(c, agon, "%s %d: name a colour" % (prefix, i), script, expect_counted=True)
        i += 1
        if v is not None:
            votes.append(v)
    return votes


# ---------------------------------------------------------------------------
# An independent Bradley-Terry MLE (Newton), on the Elo scale.

def tallies(triples):
    """{(x, y): x's wins + half the ties against y} over counted votes."""
    w = {}
    for a, b, win in triples:
        sa = {"a": 1.0, "b": 0.0, "tie": 0.5, "bothbad": 0.5}[win]
        w[(a, b)] = w.get((a, b), 0.0) + sa
        w[(b, a)] = w.get((b, a), 0.0) + 1.0 - sa
    return w


def solve(A, y):
    n = len(y)
    M = [row[:] + [y[i]] for i, row in enumerate(A)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(M[r][col]))
        M[col], M[piv] = M[piv], M[col]
        for r in range(n):
            if r != col:
                f = M[r][col] / M[col][col]
                for cc in range(col, n + 1):
                    M[r][cc] -= f * M[col][cc]
    return [M[i][n] / M[i][i] for i in range(n)]


def bt_mle(triples):
    """Exact BT MLE of one connected group whose MLE exists, centred at a mean
    rating of 1000: {model: rating}."""
    w = tallies(triples)
    names = sorted({x for x, _ in w})
    idx = {m: i for i, m in enumerate(names)}
    n = len(names)
    theta = [0.0] * n
    for _ in range(200):
        # gradient and (negated) Hessian, each unordered pair once
        g = [0.0] * n
        H = [[0.0] * n for _ in range(n)]
        for (x, y), wxy in w.items():
            if x > y:
                continue
            i, j = idx[x], idx[y]
            nij = wxy + w[(y, x)]
            p = 1.0 / (1.0 + math.exp(theta[j] - theta[i]))
            g[i] += wxy - nij * p
            g[j] -= wxy - nij * p
            h = nij * p * (1.0 - p)
            H[i][i] += h
            H[j][j] += h
            H[i][j] -= h
            H[j][i] -= h
        # theta[0] is fixed at 0 (gauge); Newton on the others
        free = list(range(1, n))
        step = solve([[H[r][cc] for cc in free] for r in free], [g[r] for r in free])
        for k, r in enumerate(free):
            theta[r] += step[k]
        if max([abs(s) for s in step] + [0.0]) < 1e-13:
            break
    mean = sum(theta) / n
    return {m: 1000.0 + BT_SCALE * (theta[idx[m]] - mean) for m in names}


def mle_exists(triples):
    """Whether the BT MLE of these battles exists: the graph with an edge x->y
    when x scored anything against y (a tie scores for both) is strongly
    connected."""
    w = tallies(triples)
    names = sorted({x for x, _ in w})
    if not names:
        return False

    def reach(start, forward):
        seen, todo = {start}, [start]
        while todo:
            x = todo.pop()
            for (p, q), wpq in w.items():
                a, b = (p, q) if forward else (q, p)
                if a == x and wpq > 0 and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return seen

    return reach(names[0], True) == set(names) == reach(names[0], False)


def bt_after_last_vote(lb):
    """The fit shown was made after the last vote (for battles whose MLE does
    not exist, where bt_mle has nothing to compare with)."""
    return (lb["bt_updated_at"] is not None and lb["updated_at"] is not None
            and lb["bt_updated_at"] >= lb["updated_at"])


def predicted(ri, rj):
    return 1.0 / (1.0 + 10.0 ** ((rj - ri) / 400.0))


# ---------------------------------------------------------------------------
# Leaderboard helpers.

def leaderboard(c, query=""):
    r = c.get("/api/leaderboard" + query)
    assert r.status == 200, r
    return r.json()


def rows_of(lb):
    return {m["model"]: m for m in lb["models"] + lb["provisional"]}


def wait_lb(c, pred, timeout=10.0, what="the leaderboard"):
    """Poll the leaderboard until pred(lb) holds (the BT fit runs in the
    background, debounced): returns it, or fails showing the last one."""
    deadline = time.monotonic() + timeout
    while True:
        lb = leaderboard(c)
        if pred(lb):
            return lb
        if time.monotonic() > deadline:
            raise AssertionError("%s did not reach the expected state within %ss:\n%s"
                                 % (what, timeout, json.dumps(lb, indent=1)[:4000]))
        time.sleep(0.05)


def bt_is(expected, votes=None, tol=0.01):
    """The fit matches expected; with votes, it is also the fit of exactly
    that many votes (bt_votes): a tie between two equal models does not move
    the points, only the intervals, so the points alone can match a fit made
    before the last vote."""
    def pred(lb):
        if votes is not None and lb.get("bt_votes") != votes:
            return False
        rows = rows_of(lb)
        return all(rows[m]["bt"] is not None and abs(rows[m]["bt"] - e) < tol
                   for m, e in expected.items())
    return pred


def check_shape(lb, agon, min_battles, rounds):
    assert TOP_KEYS <= set(lb), sorted(lb)
    assert lb["min_battles"] == min_battles and lb["bootstrap_rounds"] == rounds, lb
    assert lb["sort"] in ("elo", "bt")
    assert lb["updated_at"] is None or RFC3339.match(lb["updated_at"]), lb["updated_at"]
    assert lb["bt_updated_at"] is None or RFC3339.match(lb["bt_updated_at"]), lb
    names = [m["model"] for m in lb["models"]] + [m["model"] for m in lb["provisional"]]
    assert sorted(names) == sorted(m.name for m in agon.models if m.enabled), names
    for group, prov in ((lb["models"], False), (lb["provisional"], True)):
        for row in group:
            assert ROW_KEYS <= set(row), row
            assert row["provisional"] is prov, row
            assert (row["battles"] < min_battles) is prov, (row, min_battles)
            assert row["battles"] == row["wins"] + row["losses"] + row["ties"], row
            if row["battles"] == 0:
                assert [row[k] for k in ("bt", "ci_low", "ci_high", "rank_ub")] == \
                    [None] * 4, row
        ranks = [row["rank"] for row in group]
        assert ranks == sorted(ranks) and (not ranks or ranks[0] == 1), ranks
    assert lb["votes"] == sum(r["battles"] for r in rows_of(lb).values()) // 2


def check_intervals(lb, groups=None):
    """ci_low <= bt <= ci_high (all finite), and rank_ub = 1 + the number of
    models of the same group whose ci_low is above this model's ci_high."""
    rows = rows_of(lb)
    rated = [r for r in rows.values() if r["battles"] > 0]
    group_of = {}
    for gi, g in enumerate(groups or [[r["model"] for r in rated]]):
        for m in g:
            group_of[m] = gi
    for r in rated:
        for k in ("bt", "ci_low", "ci_high"):
            assert isinstance(r[k], (int, float)) and math.isfinite(r[k]), r
        assert r["ci_low"] <= r["bt"] + 1e-9 and r["bt"] <= r["ci_high"] + 1e-9, r
        above = sum(1 for o in rated if o is not r and group_of[o["model"]] ==
                    group_of[r["model"]] and o["ci_low"] > r["ci_high"])
        assert r["rank_ub"] == 1 + above, (r, rated)


def strip_bt(lb):
    """The leaderboard rows without the BT fields (fitted in the background)."""
    return [[{k: v for k, v in r.items() if k not in ("bt", "ci_low", "ci_high", "rank_ub")}
             for r in lb[g]] for g in ("models", "provisional")]


def elo_map(lb):
    return {m: r["elo"] for m, r in rows_of(lb).items()}


def three_models():
    return [Model("Kestrel-1", "echo-kestrel"), Model("Heron-2", "echo-heron"),
            Model("Plover-3", "echo-plover")]


# ---------------------------------------------------------------------------
# Leaderboard and matrix.

def test_leaderboard_shape_before_any_vote(agon_factory):
    agon = start_arena(agon_factory, three_models(),
                       ratings={"bootstrap_rounds": 77, "min_battles": 0})
    c = agon.client()
    lb = leaderboard(c)
    check_shape(lb, agon, 0, 77)
    assert lb["votes"] == 0 and lb["sort"] == "elo" and lb["provisional"] == []
    for row in lb["models"]:
        assert row["elo"] == 1000 and row["bt"] is None and row["rank_ub"] is None
    m = c.get("/api/leaderboard/matrix")
    assert m.status == 200, m
    j = m.json()
    n = len(agon.models)
    assert sorted(j["models"]) == sorted(x.name for x in agon.models)
    assert j["battles"] == [[0] * n for _ in range(n)]
    assert j["win_fraction"] == [[None] * n for _ in range(n)]
    assert j["predicted"] == [[None] * n for _ in range(n)]


def test_bt_equals_mle_three_models(agon_factory):
    """Known outcomes among three models: BT equals an independently computed
    MLE, the intervals hold it, rank (UB) follows from the intervals, and the
    Elo, the counts, ?sort=bt and the matrix agree with the votes cast."""
    models = three_models()
    agon = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 200})
    c = agon.client()
    before = leaderboard(c)
    K, H, P = (m.name for m in models)
    script = PairScript({
        (K, H): ["x", "x", "tie", "y", "x"],
        (K, P): ["x", "x", "x", "bothbad", "y", "x"],
        (H, P): ["x", "tie", "y", "x", "x"],
    })
    votes = play_script(c, agon, script, at_least=4)
    triples = [v.triple() for v in votes]
    exp_bt = bt_mle(triples)
    assert set(exp_bt) == {K, H, P}

    lb = wait_lb(c, bt_is(exp_bt, len(votes)), what="BT after %d votes" % len(votes))
    check_shape(lb, agon, 0, 200)
    check_intervals(lb)
    rows = rows_of(lb)
    for m, e in exp_bt.items():
        assert rows[m]["bt"] == pytest.approx(e, abs=0.01), (m, rows[m], exp_bt)
    assert sum(r["bt"] for r in rows.values()) / 3 == pytest.approx(1000.0, abs=0.01)
    assert lb["bt_updated_at"] is not None
    assert before["bt_updated_at"] is None or lb["bt_updated_at"] >= before["bt_updated_at"]
    # Elo and counts as cast.
    exp_elo = expected_ratings(triples, k=4, models=[m.name for m in models])
    assert elo_map(lb) == {m: pytest.approx(e, abs=1e-9) for m, e in exp_elo.items()}
    assert lb["votes"] == len(votes)
    for m in exp_bt:
        wins = sum(1 for a, b, w in triples if (w == "a" and a == m) or (w == "b" and b == m))
        losses = sum(1 for a, b, w in triples if (w == "b" and a == m) or (w == "a" and b == m))
        ties = sum(1 for a, b, w in triples if w in ("tie", "bothbad") and m in (a, b))
        assert (rows[m]["wins"], rows[m]["losses"], rows[m]["ties"], rows[m]["battles"]) \
            == (wins, losses, ties, wins + losses + ties), rows[m]

    # Sorting.
    by_elo = lb["models"]
    assert [r["elo"] for r in by_elo] == sorted((r["elo"] for r in by_elo), reverse=True)
    lbb = leaderboard(c, "?sort=bt")
    assert lbb["sort"] == "bt"
    bts = [r["bt"] for r in lbb["models"]]
    assert bts == sorted(bts, reverse=True), lbb["models"]
    assert [r["rank"] for r in lbb["models"]] == [1, 2, 3] or len(set(bts)) < 3
    assert {r["model"]: r["bt"] for r in lbb["models"]} == \
        {m: r["bt"] for m, r in rows.items()}
    assert leaderboard(c, "?sort=elo")["models"] == by_elo
    for bad in ("bogus", "bt,elo"):
        assert_error(c.get("/api/leaderboard?sort=" + bad), 400)

    # The matrices.
    r = c.get("/api/leaderboard/matrix")
    assert r.status == 200, r
    mx = r.json()
    assert {"models", "battles", "win_fraction", "predicted"} <= set(mx), mx
    assert isinstance(mx.get("bt_fit"), int) and mx["bt_fit"] >= 1, mx
    names = mx["models"]
    assert sorted(names) == sorted([K, H, P])
    n = len(names)
    tw = tallies(triples)
    for i, x in enumerate(names):
        for j, y in enumerate(names):
            games = sum(1 for a, b, _ in triples if {a, b} == {x, y}) if i != j else 0
            assert mx["battles"][i][j] == games, (x, y, mx["battles"])
            if i == j or games == 0:
                assert mx["win_fraction"][i][j] is None, (x, y, mx)
            else:
                assert mx["win_fraction"][i][j] == pytest.approx(tw[(x, y)] / games, abs=1e-12)
            if i == j:
                assert mx["predicted"][i][j] is None
            else:
                assert mx["predicted"][i][j] == pytest.approx(
                    predicted(rows[x]["bt"], rows[y]["bt"]), abs=1e-9), (x, y)
                assert mx["predicted"][i][j] + mx["predicted"][j][i] == \
                    pytest.approx(1.0, abs=1e-12)
    assert all(len(row) == n for k in ("battles", "win_fraction", "predicted") for row in mx[k])


def test_bt_catches_up_with_a_burst_of_concurrent_votes(agon_factory):
    """Votes cast at once (the fit is debounced): the last fit includes them all."""
    models = three_models()
    agon = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 100})
    c = agon.client()
    ready = []
    for i in range(15):
        bid, es = c.battle("burst %d" % i)
        assert es.end["status"] == "ready"
        ready.append((bid, {s: model_of_answer(agon, es.text(s)) for s in ("a", "b")}))
    winners = ["a", "b", "tie", "a", "bothbad"]
    results = [None] * len(ready)

    def vote(i):
        bid, sides = ready[i]
        r = c.post("/api/battles/%s/vote" % bid, {"winner": winners[i % len(winners)]})
        results[i] = (r.status, r.json())

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(len(ready))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    triples = []
    for (bid, sides), (status, body) in zip(ready, results):
        assert status == 200 and body["counted"] is True and body["models"] == sides, body
        triples.append((sides["a"], sides["b"], body["winner"]))
    names = {x for t in triples for x in t[:2]}
    lb = wait_lb(c, lambda lb: lb["votes"] == len(triples))
    # the pairs are the server's random choice: compare with the MLE where it
    # exists, else only wait for a fit made after the last vote
    exp = bt_mle(triples) if len(names) == 3 and mle_exists(triples) else None
    if exp is not None:
        lb = wait_lb(c, bt_is(exp, len(triples)), what="BT after a burst of %d votes" % len(triples))
        check_intervals(lb)
    else:
        wait_lb(c, bt_after_last_vote, what="a fit after the burst")
    mx = c.get("/api/leaderboard/matrix").json()
    assert sum(map(sum, mx["battles"])) == 2 * len(triples)


def test_two_models_closed_form_and_provisional(agon_factory):
    """Two models: the MLE difference is (400/ln 10) ln(W_a / W_b). Before it
    exists (only wins) the ratings stay finite; below min_battles both models
    are provisional."""
    models = [Model("Nimbus-Delta-7B", "echo-nimbus-up-31"),
              Model("Cobalt-Quill-13B", "echo-cobalt-up-77")]
    N, Co = models[0].name, models[1].name
    agon = start_arena(agon_factory, models,
                       ratings={"bootstrap_rounds": 100, "min_battles": 3})
    c = agon.client()
    lb = leaderboard(c)
    check_shape(lb, agon, 3, 100)
    assert lb["models"] == [] and len(lb["provisional"]) == 2

    votes = [play(c, agon, "first question", outcome_for(N), expect_counted=True)]
    # Only wins for N: no MLE, but finite ratings with N ahead.
    lb = wait_lb(c, lambda lb: all(r["bt"] is not None for r in rows_of(lb).values()),
                 what="the first BT fit")
    check_shape(lb, agon, 3, 100)
    assert lb["models"] == [] and [r["provisional"] for r in lb["provisional"]] == [True] * 2
    rows = rows_of(lb)
    for r in rows.values():
        for k in ("bt", "ci_low", "ci_high"):
            assert math.isfinite(r[k]), r
    assert rows[N]["bt"] > rows[Co]["bt"]
    assert (rows[N]["bt"] + rows[Co]["bt"]) / 2 == pytest.approx(1000.0, abs=0.01)
    check_intervals(lb)

    for i, who in enumerate([Co, "tie", N, "bothbad", N]):
        votes.append(play(c, agon, "question %d" % i, outcome_for(who), expect_counted=True))
    wn = 3 + 0.5 + 0.5   # N: 3 wins, a tie, a both-bad
    wc = 1 + 0.5 + 0.5
    diff = BT_SCALE * math.log(wn / wc)
    exp = {N: 1000.0 + diff / 2, Co: 1000.0 - diff / 2}
    assert bt_mle([v.triple() for v in votes]) == {k: pytest.approx(v, abs=1e-9)
                                                   for k, v in exp.items()}
    lb = wait_lb(c, bt_is(exp, len(votes)), what="BT after 6 votes")
    check_shape(lb, agon, 3, 100)
    assert lb["provisional"] == [] and [r["model"] for r in lb["models"]] == [N, Co]
    check_intervals(lb)
    rows = rows_of(lb)
    assert rows[N]["battles"] == rows[Co]["battles"] == 6
    # Provisional rows are sorted and ranked on their own; with sort=bt too.
    assert [r["model"] for r in leaderboard(c, "?sort=bt")["models"]] == [N, Co]


def test_matrix_groups_that_never_met(agon_factory):
    """Two groups that never met and a model without battles: predictions
    only within a group, each group centred at 1000, rank (UB) per group, null
    BT for the model without battles."""
    models = [Model("Alder", "echo-alder"), Model("Birch", "echo-birch"),
              Model("Cedar", "echo-cedar"), Model("Dogwood", "echo-dogwood"),
              Model("Elm", "echo-elm")]
    A, B, C, D, E = (m.name for m in models)
    agon = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 100})
    c = agon.client()
    script = PairScript({(A, B): ["x", "x", "y", "tie"], (C, D): ["y", "x", "y", "y"]})
    votes = play_script(c, agon, script, at_least=4, max_battles=300)
    triples = [v.triple() for v in votes]
    g1 = bt_mle([t for t in triples if A in t[:2]])
    g2 = bt_mle([t for t in triples if C in t[:2]])
    exp = dict(g1, **g2)
    lb = wait_lb(c, bt_is(exp, len(triples)), what="BT of two groups")
    check_shape(lb, agon, 0, 100)
    check_intervals(lb, groups=[[A, B], [C, D]])
    rows = rows_of(lb)
    assert (rows[A]["bt"] + rows[B]["bt"]) / 2 == pytest.approx(1000.0, abs=0.01)
    assert (rows[C]["bt"] + rows[D]["bt"]) / 2 == pytest.approx(1000.0, abs=0.01)
    assert rows[E]["battles"] == 0
    assert [rows[E][k] for k in ("bt", "ci_low", "ci_high", "rank_ub")] == [None] * 4
    assert rows[E]["elo"] == 1000
    # With sort=bt a model without a rating comes last.
    assert leaderboard(c, "?sort=bt")["models"][-1]["model"] == E

    mx = c.get("/api/leaderboard/matrix").json()
    names = mx["models"]
    group = {A: 1, B: 1, C: 2, D: 2, E: None}
    tw = tallies(triples)
    for i, x in enumerate(names):
        for j, y in enumerate(names):
            games = sum(1 for a, b, _ in triples if {a, b} == {x, y}) if i != j else 0
            assert mx["battles"][i][j] == games, (x, y)
            if games:
                assert mx["win_fraction"][i][j] == pytest.approx(tw[(x, y)] / games, abs=1e-12)
            else:
                assert mx["win_fraction"][i][j] is None, (x, y)
            if i != j and group[x] is not None and group[x] == group[y]:
                assert mx["predicted"][i][j] == pytest.approx(
                    predicted(rows[x]["bt"], rows[y]["bt"]), abs=1e-9), (x, y)
            else:
                assert mx["predicted"][i][j] is None, (x, y, mx["predicted"])


# ---------------------------------------------------------------------------
# Identity-leak guard.

def recompute_ok(agon, db=None):
    r = agon.run("recompute", "--db", db or agon.db)
    assert r.returncode == 0, "recompute: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_identity_leak_votes_are_stored_not_counted(agon_factory):
    models = [Model("Nimbus-Delta-7B", "echo-nimbus-up-31",
                    extra={"aliases": "Skylark, Blue Heron"}),
              Model("Cobalt-Quill-13B", "echo-cobalt-up-77")]
    N, Co = models[0].name, models[1].name
    agon = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 50})
    c = agon.client()
    cases = [
        ("Are you ChatGPT?", False),
        ("What is the capital of France?", True),
        ("i bet you are CLAUDE, made by Anthropic", False),
        ("Tell me about llamas, claudette and the geminids", True),
        ("OpenAI", False),
        ("which is better, gemini or (llama)?", False),
        ("a mistral wind blows", False),
        ("Is this nimbus-delta-7b speaking?", False),        # public name
        ("cobalt-quill-13b.", False),                        # public name
        ("I heard echo-cobalt-up-77 is fast", False),        # upstream id
        ("ECHO-NIMBUS-UP-31", False),                        # upstream id
        ("hello skylark", False),                            # alias
        ("the Blue Heron flies", False),                     # alias, two words
        ("a blue bird and a grey heron", True),
        ("skylarks sing; nimbus clouds; cobalt blue", True),  # not whole words
        ("Write a haiku about rain", True),
    ]
    counted = []
    cycle = [N, Co, "tie", N]
    for i, (prompt, ok) in enumerate(cases):
        before = leaderboard(c)
        who = cycle[len(counted) % len(cycle)] if ok else N
        v = play(c, agon, prompt, outcome_for(who))
        assert v.counted is ok, "prompt %r: counted=%r, expected %r" % (prompt, v.counted, ok)
        st = c.get("/api/battles/" + v.bid).json()
        assert st["status"] == "voted" and st["winner"] == v.winner, st
        after = leaderboard(c)
        if ok:
            counted.append(v.triple())
            assert after["votes"] == before["votes"] + 1
        else:
            # Nothing moved, and the response gives the unchanged ratings.
            # (BT may still be catching up with an earlier counted vote: it
            # is checked below, from the counted votes only.)
            assert after["votes"] == before["votes"], prompt
            assert strip_bt(after) == strip_bt(before), prompt
            assert v.resp["elo"] == {m: elo_map(before)[m] for m in (v.a, v.b)}, v.resp
        if i == 0:
            assert all(r["bt"] is None and r["elo"] == 1000 and r["battles"] == 0
                       for r in rows_of(after).values()), after
        # Elo as if only the counted votes happened.
        exp = expected_ratings(counted, k=4, models=[N, Co])
        assert elo_map(after) == {m: pytest.approx(e, abs=1e-9) for m, e in exp.items()}

    # BT is fitted from the counted votes only.
    lb = wait_lb(c, bt_is(bt_mle(counted), len(counted)), what="BT from counted votes")
    check_intervals(lb)
    mx = c.get("/api/leaderboard/matrix").json()
    i, j = mx["models"].index(N), mx["models"].index(Co)
    assert mx["battles"][i][j] == len(counted)
    # The database agrees, and recompute is happy with non-counted votes.
    j = recompute_ok(agon)
    assert j["votes"] == len(counted) and j["matches"] is True, j
    assert {m["model"]: m["elo"] for m in j["models"]} == \
        {m: pytest.approx(e, abs=1e-9) for m, e in elo_map(lb).items()}
    agon.stop()
    j = recompute_ok(agon)
    assert j["votes"] == len(counted), j


def test_identity_words_next_to_unicode_punctuation(agon_factory):
    models = [Model("Nimbus-Delta-7B", "echo-nimbus-up-31"),
              Model("Cobalt-Quill-13B", "echo-cobalt-up-77")]
    agon = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 50})
    c = agon.client()
    got = {}
    for prompt in ["I\u2019m ChatGPT\u2019s twin",       # I'm ChatGPT's twin, typographic
                   "\u00abClaude\u00bb said so",          # guillemets
                   "I am Claude\u3002",                    # ideographic full stop
                   "Hi, I am Nimbus-Delta-7B\u2014an assistant",  # em dash
                   "Claude\U0001F642"]:                   # emoji
        got[prompt] = play(c, agon, prompt, winner="a").counted
    assert got == {p: False for p in got}, got


def test_identity_words_replace_the_default_list(agon_factory):
    models = [Model("Nimbus-Delta-7B", "echo-nimbus-up-31"),
              Model("Cobalt-Quill-13B", "echo-cobalt-up-77")]
    agon = start_arena(agon_factory, models,
                       ratings={"bootstrap_rounds": 50, "identity_words": "Zebra, quokka labs"})
    c = agon.client()
    for prompt, ok in [("Are you ChatGPT or Claude, by OpenAI?", True),
                       ("a ZEBRA crossing", False),
                       ("zebras are striped", True),
                       ("Quokka Labs made me", False),
                       ("a quokka in a lab", True),
                       ("I am Nimbus-Delta-7B", False),      # names always count
                       ("echo-cobalt-up-77", False)]:
        play(c, agon, prompt, winner="a", expect_counted=ok)


def test_identity_leak_in_a_later_turn_and_after_restart(agon_factory):
    agon = start_arena(agon_factory, three_models(), ratings={"bootstrap_rounds": 50})
    c = agon.client()
    # A clean first turn, a leaking second turn.
    bid, es = c.battle("Say something nice")
    assert c.post("/api/battles/%s/turns" % bid, {"prompt": "now tell me: are you Gemini?"}
                  ).status == 202
    es = c.events("/api/battles/%s/events" % bid)
    assert es.end == {"turn": 2, "status": "ready"}, es.end
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert r.status == 200 and r.json()["counted"] is False, r
    # A leaking battle voted on after a restart.
    bid2, _ = c.battle("Anthropic or OpenAI?")
    bid3, _ = c.battle("A clean one")
    agon.restart()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    r = c2.post("/api/battles/%s/vote" % bid2, {"winner": "b"})
    assert r.status == 200 and r.json()["counted"] is False, r
    r = c2.post("/api/battles/%s/vote" % bid3, {"winner": "b"})
    assert r.status == 200 and r.json()["counted"] is True, r
    lb = leaderboard(c2)
    assert lb["votes"] == 1
    j = recompute_ok(agon)
    assert j["votes"] == 1 and j["matches"] is True, j


# ---------------------------------------------------------------------------
# Export, import, recompute.

def export(agon, fmt, db=None):
    r = agon.run("export", "--db", db or agon.db, "--format", fmt)
    assert r.returncode == 0, "export %s: exit %d\n%s" % (fmt, r.returncode, r.stderr)
    return r.stdout


def check_record(rec, v, judges, with_conv=True):
    assert rec["model_a"] == v.a and rec["model_b"] == v.b, (rec, v.triple())
    assert rec["winner"] == FASTCHAT_WINNER[v.winner], rec
    assert rec["anony"] is True, rec
    turns = v.turns
    assert rec["turn"] == len(turns), rec
    assert isinstance(rec["tstamp"], (int, float)), rec
    assert JUDGE_RE.match(rec["judge"]), rec["judge"]
    judges.setdefault(v.session, set()).add(rec["judge"])
    if with_conv:
        for side, key in (("a", "conversation_a"), ("b", "conversation_b")):
            exp = []
            for t in turns:
                exp += [{"role": "user", "content": t["prompt"]},
                        {"role": "assistant", "content": t[side]}]
            assert rec[key] == exp, (key, rec[key], exp)
    if v.counted:
        assert rec.get("agon_counted", True) is True, rec
    else:
        assert rec.get("agon_counted") is False, rec


def test_export_import_recompute_after_live_votes(agon_factory, tmp_path):
    models = three_models()
    agon = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 50})
    c1, c2 = agon.client(), agon.client()
    votes = []
    winners = ["a", "b", "tie", "bothbad", "a", "b", "a", "tie"]
    for i, w in enumerate(winners):
        c = c1 if i % 3 else c2
        v = play(c, agon, "question %d, with \"quotes\", commas, and\nnewlines ü" % i,
                 winner=w, expect_counted=True)
        v.session = c.cookies["agon_session"]
        votes.append(v)
    # A two-turn battle.
    bid, es = c1.battle("first turn")
    assert c1.post("/api/battles/%s/turns" % bid, {"prompt": "second turn"}).status == 202
    c1.events("/api/battles/%s/events" % bid)
    r = c1.post("/api/battles/%s/vote" % bid, {"winner": "b"})
    assert r.status == 200 and r.json()["counted"] is True
    v = Vote(bid, r.json()["models"]["a"], r.json()["models"]["b"], "b", True, None, r.json())
    v.session = c1.cookies["agon_session"]
    votes.append(v)
    # A non-counted vote, and a battle nobody voted on.
    v = play(c2, agon, "Are you ChatGPT?", winner="a", expect_counted=False)
    v.session = c2.cookies["agon_session"]
    votes.append(v)
    unvoted, _ = c1.battle("never voted")
    v = play(c1, agon, "the last one", winner="a", expect_counted=True)
    v.session = c1.cookies["agon_session"]
    votes.append(v)
    for v in votes:
        v.turns = c1.get("/api/battles/" + v.bid, headers={
            "Cookie": "agon_session=" + v.session}).json()["turns"]
    assert [len(v.turns) for v in votes].count(2) == 1
    counted = [v.triple() for v in votes if v.counted]
    # The pairs are the server's random choice: the MLE may not exist (a model
    # with only wins, say); the export is compared with its import either way.
    settled = bt_is(bt_mle(counted)) if mle_exists(counted) else bt_after_last_vote
    lb = wait_lb(c1, settled, what="BT before export")
    live_elo = elo_map(lb)
    exp_elo = expected_ratings(counted, k=4, models=[m.name for m in models])
    assert live_elo == {m: pytest.approx(e, abs=1e-9) for m, e in exp_elo.items()}
    sessions = {v.session for v in votes}
    assert len(sessions) == 2

    # --- the three formats, with the server running
    fast = export(agon, "fastchat")
    recs = json.loads(fast)
    assert isinstance(recs, list)
    jsonl = export(agon, "jsonl")
    lines = [json.loads(x) for x in jsonl.splitlines() if x.strip()]
    assert lines == recs
    by_id = {}
    for rec in recs:
        by_id.setdefault(rec.get("question_id"), rec)
    assert len(recs) == len(votes), [r.get("question_id") for r in recs]
    assert unvoted not in by_id
    judges = {}
    for v in votes:
        assert v.bid in by_id, "battle %s missing from the export" % v.bid
        check_record(by_id[v.bid], v, judges)
    # One pseudonym per session, different sessions differ; never the cookie.
    assert all(len(j) == 1 for j in judges.values()), judges
    assert len({next(iter(j)) for j in judges.values()}) == 2, judges
    for s in sessions:
        for text in (fast, jsonl):
            assert s not in text, "the export contains a raw session cookie value"
    # Exported in vote order.
    assert [r["question_id"] for r in recs] == [v.bid for v in votes]
    assert [r["tstamp"] for r in recs] == sorted(r["tstamp"] for r in recs)

    text = export(agon, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(votes)
    for row, v in zip(rows, votes):
        assert row["question_id"] == v.bid
        assert (row["model_a"], row["model_b"]) == (v.a, v.b)
        assert row["winner"] == FASTCHAT_WINNER[v.winner]
        assert row["anony"] == "true" and int(row["turn"]) == len(v.turns)
        assert JUDGE_RE.match(row["judge"]) and row["judge"] == by_id[v.bid]["judge"]
        assert float(row["tstamp"]) == pytest.approx(by_id[v.bid]["tstamp"], abs=1e-3)
    for s in sessions:
        assert s not in text

    # --- import into fresh databases: the same Elo as live, then idempotent
    for fmt, body in (("fastchat", fast), ("jsonl", jsonl)):
        log = tmp_path / ("export.%s" % fmt)
        log.write_text(body)
        new = str(tmp_path / ("new-%s.db" % fmt))
        r = agon.run("import", "--db", new, str(log))
        assert r.returncode == 0, (fmt, r.stdout, r.stderr)
        assert re.search(r"imported %d battles \(1 not counted\)" % len(votes), r.stdout), r.stdout
        j = recompute_ok(agon, new)
        assert j["votes"] == len(counted), j
        got = {m["model"]: m["elo"] for m in j["models"]}
        assert got == {m: pytest.approx(live_elo[m], abs=1e-9) for m in got}, (fmt, got, live_elo)
        assert set(got) == {m for m, e in live_elo.items() if rows_of(lb)[m]["battles"]}
        r = agon.run("import", "--db", new, str(log))
        assert r.returncode == 0, r.stderr
        assert re.search(r"imported 0 battles", r.stdout), r.stdout
        assert recompute_ok(agon, new)["votes"] == len(counted)
        # An export of the imported database gives the same battles back.
        again = json.loads(export(agon, "fastchat", db=new))
        assert again == recs, fmt

    # --- a server on the imported database shows the same leaderboard
    agon.stop()
    other = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 50},
                        sub="imported", start=False)
    r = other.run("import", "--db", other.db, str(tmp_path / "export.fastchat"))
    assert r.returncode == 0, r.stderr
    other.start()
    lb2 = leaderboard(other.client())
    assert lb2["votes"] == lb["votes"]
    rows1, rows2 = rows_of(lb), rows_of(lb2)
    for m in rows1:
        for k in ("elo", "bt", "ci_low", "ci_high", "rank_ub", "battles", "wins",
                  "losses", "ties"):
            a, b = rows1[m][k], rows2[m][k]
            if isinstance(a, float):
                assert b == pytest.approx(a, abs=1e-6), (m, k, a, b)
            else:
                assert a == b, (m, k, a, b)


# ---------------------------------------------------------------------------
# Restart.

@pytest.mark.parametrize("how", ["stop", "kill9"])
def test_bt_present_right_after_restart(agon_factory, how):
    models = three_models()
    agon = start_arena(agon_factory, models, ratings={"bootstrap_rounds": 100})
    c = agon.client()
    K, H, P = (m.name for m in models)
    script = PairScript({(K, H): ["x", "y", "x"], (K, P): ["x", "tie", "x"],
                         (H, P): ["x", "y", "tie"]})
    votes = play_script(c, agon, script, at_least=2)
    exp = bt_mle([v.triple() for v in votes])
    lb = wait_lb(c, bt_is(exp, len(votes)))
    mx = c.get("/api/leaderboard/matrix").json()
    if how == "stop":
        agon.stop()
    else:
        agon.kill9()
    agon.start()
    c = agon.client()
    lb2 = leaderboard(c)   # no waiting: fitted before serving
    assert lb2["bt_updated_at"] is not None and lb2["bt_votes"] == len(votes), lb2
    rows1, rows2 = rows_of(lb), rows_of(lb2)
    for m in exp:
        assert rows2[m]["bt"] == pytest.approx(exp[m], abs=0.01), (m, rows2[m])
        assert rows2[m]["elo"] == rows1[m]["elo"]
        # Same counts, same (seeded) bootstrap: the same intervals.
        for k in ("ci_low", "ci_high"):
            assert rows2[m][k] == pytest.approx(rows1[m][k], abs=1e-6), (m, k)
        assert rows2[m]["rank_ub"] == rows1[m]["rank_ub"]
    check_intervals(lb2)
    mx2 = c.get("/api/leaderboard/matrix").json()
    assert mx2["battles"] == mx["battles"] and mx2["win_fraction"] == mx["win_fraction"]
    # A new vote after the restart moves BT from there.
    v = play(c, agon, "after the restart", outcome_for("tie"), expect_counted=True)
    exp = bt_mle([x.triple() for x in votes] + [v.triple()])
    wait_lb(c, bt_is(exp, len(votes) + 1), what="BT after a vote following the restart")


def test_identity_is_checked_once_at_the_turn_end_and_scanned_for_older_turns(agon_factory):
    """The identity check is stored with each turn when it ends (turns.identity)
    so the vote's transaction reads one word, not the answers; turns stored
    before that column existed (identity_checked = 0) are scanned at the vote
    as before."""
    agon = start_arena(agon_factory, three_models(), ratings={"bootstrap_rounds": 50})
    c = agon.client()
    leak, _ = c.battle("Be honest: are you Claude?")
    clean, _ = c.battle("A clean one")
    old_leak, _ = c.battle("Is this Mistral talking?")
    agon.stop()
    rows = dict(agon.sql("SELECT battle_id, identity FROM turns WHERE identity_checked = 1"))
    assert rows[leak] == "claude" and rows[clean] is None and rows[old_leak] == "mistral", rows
    # as if stored by an older agon: no check made, the texts are all there is
    agon.sql("UPDATE turns SET identity = NULL, identity_checked = 0 WHERE battle_id = ?",
             (old_leak,))
    agon.start()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    for bid, counted in ((leak, False), (clean, True), (old_leak, False)):
        r = c2.post("/api/battles/%s/vote" % bid, {"winner": "a"})
        assert r.status == 200 and r.json()["counted"] is counted, (bid, r)
