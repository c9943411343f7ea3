"""Every error status of the HTTP API, each with {"error": {"code", "message"}}."""

import json

import pytest

from conftest import Model, assert_error, new_id, two_echo_models


def test_415_without_json_content_type(arena):
    c = arena.client()
    body = json.dumps({"prompt": "hi"})
    assert_error(c.request("POST", "/api/battles", body=body, content_type=None), 415)
    assert_error(c.request("POST", "/api/battles", body=body, content_type="text/plain"), 415)
    assert_error(c.request("POST", "/api/battles", body=body,
                           content_type="application/x-www-form-urlencoded"), 415)
    # A charset parameter is still JSON.
    r = c.request("POST", "/api/battles", body=body, content_type="application/json; charset=utf-8")
    assert r.status == 201, r
    bid = r.json()["id"]
    c.wait_status(bid, ("ready",))
    assert_error(c.request("POST", "/api/battles/%s/vote" % bid, body='{"winner":"a"}',
                           content_type="text/plain"), 415)
    assert_error(c.request("POST", "/api/battles/%s/turns" % bid, body='{"prompt":"x"}',
                           content_type=None), 415)


def test_413_over_256_kib(arena):
    c = arena.client()
    big = json.dumps({"prompt": "x" * (256 * 1024)})
    assert len(big) > 256 * 1024
    assert_error(c.request("POST", "/api/battles", body=big), 413)
    # Without a Content-Length (chunked request body) too.
    assert_error(c.request("POST", "/api/battles", body=big.encode(), chunked=True), 413)
    # Much bigger still: the server must not read it all into memory first.
    huge = b'{"prompt": "' + b"y" * (8 * 1024 * 1024) + b'"}'
    try:
        r = c.request("POST", "/api/battles", body=huge, timeout=20)
        assert_error(r, 413)
    except (ConnectionResetError, BrokenPipeError):
        pass  # closing the connection early on a huge body is fine
    assert c.get("/healthz").status == 200


@pytest.mark.parametrize("body", [
    b"{", b"", b"[]", b'"prompt"', b"null", b'{"prompt": 12}', b'{"prompt": null}',
    b'{"prompt": ""}', b'{"prompt": ["a"]}', b'{"text": "hi"}', b'{"prompt": "\xff\xfe"}',
])
def test_400_bad_battle_body(arena, body):
    c = arena.client()
    assert_error(c.request("POST", "/api/battles", body=body), 400)


def test_prompt_length_is_counted_in_characters(arena):
    c = arena.client()
    assert_error(c.post("/api/battles", {"prompt": "x" * 30001}), 400)
    assert c.post("/api/battles", {"prompt": "x" * 30000}).status == 201
    # 30,000 characters of two bytes each: 60,000 bytes, still allowed.
    r = c.post("/api/battles", {"prompt": "é" * 30000})
    assert r.status == 201, r
    # 4-byte characters in raw UTF-8 (as \u escapes, 30,000 of them would be
    # 360,000 bytes: over the body limit).
    raw = json.dumps({"prompt": "😀" * 30000}, ensure_ascii=False).encode()
    assert c.request("POST", "/api/battles", body=raw).status == 201
    raw = json.dumps({"prompt": "😀" * 30001}, ensure_ascii=False).encode()
    assert_error(c.request("POST", "/api/battles", body=raw), 400)
    # Escaped surrogate pairs count as one character each.
    assert c.post("/api/battles", {"prompt": "😀" * 20000}).status == 201


def test_404_unknown_battle(arena):
    c = arena.client()
    c.new_battle("make a session")
    bid = new_id()
    assert_error(c.get("/api/battles/" + bid), 404)
    assert_error(c.get("/api/battles/%s/events" % bid), 404)
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 404)
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "x"}), 404)
    assert_error(c.get("/api/nothing-here"), 404)


def test_400_bad_winner(arena):
    c = arena.client()
    bid, es = c.battle("hi")
    for body in ({"winner": "c"}, {"winner": "A"}, {"winner": 1}, {}, {"winner": None}):
        assert_error(c.post("/api/battles/%s/vote" % bid, body), 400)
    assert_error(c.request("POST", "/api/battles/%s/vote" % bid, body=b"{bad"), 400)
    # The battle can still be voted on.
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "bothbad"}).status == 200


def test_400_bad_turn_prompt(arena):
    c = arena.client()
    bid, es = c.battle("hi")
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": ""}), 400)
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "x" * 30001}), 400)
    assert_error(c.request("POST", "/api/battles/%s/turns" % bid, body=b"nope"), 400)


def test_403_other_session(arena):
    owner = arena.client()
    bid, es = owner.battle("mine")
    intruder = arena.client()
    intruder.new_battle("has its own session")
    assert_error(intruder.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 403)
    assert_error(intruder.post("/api/battles/%s/turns" % bid, {"prompt": "x"}), 403)
    nobody = arena.client()  # no cookie at all
    assert_error(nobody.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 403)
    forged = arena.client()
    forged.cookies["agon_session"] = new_id()
    assert_error(forged.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 403)
    # None of that counted: the owner can still vote, once.
    assert owner.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    lb = owner.get("/api/leaderboard").json()
    assert lb["votes"] == 1


def test_409_already_voted(arena):
    c = arena.client()
    bid, es = c.battle("hi")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "b"}), 409)
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "more"}), 409)
    assert c.get("/api/leaderboard").json()["votes"] == 1


def test_409_while_streaming(agon_factory):
    agon = agon_factory([Model("Slow-A", "slow150-a", timeout=20),
                         Model("Slow-B", "slow150-b", timeout=20)])
    c = agon.client()
    bid = c.new_battle("take your time").json()["id"]
    assert c.get("/api/battles/" + bid).json()["status"] == "streaming"
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "more"}), 409)
    b = c.wait_status(bid, ("ready", "failed"), timeout=30)
    assert b["status"] == "ready"
    # The second turn streams too: no vote and no third turn meanwhile.
    assert c.post("/api/battles/%s/turns" % bid, {"prompt": "more"}).status == 202
    assert c.get("/api/battles/" + bid).json()["status"] == "streaming"
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "again"}), 409)
    c.wait_status(bid, ("ready",), timeout=30)
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200


def test_503_fewer_than_two_enabled_models(agon_factory):
    agon = agon_factory([Model("Only-One", "echo-one"),
                         Model("Switched-Off", "echo-off", enabled=False)])
    c = agon.client()
    assert_error(c.post("/api/battles", {"prompt": "hi"}), 503)
    assert [m["name"] for m in c.get("/api/models").json()["models"]] == ["Only-One"]
    lb = c.get("/api/leaderboard").json()
    assert [m["model"] for m in lb["models"]] == ["Only-One"]
    assert c.get("/healthz").status == 200


def test_disabled_model_is_never_paired(agon_factory, fake):
    agon = agon_factory([Model("On-1", "echo-on1"), Model("On-2", "echo-on2"),
                         Model("Off-3", "echo-off3", enabled=False)])
    c = agon.client()
    for i in range(6):
        c.battle("pair %d" % i)
    used = {r["body"]["model"] for r in fake.requests()}
    assert used == {"echo-on1", "echo-on2"}


def test_pairing_is_random_in_order(agon_factory):
    agon = agon_factory(two_echo_models())
    c = agon.client()
    seen = set()
    for i in range(16):
        bid, es = c.battle("order %d" % i)
        v = c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).json()
        seen.add(v["models"]["a"])
        if len(seen) == 2:
            break
    assert len(seen) == 2, "the same model was side a in 16 battles"
