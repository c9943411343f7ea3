"""Regenerate and retry (issue 14): the latest turn re-asked before the vote.

A regenerate re-asks both sides with the same models; the answers it
replaces are kept and shown (with their models) once voted; the vote is on
what was shown last. A retry replaces a failed side's model with another
one drawn from the enabled models the battle has not held, the survivor's
answer kept; the vote counts for the final pair."""

import json

from conftest import Model

TOKEN = "admin-token-for-regenerate-0123456789"
AUTH = {"Authorization": "Bearer " + TOKEN}


def attempt_models():
    return [Model("Attempt-Alpha", "attempt-alpha-up"),
            Model("Attempt-Beta", "attempt-beta-up")]


def read_turn(c, bid, timeout=15.0):
    """The events of the battle's latest turn, read to their end."""
    es = c.events("/api/battles/%s/events" % bid, timeout=timeout)
    assert es.status == 200 and es.closed, es
    return es


def export(agon):
    r = agon.run("export", "--db", agon.db, "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines() if x.strip()]


def admin_arena(agon_factory, models, limits=None):
    agon = agon_factory(None)
    agon.env["AGON_REGEN_ADMIN"] = TOKEN
    agon.write_config(models, server_extra="admin_token_env = AGON_REGEN_ADMIN",
                      limits=limits)
    agon.start()
    return agon


def test_regenerate_streams_new_answers_and_the_vote_is_on_them(agon_factory, tmp_path):
    agon = agon_factory(attempt_models())
    c = agon.client()
    bid, es = c.battle("Tell me something")
    for side in ("a", "b"):
        assert es.text(side).startswith("attempt 1: "), es.text(side)
    assert es.end["status"] == "ready"

    r = c.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 202, r
    assert r.json() == {"turn": 1, "events": "/api/battles/%s/events" % bid}
    es = read_turn(c, bid)
    # the feed shows the new attempt from its start, nothing of the old one
    for side in ("a", "b"):
        assert es.text(side).startswith("attempt 2: "), es.text(side)
        assert "attempt 1" not in es.text(side)
    assert es.end and es.end["status"] == "ready"
    got = c.wait_status(bid, ("ready",))
    assert got["turns"][0]["a"].startswith("attempt 2: ")
    # nothing about the replaced attempts before the vote
    assert got["replaced"] is None and got["replacements"] is None and got["models"] is None

    # a second one, then the vote
    assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
    read_turn(c, bid)
    shown = c.wait_status(bid, ("ready",))["turns"][0]
    assert shown["a"].startswith("attempt 3: ")
    v = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert v.status == 200, v
    got = c.get("/api/battles/" + bid).json()
    assert got["status"] == "voted"
    assert got["turns"][0]["a"] == shown["a"] and got["turns"][0]["b"] == shown["b"]
    models = got["models"]
    rep = got["replaced"]
    assert [(x["side"], x["attempt"]) for x in rep] == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    for x in rep:
        assert x["kind"] == "regenerate" and x["turn"] == 1 and x["failed"] is False
        assert x["model"] == models[x["side"]]
        assert x["answer"].startswith("attempt %d: " % x["attempt"]), x
    assert got["replacements"] == []
    # the battle read back from the database says the same
    agon.restart()
    c2 = agon.client()
    again = c2.get("/api/battles/" + bid).json()
    assert again["replaced"] == rep and again["turns"] == got["turns"]

    # export: the answers voted on in the conversations, the replaced ones
    # in Agon's own field; an import stores them back
    agon.stop()
    recs = export(agon)
    assert len(recs) == 1
    rec = recs[0]
    assert rec["conversation_a"][1]["content"] == shown["a"]
    own = rec["agon_replaced_v0.1"]
    assert [(x["side"], x["attempt"], x["kind"]) for x in own] == [
        ("a", 1, "regenerate"), ("b", 1, "regenerate"),
        ("a", 2, "regenerate"), ("b", 2, "regenerate")]
    assert own[0]["answer"] == rep[0]["answer"] and own[0]["model"] == models["a"]
    assert "agon_replacements_v0.1" not in rec
    log = tmp_path / "regen.jsonl"
    log.write_text(json.dumps(rec) + "\n")
    other = agon_factory(attempt_models(), sub="imported", start=False)
    r = other.run("import", "--db", other.db, str(log))
    assert r.returncode == 0, r.stderr
    assert export(other) == recs
    other.start()
    # the rows the import stored, under the imported battle's own id
    rows = other.sql("SELECT side, attempt, kind, model, answer FROM replaced_answers "
                     "ORDER BY attempt, side")
    bid2 = other.sql("SELECT id FROM battles")[0][0]
    assert [(s, n, k, m) for s, n, k, m, _ in rows] == [
        (x["side"], x["attempt"], x["kind"], x["model"]) for x in own]
    assert other.client().get("/api/battles/" + bid2).json()["replaced"] == [
        {k: x[k] for k in ("turn", "side", "attempt", "kind", "model", "answer", "failed")}
        for x in own]


def test_regenerate_refusals(agon_factory):
    agon = agon_factory(attempt_models(), limits={"max_regenerations": 1})
    c = agon.client()
    bid, _ = c.battle()
    stranger = agon.client()
    r = stranger.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 403 and r.json()["error"]["code"] == "not_your_battle", r
    r = c.post("/api/battles/no-such-battle/regenerate", {})
    assert r.status == 404 and r.json()["error"]["code"] == "battle_not_found", r
    assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
    read_turn(c, bid)
    c.wait_status(bid, ("ready",))
    r = c.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 409, r
    assert r.json()["error"] == {"code": "too_many_regenerations",
                                 "message": "this turn has been regenerated as often as allowed"}
    # a follow-up turn may be regenerated again
    assert c.post("/api/battles/%s/turns" % bid, {"prompt": "more"}).status == 202
    read_turn(c, bid)
    c.wait_status(bid, ("ready",))
    assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
    es = read_turn(c, bid)
    assert es.end["turn"] == 2 and es.text("a").startswith("attempt 2: ")
    c.wait_status(bid, ("ready",))
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).status == 200
    r = c.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 409 and r.json()["error"] == {
        "code": "battle_not_ready",
        "message": "a regenerate needs a battle that is ready and not voted"}, r


