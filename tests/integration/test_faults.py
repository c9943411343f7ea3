"""Upstream faults, one side of a battle each: the battle fails cleanly (or is
ready where the stream was valid), nothing identifies the models, the vote is
refused, and the server stays healthy."""

import pytest

from conftest import (Model, assert_error, assert_no_leak, closed_port, expected_answers,
                      fake_backend, forbidden_strings)

HTTP = "the model's service answered with HTTP %d"
IN_TIME = "the model did not finish its answer in time"
TOO_LONG = "the answer was longer than this arena allows"
BROKE_OFF = "the answer stream broke off"
MALFORMED = "the model sent a malformed answer stream"
# what the other side of a battle says when it was stopped for this one
STOPPED = "stopped because the other answer failed"

# upstream id of the faulty model -> (acceptable end statuses, its timeout,
# [limits], the faulty side's public message when the battle failed)
FAULTS = {
    "fail500-beta": ({"failed"}, 3, None, HTTP % 500),
    "fail429-beta": ({"failed"}, 3, None, HTTP % 429),
    "fail401-beta": ({"failed"}, 3, None, HTTP % 401),
    "fail503-beta": ({"failed"}, 3, None, HTTP % 503),
    "cut-beta": ({"failed"}, 3, None, BROKE_OFF),
    "malformed-beta": ({"failed"}, 3, None, MALFORMED),
    # silent upstreams: ended by the model's timeout, nothing else
    "hang-beta": ({"failed"}, 2, None, IN_TIME),
    "noanswer-beta": ({"failed"}, 2, None, IN_TIME),
    "stall-beta": ({"failed"}, 2, None, IN_TIME),
    "errorobj-beta": ({"failed"}, 3, None, "the model's service reported an error"),
    "big-beta": ({"failed"}, 5, None, TOO_LONG),             # 3 MB > the 1 MiB default cap
    "big-40000-beta": ({"failed"}, 3, {"max_answer_bytes": 20000}, TOO_LONG),
    "badutf8-beta": ({"failed", "ready"}, 3, None, MALFORMED),
    "nodone-beta": ({"failed", "ready"}, 3, None, BROKE_OFF),
    "refused": ({"failed"}, 3, None, "the model could not be reached"),
}


def _models(fake, upstream, timeout):
    bad = Model("Zephyr-Faulty-9B", upstream, timeout=timeout)
    if upstream == "refused":
        bad.upstream = "echo-refused-up"
        bad.base_url = "http://127.0.0.1:%d/v1" % closed_port()
    return [Model("Aurora-Steady-3B", "echo-steady-up", timeout=3), bad]


@pytest.mark.parametrize("upstream", sorted(FAULTS))
def test_fault(agon_factory, fake, upstream):
    statuses, timeout, limits, message = FAULTS[upstream]
    agon = agon_factory(_models(fake, upstream, timeout), limits=limits)
    capture = []
    c = agon.client(capture=capture)
    r = c.new_battle("Please answer this")
    bid = r.json()["id"]
    es = c.events(r.json()["events"], timeout=timeout + 10)
    assert es.status == 200
    assert es.closed, "no end of stream within %ss: %r" % (timeout + 10, es.raw[-300:])
    assert es.end is not None and es.end["turn"] == 1, es.events[-3:]
    assert es.end["status"] in statuses, es.end
    if es.end["status"] == "failed":
        # The faulty side failed for its own fault (a silent upstream: by its
        # timeout); the steady side, if it was still answering, was stopped.
        said = sorted(e.data["message"] for e in es.of("error"))
        assert said in ([message], sorted([message, STOPPED])), said

    b = c.get("/api/battles/" + bid)
    assert b.json()["status"] == es.end["status"]
    # A replay after the end tells the same story.
    rep = c.events(r.json()["events"])
    assert rep.closed and rep.end == es.end
    assert sorted((e.name, e.data["side"]) for e in rep.events if e.name in ("done", "error")) == \
        sorted((e.name, e.data["side"]) for e in es.events if e.name in ("done", "error"))
    errors = es.of("error")
    if es.end["status"] == "failed":
        assert errors, "a failed battle without an error event"
        for e in errors:
            assert e.data["side"] in ("a", "b") and e.data["turn"] == 1
            assert isinstance(e.data["message"], str) and e.data["message"].strip()
        assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
        assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "again"}), 409)
        assert c.get("/api/battles/" + bid).json()["models"] is None
        # Nothing identifies the models or the endpoint, anywhere.
        assert_no_leak(capture, forbidden_strings(agon, fake), "output about a failed battle")
    else:
        assert not errors
        # A valid stream: the whole answer, as text (valid UTF-8 in the event JSON).
        assert sorted(e.data["side"] for e in es.of("done")) == ["a", "b"]
        assert_no_leak(capture, forbidden_strings(agon, fake), "output before the vote")
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200

    # The server is still healthy and still serves battles.
    assert c.get("/healthz").status == 200
    assert agon.alive()
    r = c.post("/api/battles", {"prompt": "still alive?"})
    assert r.status == 201


