"""Anonymity before the vote, and API keys that never leave for anywhere but
their own backend."""

import secrets

from conftest import (Model, assert_error, assert_no_leak, fake_backend,
                      forbidden_strings)


def test_nothing_identifies_the_models_before_the_vote(agon_factory, fake):
    models = [Model("Nimbus-Delta-7B", "echo-nimbus-upstream-31"),
              Model("Cobalt-Quill-13B", "slow20-cobalt-upstream-77")]
    agon = agon_factory(models)
    capture = []
    c = agon.client(capture=capture)
    intruder = agon.client(capture=capture)

    # Everything a browser would fetch and do before voting.
    for path in ("/", "/healthz"):
        c.get(path)
    r = c.new_battle("Who are you? Tell me your name.")
    bid = r.json()["id"]
    # Poking at it while it streams.
    c.get("/api/battles/" + bid)
    c.post("/api/battles/%s/vote" % bid, {"winner": "a"})            # 409 streaming
    es = c.events(r.json()["events"])
    assert es.end == {"turn": 1, "status": "ready"}
    c.get("/api/battles/" + bid)
    c.post("/api/battles/%s/vote" % bid, {"winner": "nobody"})       # 400
    intruder.post("/api/battles/%s/vote" % bid, {"winner": "a"})     # 403
    intruder.post("/api/battles/%s/turns" % bid, {"prompt": "x"})    # 403
    intruder.get("/api/battles/" + bid)
    intruder.events("/api/battles/%s/events" % bid)
    assert c.post("/api/battles/%s/turns" % bid, {"prompt": "And your maker?"}).status == 202
    c.get("/api/battles/" + bid)
    es2 = c.events("/api/battles/%s/events" % bid)
    assert es2.end == {"turn": 2, "status": "ready"}
    c.get("/api/battles/" + bid)
    c.events("/api/battles/%s/events" % bid)  # replay after the end

    assert len(capture) >= 15
    forbidden = forbidden_strings(agon, fake) + ["fp_echo", "fp_slow", "chatcmpl-", "X-Upstream-Model",
                                                 "system_fingerprint"]
    assert_no_leak(capture, forbidden, "a response before the vote")

    # After the vote the names are revealed (and only then).
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "b"})
    assert r.status == 200
    assert set(r.json()["models"].values()) == {m.name for m in models}
    b = c.get("/api/battles/" + bid).json()
    assert set(b["models"].values()) == {m.name for m in models}
    # Upstream ids and URLs are never revealed, not even after the vote.
    assert_no_leak([r.raw(), c.get("/api/battles/" + bid).raw()],
                   [m.upstream for m in models] + [fake.api_base], "a response after the vote")


def test_api_key_goes_only_to_its_backend(agon_factory, fake):
    key = "sk-alpha-" + secrets.token_hex(12)
    models = [Model("Keyed-Alpha", "echo-keyed-alpha", api_key_env="FAKE_KEY_ALPHA"),
              Model("Keyless-Beta", "echo-keyless-beta")]
    agon = agon_factory(models, start=False)
    agon.env["FAKE_KEY_ALPHA"] = key
    agon.start()
    capture = []
    c = agon.client(capture=capture)
    for i in range(2):
        bid, es = c.battle("key check %d" % i)
        assert es.end["status"] == "ready"
        c.get("/api/battles/" + bid)
        c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
        c.get("/api/battles/" + bid)
    for path in ("/", "/leaderboard", "/api/leaderboard", "/api/models", "/healthz"):
        c.get(path)

    reqs = fake.requests()
    keyed = [r for r in reqs if r["body"]["model"] == "echo-keyed-alpha"]
    keyless = [r for r in reqs if r["body"]["model"] == "echo-keyless-beta"]
    assert len(keyed) == 2 and len(keyless) == 2
    assert all(r["authorization"] == "Bearer " + key for r in keyed), keyed
    assert all(r["authorization"] is None for r in keyless), keyless
    for r in reqs:
        assert key not in str(r["body"])

    # A failing keyed backend: the key must not surface in errors or logs either.
    agon.stop()
    agon.write_config([Model("Keyed-Alpha", "fail401-keyed-alpha", api_key_env="FAKE_KEY_ALPHA"),
                       Model("Keyless-Beta", "echo-keyless-beta")])
    agon.start()
    c2 = agon.client(capture=capture)
    bid, es = c2.battle("fail with key")
    assert es.end["status"] == "failed"
    assert [r["authorization"] for r in fake.requests()
            if r["body"]["model"] == "fail401-keyed-alpha"] == ["Bearer " + key]
    agon.stop()

    assert_no_leak(capture, [key], "HTTP output")
    assert_no_leak("\n".join(agon.stdout_lines()), [key], "agon's stdout")
    assert_no_leak(agon.all_stderr(), [key], "agon's stderr")
    assert key.encode() not in agon.stored_bytes(), "the key is stored in the database"


def test_provider_error_text_not_in_battle_after_failure(agon_factory, fake):
    agon = agon_factory([Model("Good-One", "echo-good"), Model("Bad-One", "errorobj-bad")])
    capture = []
    c = agon.client(capture=capture)
    bid, es = c.battle("hello")
    assert es.end["status"] == "failed"
    c.get("/api/battles/" + bid)
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    c.events("/api/battles/%s/events" % bid)
    assert_no_leak(capture, forbidden_strings(agon, fake), "output")