def test_regenerate_while_streaming_off_and_rate_limited(agon_factory):
    agon = agon_factory([Model("Slow-One", "slow150-one", timeout=30),
                         Model("Slow-Two", "slow150-two", timeout=30)],
                        limits={"battles_per_minute": 2})
    c = agon.client()
    bid = c.new_battle("take your time").json()["id"]
    r = c.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 409 and r.json()["error"]["code"] == "battle_not_ready", r
    c.wait_status(bid, ("ready",), timeout=60)
    # the battle and the refused regenerate took both prompts of the minute
    r = c.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 429 and r.json()["error"]["code"] == "rate_limited", r

    off = agon_factory(attempt_models(), sub="off", limits={"max_regenerations": 0})
    c = off.client()
    bid, _ = c.battle()
    r = c.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 409 and r.json()["error"]["code"] == "too_many_regenerations", r


def three_models(spare="echo-spare-up"):
    return [Model("Broken-Model", "fail500-broken"),
            Model("Steady-Model", "echo-steady-up"),
            Model("Spare-Model", spare)]


def set_enabled(agon, name, on):
    r = agon.client().post("/api/admin/models/" + name, {"enabled": on}, headers=AUTH)
    assert r.status == 200, r


def battle_in_retry(c, tries=30):
    """A battle whose one side failed (the broken model is in two of three)."""
    for _ in range(tries):
        bid, es = c.battle("Hello")
        if es.end["status"] == "retry":
            return bid, es
    raise AssertionError("no battle with one failed side")


def test_retry_replaces_the_failed_side(agon_factory, tmp_path):
    agon = admin_arena(agon_factory, three_models())
    c = agon.client()
    bid, es = battle_in_retry(c)
    got = c.get("/api/battles/" + bid).json()
    assert got["status"] == "retry" and got["models"] is None
    errs = got["turns"][0]["errors"]
    failed = "a" if errs["a"] else "b"
    survivor = "b" if failed == "a" else "a"
    assert errs[survivor] is None
    assert "broken" not in json.dumps(got).lower()
    kept = got["turns"][0][survivor]
    assert kept
    r = c.post("/api/battles/%s/vote" % bid, {"winner": survivor})
    assert r.status == 409 and r.json()["error"]["code"] == "battle_failed", r

    # nobody to take over: the others are disabled
    set_enabled(agon, "Steady-Model", False)
    set_enabled(agon, "Spare-Model", False)
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 409 and r.json()["error"] == {
        "code": "no_replacement_model",
        "message": "no other enabled model can replace the failed side"}, r
    r = agon.client().post("/api/battles/%s/retry" % bid, {})
    assert r.status == 403 and r.json()["error"]["code"] == "not_your_battle", r
    r = c.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 409 and r.json()["error"]["code"] == "battle_not_ready", r

    set_enabled(agon, "Steady-Model", True)
    set_enabled(agon, "Spare-Model", True)
    agon.fake.clear_requests()
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 202, r
    es = read_turn(c, bid)
    assert es.end["status"] == "ready"
    assert es.text(survivor) == kept  # the survivor's answer, not asked again
    asked = [q["body"]["model"] for q in agon.fake.requests() if isinstance(q["body"], dict)]
    assert len(asked) == 1 and asked[0] in ("echo-spare-up", "echo-steady-up"), asked
    got = c.wait_status(bid, ("ready",))
    assert got["turns"][0][survivor] == kept and got["turns"][0]["errors"] is None
    assert got["models"] is None and got["replacements"] is None
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 409 and r.json()["error"]["code"] == "nothing_to_retry", r

    assert c.post("/api/battles/%s/vote" % bid, {"winner": failed}).status == 200
    got = c.get("/api/battles/" + bid).json()
    new = got["models"][failed]
    assert new != "Broken-Model" and new != got["models"][survivor]
    assert {"echo-spare-up": "Spare-Model", "echo-steady-up": "Steady-Model"}[asked[0]] == new
    assert got["replacements"] == [{"side": failed, "turn": 1, "old_model": "Broken-Model",
                                    "new_model": new}]
    [rep] = got["replaced"]
    assert rep["kind"] == "retry" and rep["failed"] is True and rep["model"] == "Broken-Model"
    assert rep["side"] == failed and rep["attempt"] == 1
    # the vote counted for the final pair
    board = {m["model"]: m for m in c.get("/api/leaderboard").json()["models"]}
    assert board[new]["elo"] > 1000 and board[got["models"][survivor]]["elo"] < 1000
    assert board["Broken-Model"]["elo"] == 1000 and board["Broken-Model"]["battles"] == 0

    agon.stop()
    [rec] = export(agon)
    assert rec["model_" + failed] == new
    assert rec["agon_replacements_v0.1"][0]["old_model"] == "Broken-Model"
    assert rec["agon_replaced_v0.1"][0]["kind"] == "retry"
    log = tmp_path / "retry.jsonl"
    log.write_text(json.dumps(rec) + "\n")
    other = agon_factory(three_models(), sub="imported", start=False)
    assert other.run("import", "--db", other.db, str(log)).returncode == 0
    assert export(other) == [rec]
    rows = other.sql("SELECT side, old_model, new_model, turn FROM side_replacements")
    assert rows == [(failed, "Broken-Model", new, 1)]


