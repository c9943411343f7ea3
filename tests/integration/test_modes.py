"""Battles the visitor chooses (issue 14): side by side with two chosen
models (FastChat's "named" mode), a direct chat with one, and identical
answers, which are not a vote.

- POST /api/battles {"prompt", "models": [x, y]} streams like an anonymous
  battle, with the names public at once; its vote is stored with anony
  false and counted on no board (Elo, BT, recompute), and an export says
  "anony": false, which an import keeps.
- "models": [x] is a direct chat: side a only, follow-ups work, no vote.
- A battle whose last turn has the same two answers but for white space
  and case says "identical": true, and its vote is refused (409
  identical_answers); the boards do not move.
"""

import json
import time

import pytest

from conftest import Model, assert_error, wait_for
from test_judges import fitted

MODELS = [Model("Nimbus-Delta-7B", "echo-nimbus-up-31"),
          Model("Cobalt-Quill-13B", "echo-cobalt-up-77"),
          Model("Amber-Wren-3B", "echo-amber-up-5"),
          Model("Sleepy-Sloth-1B", "echo-sloth-up-9", enabled=False)]
SAME = [Model("Twin-One-8B", "same-one"), Model("Twin-Two-8B", "sameloud-two")]


def chosen(c, models, prompt="Hello there", expect=201):
    r = c.post("/api/battles", {"prompt": prompt, "models": models})
    assert r.status == expect, r
    return r


def run_chosen(c, models, prompt="Hello there"):
    j = chosen(c, models, prompt).json()
    es = c.events(j["events"])
    assert es.status == 200 and es.closed, es
    return j, es


def boards(c):
    """The human board's numbers, Elo and BT, once the fit covers its votes."""
    wait_for(lambda: fitted(c.get("/api/leaderboard").json()), 20, "the BT fit")
    out = {}
    for sort in ("elo", "bt"):
        lb = c.get("/api/leaderboard?sort=" + sort).json()
        out[sort] = (lb["votes"], sorted(
            (m["model"], m["elo"], m["bt"], m["battles"])
            for m in lb["models"] + lb.get("provisional", [])))
    return out


def anonymous_votes(c, n):
    for i in range(n):
        bid, es = c.battle("Anonymous round %d" % i)
        assert es.end["status"] == "ready", es.end
        r = c.post("/api/battles/%s/vote" % bid, {"winner": "ab"[i % 2]})
        assert r.status == 200 and r.json()["counted"] is True, r


