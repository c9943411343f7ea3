"""`agon recompute` gives the live ratings; acknowledged votes survive kill -9."""

import json
import random
import threading

import pytest

from conftest import Model, assert_error, expected_ratings


def three_models():
    return [Model("Kestrel-1", "echo-kestrel"), Model("Heron-2", "echo-heron"),
            Model("Plover-3", "echo-plover")]


def recompute(agon):
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0, "recompute failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr)
    try:
        j = json.loads(r.stdout)
    except ValueError:
        raise AssertionError("recompute did not print JSON: %r" % r.stdout[:1000])
    return {m["model"]: m["elo"] for m in j["models"]}, j


def live(c):
    lb = c.get("/api/leaderboard").json()
    return {m["model"]: m["elo"] for m in lb["models"]}, lb


def vote_battles(c, n, rng, prefix="q"):
    votes = []
    for i in range(n):
        bid, es = c.battle("%s %d" % (prefix, i))
        assert es.end["status"] == "ready"
        w = rng.choice(["a", "b", "tie", "bothbad"])
        r = c.post("/api/battles/%s/vote" % bid, {"winner": w})
        assert r.status == 200, r
        votes.append((bid, r.json()["models"]["a"], r.json()["models"]["b"], w))
    return votes


def test_recompute_equals_live(agon_factory):
    agon = agon_factory(three_models(), k=4)
    c = agon.client()
    rng = random.Random(7)
    votes = vote_battles(c, 10, rng)
    live_elo, lb = live(c)
    exp = expected_ratings([v[1:] for v in votes], k=4)
    for name, e in exp.items():
        assert live_elo[name] == pytest.approx(e, abs=1e-9)

    # While the server runs (WAL: readers do not block) ...
    rec, j = recompute(agon)
    for name, e in exp.items():
        assert rec[name] == live_elo[name], "recompute %r != live %r for %s" % (
            rec[name], live_elo[name], name)
    # ... and after it stopped.
    agon.stop()
    rec2, _ = recompute(agon)
    assert {k: rec2[k] for k in exp} == {k: live_elo[k] for k in exp}

    # The live ratings survive a restart unchanged.
    agon.start()
    live_elo2, lb2 = live(agon.client())
    assert live_elo2 == live_elo
    assert lb2["votes"] == 10


def test_recompute_on_empty_and_missing_db(agon_factory, tmp_path):
    agon = agon_factory(three_models())
    rec, j = recompute(agon)  # created by serve, no votes
    assert all(v == 1000 for v in rec.values())
    r = agon.run("recompute", "--db", str(tmp_path / "no-such.db"))
    assert r.returncode != 0, "recompute on a missing database: %r" % r.stdout


def test_recompute_detects_tampered_live_ratings(agon_factory):
    """If the live ratings differ from the replay, recompute says so and exits 1."""
    agon = agon_factory(three_models())
    c = agon.client()
    vote_battles(c, 3, random.Random(3))
    agon.stop()
    agon.sql("UPDATE ratings SET elo = elo + 1.5")
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert (r.stdout + r.stderr).strip()


def test_kill9_after_acknowledged_votes(agon_factory):
    agon = agon_factory(three_models())
    c = agon.client()
    rng = random.Random(11)
    votes = vote_battles(c, 12, rng)
    agon.kill9()  # right after the last 200
    agon.start()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    live_elo, lb = live(c2)
    assert lb["votes"] == len(votes)
    for bid, a, b, w in votes:
        j = c2.get("/api/battles/" + bid).json()
        assert j["status"] == "voted" and j["winner"] == w, j
        assert j["models"] == {"a": a, "b": b}
        assert_error(c2.post("/api/battles/%s/vote" % bid, {"winner": w}), 409)
    exp = expected_ratings([v[1:] for v in votes], k=4)
    for name, e in exp.items():
        assert live_elo[name] == pytest.approx(e, abs=1e-9)
    agon.stop()
    rec, _ = recompute(agon)
    assert {k: rec[k] for k in exp} == {k: live_elo[k] for k in exp}