def test_retry_bounds_and_both_failed(agon_factory):
    # the replacement fails too, and the battle has one retry only: failed
    # then (the same with no model left to take over: failed at once)
    agon = admin_arena(agon_factory, three_models(spare="fail500-spare"),
                       limits={"max_side_retries": 1})
    c = agon.client()
    bid, es = battle_in_retry(c)
    assert c.post("/api/battles/%s/retry" % bid, {}).status == 202
    es = read_turn(c, bid)
    assert es.end["status"] == "failed"
    assert c.wait_status(bid, ("failed",))["status"] == "failed"
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 409 and r.json()["error"]["code"] == "nothing_to_retry", r

    # both sides failed: failed as before, nothing to retry
    both = agon_factory([Model("Fail-One", "fail500-one"), Model("Fail-Two", "fail500-two")],
                        sub="both")
    c = both.client()
    bid, es = c.battle()
    assert es.end["status"] == "failed"
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 409 and r.json()["error"] == {
        "code": "nothing_to_retry",
        "message": "only a battle whose latest turn has exactly one failed side can be retried"}

    # retries off: a failed side fails the battle at once
    off = agon_factory(three_models(), sub="off",
                       limits={"max_side_retries": 0})
    c = off.client()
    for _ in range(6):
        bid, es = c.battle()
        if es.of("error"):
            break
    assert es.of("error") and es.end["status"] == "failed"
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 409 and r.json()["error"]["code"] == "nothing_to_retry", r


def test_regenerate_and_retry_in_the_chosen_modes(agon_factory):
    """A direct chat regenerates its one side; a side-by-side battle
    regenerates both and shows what it replaced at once (its names are
    public); a chosen model that fails fails the battle: no model is drawn
    in its place."""
    agon = agon_factory(attempt_models() + [Model("Broken-Model", "fail500-broken")])
    c = agon.client()
    r = c.post("/api/battles", {"prompt": "hi", "models": ["Attempt-Alpha"]})
    assert r.status == 201, r
    bid = r.json()["id"]
    read_turn(c, bid)
    c.wait_status(bid, ("ready",))
    agon.fake.clear_requests()
    assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
    es = read_turn(c, bid)
    assert es.text("a").startswith("attempt 2: ") and es.text("b") == ""
    got = c.wait_status(bid, ("ready",))
    asked = [q["body"]["model"] for q in agon.fake.requests() if isinstance(q["body"], dict)]
    assert asked == ["attempt-alpha-up"], asked
    assert [(x["side"], x["model"]) for x in got["replaced"]] == [("a", "Attempt-Alpha")]

    r = c.post("/api/battles", {"prompt": "hi", "models": ["Attempt-Alpha", "Attempt-Beta"]})
    bid = r.json()["id"]
    read_turn(c, bid)
    c.wait_status(bid, ("ready",))
    assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
    read_turn(c, bid)
    got = c.wait_status(bid, ("ready",))
    assert sorted((x["side"], x["model"]) for x in got["replaced"]) == [
        ("a", "Attempt-Alpha"), ("b", "Attempt-Beta")]

    r = c.post("/api/battles", {"prompt": "hi", "models": ["Broken-Model", "Attempt-Beta"]})
    bid = r.json()["id"]
    es = read_turn(c, bid)
    assert es.end["status"] == "failed"
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 409 and r.json()["error"]["code"] == "nothing_to_retry", r