def test_named_battle_streams_with_names_and_is_not_counted(agon_factory, tmp_path):
    agon = agon_factory(MODELS)
    c = agon.client()
    anonymous_votes(c, 3)
    before = boards(c)

    j, es = run_chosen(c, ["Cobalt-Quill-13B", "Nimbus-Delta-7B"], "Compare us")
    assert j["mode"] == "named"
    assert j["models"] == {"a": "Cobalt-Quill-13B", "b": "Nimbus-Delta-7B"}
    # in the given order, no swap: a is the first model's answer
    assert es.end["status"] == "ready" and "identical" not in es.end, es.end
    assert es.end["models"] == j["models"]
    for side, up in (("a", "echo-cobalt-up-77"), ("b", "echo-nimbus-up-31")):
        import fake_backend
        assert es.text(side).startswith(fake_backend.answer_tag(up)), es.text(side)
    g = c.get("/api/battles/" + j["id"]).json()
    assert g["mode"] == "named" and g["models"] == j["models"], g
    assert g["identical"] is False and g["turns"][0]["identical"] is False, g

    # a follow-up, then the vote: stored, not counted
    r = c.post("/api/battles/%s/turns" % j["id"], {"prompt": "And again?"})
    assert r.status in (200, 201, 202), r
    c.wait_status(j["id"], ("ready",))
    r = c.post("/api/battles/%s/vote" % j["id"], {"winner": "a"})
    assert r.status == 200, r
    assert r.json()["counted"] is False, r.json()
    assert r.json()["models"] == j["models"]
    elo = r.json()["elo"]
    assert elo == r.json()["elo_before"], r.json()

    # more named votes: the boards are as they were
    for i in range(4):
        j2, es2 = run_chosen(c, ["Amber-Wren-3B", "Nimbus-Delta-7B"], "Named %d" % i)
        assert es2.end["status"] == "ready"
        assert c.post("/api/battles/%s/vote" % j2["id"], {"winner": "b"}).status == 200
    time.sleep(0.3)  # a fit poked by a counted vote would have started
    assert boards(c) == before
    assert 'agon_votes_excluded_total{reason="not_anonymous"} 5' in c.get("/metrics").body.decode()

    # export: anony false, not counted, with its reason
    agon.stop()
    r = agon.run("export", "--db", agon.db, "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    named = [x for x in recs if x["anony"] is False]
    anony = [x for x in recs if x["anony"] is True]
    assert len(named) == 5 and len(anony) == 3, recs
    assert all(x["agon_counted"] is False and x["agon_reason"] == "not anonymous"
               for x in named), named
    assert {(x["model_a"], x["model_b"]) for x in named} == {
        ("Cobalt-Quill-13B", "Nimbus-Delta-7B"), ("Amber-Wren-3B", "Nimbus-Delta-7B")}
    # recompute agrees: only the anonymous votes count
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0, r.stderr
    rc = json.loads(r.stdout)
    assert rc["votes"] == 3 and rc["matches"] and rc["pair_counts_match"], rc

    # import -> export keeps anony false, and counts them nowhere
    log = tmp_path / "named.jsonl"
    log.write_text(r"".join(json.dumps(x) + "\n" for x in recs))
    other = agon_factory(MODELS, sub="reimported", start=False)
    r = other.run("import", "--db", other.db, str(log))
    assert r.returncode == 0, r.stderr
    r = other.run("export", "--db", other.db, "--format", "jsonl")
    again = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert sorted(x["anony"] for x in again) == sorted(x["anony"] for x in recs)
    assert {x["question_id"] for x in again if x["anony"] is False} == {
        x["question_id"] for x in named}
    other.start()
    oc = other.client()
    assert oc.get("/api/leaderboard").json()["votes"] == 3


def test_invalid_models_are_refused(agon_factory):
    agon = agon_factory(MODELS)
    c = agon.client()
    long_name = "x" * 5000  # past any config line
    cases = [
        (["Nimbus-Delta-7B", "No-Such-Model"], '"models"[1] is not an enabled model'),
        (["Sleepy-Sloth-1B", "Nimbus-Delta-7B"], '"models"[0] is not an enabled model'),
        (["Nimbus-Delta-7B", "Nimbus-Delta-7B"], '"models" must name two different models'),
        (["Nimbus-Delta-7B", "Cobalt-Quill-13B", "Amber-Wren-3B"], None),
        ([], None),
        ("Nimbus-Delta-7B", None),
        ({"a": "Nimbus-Delta-7B"}, None),
        ([1, 2], '"models"[0] must be a model name'),
        (["Nimbus-Delta-7B", None], '"models"[1] must be a model name'),
        ([""], '"models"[0] must be a model name'),
        ([long_name], '"models"[0] must be a model name'),
        (["nimbus-delta-7b"], '"models"[0] is not an enabled model'),
    ]
    for models, message in cases:
        r = c.post("/api/battles", {"prompt": "Hi", "models": models})
        err = assert_error(r, 400)
        assert err["code"] == "invalid_models", (models, err)
        if message:
            assert err["message"] == message, (models, err)
        assert long_name not in r.body.decode() and "No-Such" not in r.body.decode()
    # the prompt is checked first, as for every battle
    r = c.post("/api/battles", {"models": ["Nimbus-Delta-7B"]})
    assert assert_error(r, 400)["code"] == "invalid_prompt"
    # nothing was started
    assert c.get("/metrics").body.decode().count("agon_battles_streaming 0") == 1


def test_refused_models_give_the_prompt_token_back(agon_factory):
    agon = agon_factory(MODELS, limits={"battles_per_minute": 2})
    c = agon.client()
    for _ in range(5):
        r = c.post("/api/battles", {"prompt": "Hi", "models": ["Nope"]})
        assert assert_error(r, 400)["code"] == "invalid_models"
    run_chosen(c, ["Nimbus-Delta-7B"])
    run_chosen(c, ["Nimbus-Delta-7B", "Amber-Wren-3B"])
    assert c.post("/api/battles", {"prompt": "Hi"}).status == 429


def test_direct_chat_has_one_side_and_no_vote(agon_factory):
    agon = agon_factory(MODELS)
    c = agon.client()
    anonymous_votes(c, 2)
    before = boards(c)
    j, es = run_chosen(c, ["Amber-Wren-3B"], "Just you and me")
    assert j["mode"] == "direct" and j["models"] == {"a": "Amber-Wren-3B", "b": None}
    assert es.end["status"] == "ready", es.end
    assert es.end["models"] == {"a": "Amber-Wren-3B", "b": None}
    assert es.text("a") and es.of("delta")
    assert all(e.data["side"] == "a" for e in es.of("delta") + es.of("done")), es.raw
    g = c.get("/api/battles/" + j["id"]).json()
    assert g["mode"] == "direct" and g["identical"] is False, g
    t = g["turns"][0]
    assert t["a"] and t["a_html"] and t["b"] is None and t["b_html"] is None, t
    assert t["errors"] is None

    r = c.post("/api/battles/%s/vote" % j["id"], {"winner": "a"})
    err = assert_error(r, 409)
    assert err["code"] == "direct_chat", err

    # a follow-up: the model sees the conversation so far
    r = c.post("/api/battles/%s/turns" % j["id"], {"prompt": "Tell me more"})
    assert r.status in (200, 201, 202), r
    es2 = c.events(r.json()["events"]) if "events" in r.json() else c.events(
        "/api/battles/%s/events" % j["id"])
    assert es2.end["turn"] == 2 and es2.end["status"] == "ready", es2.end
    assert "turn 2 (3 messages): you said: Tell me more" in es2.text("a")
    g = c.wait_status(j["id"], ("ready",))
    assert len(g["turns"]) == 2 and g["turns"][1]["b"] is None
    assert_error(c.post("/api/battles/%s/vote" % j["id"], {"winner": "tie"}), 409)
    assert boards(c) == before

    # read back from the database after a restart, still one-sided
    agon.stop()
    agon.start()
    c2 = agon.client()
    g = c2.get("/api/battles/" + j["id"]).json()
    assert g["mode"] == "direct" and g["status"] == "ready", g
    assert g["turns"][1]["b"] is None and g["turns"][1]["a"], g
    c2.cookies = c.cookies
    assert_error(c2.post("/api/battles/%s/vote" % j["id"], {"winner": "a"}), 409)
    r = c2.post("/api/battles/%s/turns" % j["id"], {"prompt": "Third"})
    assert r.status in (200, 201, 202), r
    g = c2.wait_status(j["id"], ("ready",))
    assert "turn 3 (5 messages)" in g["turns"][2]["a"], g


def test_identical_answers_are_not_a_vote(agon_factory):
    agon = agon_factory(SAME + MODELS[:2])
    c = agon.client()
    # two chosen echo models never agree
    for i in range(2):
        j, es = run_chosen(c, ["Nimbus-Delta-7B", "Cobalt-Quill-13B"], "warm %d" % i)
        assert "identical" not in es.end, es.end
    before = boards(c)
    assert before["elo"][0] == 0

    prompt = "Caf\u00e9 d\u00e9j\u00e0 vu, \u041f\u0440\u0438\u0432\u0435\u0442, \u0141\u00f3d\u017a!"
    j, es = run_chosen(c, ["Twin-One-8B", "Twin-Two-8B"], prompt)
    assert es.text("a") != es.text("b")  # not byte for byte
    assert es.end == {"turn": 1, "status": "ready", "identical": True,
                      "models": {"a": "Twin-One-8B", "b": "Twin-Two-8B"}}, es.end
    g = c.get("/api/battles/" + j["id"]).json()
    assert g["identical"] is True and g["turns"][0]["identical"] is True, g
    for w in ("a", "b", "tie", "bothbad"):
        err = assert_error(c.post("/api/battles/%s/vote" % j["id"], {"winner": w}), 409)
        assert err["code"] == "identical_answers", err
        assert "new battle" in err["message"]
    assert c.get("/api/battles/" + j["id"]).json()["status"] == "ready"
    assert boards(c) == before
    agon.stop()
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["votes"] == 0


def test_identical_anonymous_battle_is_refused_and_boards_unchanged(agon_factory):
    """Anonymous battles between two same... models: always identical, never
    counted; a follow-up whose answers differ could be voted, but these
    models always agree."""
    agon = agon_factory(SAME)
    c = agon.client()
    before = boards(c)
    for i in range(3):
        bid, es = c.battle("Same %d" % i)
        assert es.end == {"turn": 1, "status": "ready", "identical": True}, es.end
        g = c.get("/api/battles/" + bid).json()
        assert g["identical"] is True and g["models"] is None and g["mode"] == "anony"
        err = assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
        assert err["code"] == "identical_answers"
    assert boards(c) == before
    assert c.get("/api/leaderboard").json()["votes"] == 0


def test_anonymous_battles_say_their_mode_and_are_unchanged(agon_factory):
    agon = agon_factory(MODELS)
    c = agon.client()
    r = c.new_battle("Plain")
    assert set(r.json()) == {"id", "events"}, r.json()
    es = c.events(r.json()["events"])
    assert es.end == {"turn": 1, "status": "ready"}, es.end
    g = c.get("/api/battles/" + r.json()["id"]).json()
    assert g["mode"] == "anony" and g["models"] is None and g["identical"] is False
    r = c.post("/api/battles/%s/vote" % r.json()["id"], {"winner": "a"})
    assert r.status == 200 and r.json()["counted"] is True


def test_models_lists_the_enabled_names(agon_factory):
    agon = agon_factory(MODELS)
    c = agon.client()
    names = [m["name"] for m in c.get("/api/models").json()["models"]]
    assert names == ["Nimbus-Delta-7B", "Cobalt-Quill-13B", "Amber-Wren-3B"], names


def test_a_vote_racing_identical_answers_never_counts(agon_factory):
    """Votes sent while the identical answers stream: each is refused as
    streaming or as identical, decided from the stored turn, never taken."""
    agon = agon_factory([Model("Twin-Slow-1", "sameslow50-one", timeout=30),
                         Model("Twin-Slow-2", "sameloudslow60-two", timeout=30)])
    c = agon.client()
    bid = c.new_battle("Race me to the end of this sentence").json()["id"]
    seen = set()
    deadline = time.monotonic() + 20
    while "identical_answers" not in seen:
        assert time.monotonic() < deadline, seen
        r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
        err = assert_error(r, 409)
        assert err["code"] in ("still_streaming", "identical_answers"), err
        seen.add(err["code"])
    assert "still_streaming" in seen, seen
    assert c.get("/api/battles/" + bid).json()["status"] == "ready"
    assert c.get("/api/leaderboard").json()["votes"] == 0


def test_admin_list_says_the_mode(agon_factory):
    from test_operations import admin_agon, auth
    agon = admin_agon(agon_factory, MODELS)
    c = agon.client()
    c.battle("anonymous")
    run_chosen(c, ["Amber-Wren-3B", "Nimbus-Delta-7B"], "named")
    run_chosen(c, ["Amber-Wren-3B"], "direct")
    rows = c.get("/api/admin/battles", headers=auth()).json()
    rows = rows["battles"] if isinstance(rows, dict) else rows
    got = sorted((b["mode"], b["model_b"] if b["mode"] != "anony" else "") for b in rows)
    assert got == [("anony", ""), ("direct", ""), ("named", "Nimbus-Delta-7B")], rows