def test_both_sides_fail(agon_factory, fake):
    agon = agon_factory([Model("Fail-One", "fail500-one"), Model("Fail-Two", "cut-two")])
    c = agon.client()
    bid, es = c.battle("x")
    assert es.end == {"turn": 1, "status": "failed"}
    assert sorted(e.data["side"] for e in es.of("error")) == ["a", "b"]
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}), 409)


def test_failure_in_second_turn(agon_factory, fake):
    """The first turn works, the second fails: the battle is failed, not votable."""
    agon = agon_factory([Model("Steady", "echo-steady2"), Model("Flaky", "failturn2-flaky")])
    c = agon.client()
    bid, es = c.battle("turn one")
    assert es.end == {"turn": 1, "status": "ready"}
    r = c.post("/api/battles/%s/turns" % bid, {"prompt": "turn two"})
    assert r.status == 202, r
    es2 = c.events("/api/battles/%s/events" % bid)
    assert es2.end == {"turn": 2, "status": "failed"}, es2.end
    assert es2.of("error") and {e.data["turn"] for e in es2.of("error")} == {2}
    assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "three"}), 409)
    b = c.get("/api/battles/" + bid).json()
    assert b["status"] == "failed" and b["models"] is None
    assert_no_leak(str(b), forbidden_strings(agon, fake))


def test_big_answer_within_cap(agon_factory, fake):
    """3 MB answers stream through completely when the cap allows them."""
    agon = agon_factory([Model("Large-1", "big-one", timeout=20), Model("Large-2", "big-two-alt", timeout=20)],
                        limits={"max_answer_bytes": 8 * 1024 * 1024})
    c = agon.client()
    bid, es = c.battle("a lot please", timeout=40)
    assert es.end == {"turn": 1, "status": "ready"}, es.end
    assert len(es.text("a")) == fake_backend.BIG_DEFAULT
    assert len(es.text("b")) == fake_backend.BIG_DEFAULT
    b = c.get("/api/battles/" + bid).json()
    assert len(b["turns"][0]["a"]) == fake_backend.BIG_DEFAULT


def assert_echo_battle(agon_factory, models, prompt):
    """A battle of models whose upstreams answer like echo, however they
    send it, is ready with each one's whole answer."""
    c = agon_factory(models).client()
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, es.end
    assert {es.text("a"), es.text("b")} == expected_answers(prompt, models)


def test_multiline_data_fields(agon_factory, fake):
    """JSON split over several data: lines of one event is one payload."""
    assert_echo_battle(agon_factory, [Model("Multi-1", "multiline-one"),
                                      Model("Multi-2", "multiline-two")], "split me")


def test_slow_timeout_applies_to_whole_answer(agon_factory, fake):
    """timeout is for one whole answer: a stream that keeps trickling past it fails."""
    # slow400: ~16 content chunks at 0.4 s each, about 6.5 s in all, timeout 2 s.
    agon = agon_factory([Model("Quick", "echo-quick"), Model("Trickle", "slow400-trickle", timeout=2)])
    c = agon.client()
    bid, es = c.battle("trickle", timeout=15)
    assert es.end["status"] == "failed", es.end
    # The trickle was cut by its timeout after some of it came: pieces of
    # its answer, then the error, and never the whole answer.
    (err,) = es.of("error")
    assert err.data["message"] == IN_TIME, err.data
    side = err.data["side"]
    pieces = [i for i, e in enumerate(es.events)
              if e.name == "delta" and e.data["side"] == side]
    assert pieces and pieces[-1] < es.events.index(err), es.events
    msgs = [{"role": "user", "content": "trickle"}]
    whole = fake_backend.echo_answer("slow400-trickle", msgs)
    assert es.text(side) and whole.startswith(es.text(side)) and es.text(side) != whole


def test_backend_that_ignores_stream(agon_factory, fake):
    """A backend answering one chat.completion object instead of a stream still works."""
    assert_echo_battle(agon_factory, [Model("Plain-1", "nostream-one"),
                                      Model("Plain-2", "echo-two")], "no stream")