@pytest.mark.parametrize("round_", range(3))
def test_kill9_during_concurrent_votes(agon_factory, round_):
    """Votes in flight when the server is killed: every acknowledged one is kept,
    nothing half-applied (live == recompute, counts == votes)."""
    agon = agon_factory(three_models())
    owner = agon.client()
    bids = []
    for i in range(16):
        bids.append(owner.new_battle("concurrent %d" % i).json()["id"])
    for bid in bids:
        owner.wait_status(bid, ("ready",))
    acked = {}
    lock = threading.Lock()
    first_acks = threading.Event()
    rng = random.Random(round_)

    def voter(bid, w):
        cl = agon.client()
        cl.cookies = dict(owner.cookies)
        try:
            r = cl.post("/api/battles/%s/vote" % bid, {"winner": w}, timeout=5)
        except OSError:
            return
        if r.status == 200:
            with lock:
                acked[bid] = w
                if len(acked) >= 4:
                    first_acks.set()

    ts = [threading.Thread(target=voter, args=(bid, rng.choice("ab"))) for bid in bids]
    for t in ts:
        t.start()
    first_acks.wait(10)
    agon.kill9()
    for t in ts:
        t.join(10)
    with lock:
        acked_now = dict(acked)
    assert len(acked_now) >= 4

    agon.start()
    c = agon.client()
    c.cookies = dict(owner.cookies)
    stored = {}
    for bid in bids:
        j = c.get("/api/battles/" + bid).json()
        if j["status"] == "voted":
            stored[bid] = j["winner"]
        else:
            assert j["status"] in ("ready", "failed"), j
    for bid, w in acked_now.items():
        assert stored.get(bid) == w, "acknowledged vote on %s lost" % bid
    live_elo, lb = live(c)
    assert lb["votes"] == len(stored)
    assert sum(m["battles"] for m in lb["models"]) == 2 * len(stored)
    agon.stop()
    rec, _ = recompute(agon)
    # recompute lists the models that have votes; one the stored votes never
    # met (the server pairs at random) must be untouched on the live board
    for m in lb["models"]:
        if m["model"] not in rec:
            assert m["battles"] == 0 and m["elo"] == 1000.0, m
    assert set(rec) <= set(live_elo), (rec, live_elo)
    assert rec == {k: live_elo[k] for k in rec}


def test_restart_keeps_ready_battles(agon_factory, fake):
    """Battles that were ready survive a restart: replay, vote, and a further
    turn with each side's own history rebuilt from the database."""
    agon = agon_factory(three_models())
    c = agon.client()
    bid1, es1 = c.battle("before restart one")
    bid2, es2 = c.battle("before restart two")
    agon.restart()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)

    # Replay of a finished turn after the restart.
    rep = c2.events("/api/battles/%s/events" % bid1)
    assert rep.closed and rep.end == {"turn": 1, "status": "ready"}, rep.raw[-300:]
    assert rep.text("a") == es1.text("a") and rep.text("b") == es1.text("b")
    assert c2.post("/api/battles/%s/vote" % bid1, {"winner": "a"}).status == 200

    # A second turn after the restart.
    fake.clear_requests()
    r = c2.post("/api/battles/%s/turns" % bid2, {"prompt": "after restart"})
    assert r.status == 202, r
    es = c2.events("/api/battles/%s/events" % bid2)
    assert es.end == {"turn": 2, "status": "ready"}, es.end
    v = c2.post("/api/battles/%s/vote" % bid2, {"winner": "b"}).json()
    for side in ("a", "b"):
        up = agon.upstream_of(v["models"][side])
        reqs = [q for q in fake.requests() if q["body"]["model"] == up]
        assert len(reqs) == 1
        msgs = [(m["role"], m["content"]) for m in reqs[0]["body"]["messages"]
                if m["role"] != "system"]
        assert msgs == [("user", "before restart two"), ("assistant", es2.text(side)),
                        ("user", "after restart")], (side, msgs)
    assert c2.get("/api/leaderboard").json()["votes"] == 2


def test_recompute_with_configured_k(agon_factory):
    """K is configurable; `agon recompute --db FILE` must still reproduce the live
    ratings of a server that ran with another K (the database must know it)."""
    agon = agon_factory(three_models(), k=16)
    c = agon.client()
    votes = vote_battles(c, 5, random.Random(5))
    live_elo, _ = live(c)
    exp = expected_ratings([v[1:] for v in votes], k=16)
    for name, e in exp.items():
        assert live_elo[name] == pytest.approx(e, abs=1e-9)
    agon.stop()
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0, (
        "recompute --db on a K=16 database: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    rec = {m["model"]: m["elo"] for m in json.loads(r.stdout)["models"]}
    assert {k: rec[k] for k in exp} == {k: live_elo[k] for k in exp}
