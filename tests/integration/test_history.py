"""Rating history (issue 14): GET /api/leaderboard?as_of=T is the board as
it was at T (the Elo replayed over the counted votes created up to T, the
BT fit of them with intervals), computed in the background ({"pending":
true} until then); GET /api/leaderboard/history is each model's rating at
evenly spread instants, ending at the board as it stands. The votes are
cast in two batches with a known instant between them."""

import datetime
import time

from conftest import Model, expected_ratings, wait_for
from test_live_ratings import bt_mle, mle_exists, play, start_arena

MODELS = [Model("Aurora-9B", "echo-aurora-up"), Model("Basalt-70B", "echo-basalt-up"),
          Model("Cinder-3B", "echo-cinder-up")]
ORDER = {"Aurora-9B": 0, "Basalt-70B": 1, "Cinder-3B": 2}


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (int(t * 1000) % 1000)


def batch(c, agon, n, tag, favour):
    """n counted votes: favour wins two of three of its battles; other
    battles go to the first in name order; a tie every fifth."""
    out = []
    for i in range(n):
        def decide(a, b):
            if i % 5 == 4:
                return "tie"
            if favour in (a, b) and i % 3 != 2:
                return "a" if a == favour else "b"
            w = min(a, b, key=ORDER.get) if i % 2 else max(a, b, key=ORDER.get)
            return "a" if w == a else "b"
        v = play(c, agon, "history %s %d" % (tag, i), decide=decide)
        assert v.counted, v.resp
        out.append(v.triple())
    return out


def as_of(c, t, sort=""):
    def ready():
        r = c.get("/api/leaderboard?as_of=" + t + sort)
        assert r.status == 200, r
        j = r.json()
        return None if j.get("pending") else j
    return wait_for(ready, timeout=20, what="the board as of " + t)


def rows(lb):
    return {r["model"]: r for r in lb["models"] + lb["provisional"]}


def check_board(lb, votes):
    want = expected_ratings(votes)
    got = rows(lb)
    assert lb["votes"] == len(votes), lb
    for m in ORDER:
        assert abs(got[m]["elo"] - want.get(m, 1000.0)) < 1e-6, (m, got[m], want)
        n = sum(1 for a, b, _ in votes if m in (a, b))
        assert got[m]["battles"] == n, (m, got[m])
    if votes and mle_exists(votes):
        mle = bt_mle(votes)
        for m, e in mle.items():
            assert abs(got[m]["bt"] - e) < 0.01, (m, got[m], e)
            assert got[m]["ci_low"] <= got[m]["bt"] <= got[m]["ci_high"], got[m]


def test_as_of_replays_the_votes_up_to_then_and_history_ends_at_now(agon_factory):
    agon = start_arena(agon_factory, MODELS, ratings={"bootstrap_rounds": 10,
                                                      "min_battles": 0})
    c = agon.client()
    first = batch(c, agon, 9, "one", "Cinder-3B")
    time.sleep(0.05)
    between = time.time()
    time.sleep(0.05)
    second = batch(c, agon, 9, "two", "Aurora-9B")
    t = rfc3339(between)

    then = as_of(c, t)
    assert then["as_of"] == t and then["sort"] == "elo"
    check_board(then, first)
    # the same instant by BT, and the whole past before any vote (a date)
    assert [r["model"] for r in as_of(c, t, "&sort=bt")["models"]] == \
        sorted(ORDER, key=lambda m: -rows(then)[m]["bt"])
    check_board(as_of(c, "2020-01-01"), [])
    # an instant after every vote: the board as it stands
    now = as_of(c, rfc3339(time.time()))
    check_board(now, first + second)
    current = c.get("/api/leaderboard").json()
    for m, r in rows(current).items():
        assert abs(rows(now)[m]["elo"] - r["elo"]) < 1e-6
    # in the future: the current board itself
    fut = c.get("/api/leaderboard?as_of=2999-01-01T00:00:00Z").json()
    assert "as_of" not in fut and rows(fut).keys() == rows(current).keys()

    def series():
        j = c.get("/api/leaderboard/history").json()
        return j if not j["pending"] and j["votes"] == len(first + second) else None
    h = wait_for(series, timeout=20, what="the history series")
    assert 2 <= len(h["points"]) <= 50, h["points"]
    assert h["points"] == sorted(h["points"])
    want = expected_ratings(first + second)
    mle = bt_mle(first + second) if mle_exists(first + second) else None
    by_model = {m["model"]: m for m in h["models"]}
    assert set(by_model) == set(ORDER)
    for m, s in by_model.items():
        assert len(s["elo"]) == len(s["bt"]) == len(h["points"])
        assert abs(s["elo"][-1] - want[m]) < 1e-6, (m, s["elo"][-1], want[m])
        if mle:
            assert abs(s["bt"][-1] - mle[m]) < 0.01
    # an instant of the series replays what was cast by then: the first
    # point holds the first vote only
    a, b, w = first[0]
    assert by_model[a]["elo"][0] == expected_ratings([first[0]])[a]
    others = set(ORDER) - {a, b}
    assert all(by_model[o]["elo"][0] is None for o in others)

    # live: another vote moves the series' end
    more = batch(c, agon, 1, "three", "Basalt-70B")
    h2 = wait_for(lambda: (lambda j: j if not j["pending"] and j["votes"] == len(
        first + second + more) else None)(c.get("/api/leaderboard/history").json()),
        timeout=20, what="the history after one more vote")
    want = expected_ratings(first + second + more)
    for s in h2["models"]:
        assert abs(s["elo"][-1] - want[s["model"]]) < 1e-6


def test_as_of_errors(agon_factory):
    agon = start_arena(agon_factory, MODELS)
    c = agon.client()
    for bad in ("yesterday", "2026-13-01", "2026-02-30", "2026-11-01T25:00:00Z",
                "2026-11-01T00:00:00", "2026-11-01T00:00:00+02:00", "1969-12-31",
                "2026-11-01T00:00:00.Z", ""):
        r = c.get("/api/leaderboard?as_of=" + bad)
        assert r.status == 400 and r.json()["error"]["code"] == "invalid_as_of", (bad, r)
    for q in ("language=en", "style=control", "open_weights=true"):
        r = c.get("/api/leaderboard?as_of=2026-11-01&" + q)
        assert r.status == 400 and r.json()["error"]["code"] == "as_of_combination", (q, r)
    for ok in ("2026-11-01t00:00:00z", "2026-11-01 00:00:00Z", "2026-11-01T00:00:00.5Z"):
        assert c.get("/api/leaderboard?as_of=" + ok.replace(" ", "%20")).status == 200, ok
