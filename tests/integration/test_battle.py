"""A battle from prompt to leaderboard, multi-turn histories, sessions, pages."""

import re
import threading

import pytest

from conftest import (Model, assert_error, expected_ratings, fake_backend,
                      two_echo_models)

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,}$")


def chat_msgs(body):
    """The user/assistant messages of a recorded upstream request."""
    return [(m["role"], m["content"]) for m in body["messages"] if m["role"] != "system"]


def requests_for(fake, upstream):
    return [r for r in fake.requests()
            if isinstance(r["body"], dict) and r["body"].get("model") == upstream]


def test_healthz_models_and_pages(arena):
    c = arena.client()
    r = c.get("/healthz")
    assert r.status == 200
    r = c.get("/api/models")
    assert r.status == 200
    assert (r.header("Content-Type") or "").startswith("application/json")
    names = sorted(m["name"] for m in r.json()["models"])
    assert names == sorted(m.name for m in arena.models)
    for path in ("/", "/leaderboard"):
        r = c.get(path)
        assert r.status == 200, (path, r)
        assert "text/html" in (r.header("Content-Type") or "")
    page = with_assets(c, "/")
    for hook in ("prompt", "send", "answer-a", "answer-b", "vote-a", "vote-b", "vote-tie",
                 "vote-bothbad", "model-a", "model-b", "new-battle"):
        assert has_hook(page, hook), hook
    assert has_hook(with_assets(c, "/leaderboard"), "leaderboard-row")
    for path in ("/", "/leaderboard"):
        assert not EXTERNAL.search(c.get(path).body.decode()), "external asset on " + path


EXTERNAL = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", re.I)


def with_assets(c, path):
    """A page plus the same-origin scripts and stylesheets it references."""
    page = c.get(path).body.decode()
    out = [page]
    for m in re.finditer(r"\b(?:src|href)\s*=\s*[\"'](/[^/\"'][^\"']*)[\"']", page):
        r = c.get(m.group(1))
        if r.status == 200:
            out.append(r.body.decode("utf-8", "replace"))
    return "\n".join(out)


def has_hook(text, hook):
    q = re.escape(hook)
    return bool(re.search(r"data-testid\s*=\s*[\"']%s[\"']" % q, text) or
                re.search(r"testid[^\n]{0,60}[\"'`]%s[\"'`]" % q, text, re.I))


def test_leaderboard_before_any_vote(arena):
    r = arena.client().get("/api/leaderboard")
    assert r.status == 200
    j = r.json()
    assert j["votes"] == 0
    assert j["updated_at"] is None or RFC3339.match(j["updated_at"]), j
    assert sorted(m["model"] for m in j["models"]) == sorted(m.name for m in arena.models)
    for m in j["models"]:
        assert m["elo"] == 1000
        assert (m["battles"], m["wins"], m["losses"], m["ties"]) == (0, 0, 0, 0)
    assert sorted(m["rank"] for m in j["models"])[0] == 1


def test_full_battle(arena, fake):
    c = arena.client()
    prompt = "Tell me about the sea, in ünïcødé 🌊 and \"quotes\" \\ and\nnewlines"
    r = c.new_battle(prompt)
    j = r.json()
    bid = j["id"]
    assert ID_RE.match(bid), bid
    assert j["events"] == "/api/battles/%s/events" % bid
    cookie = r.header("Set-Cookie")
    assert cookie and cookie.startswith("agon_session="), r.headers
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs, cookie

    es = c.events(j["events"])
    assert es.status == 200
    assert (dict((k.lower(), v) for k, v in es.headers)["content-type"]
            .startswith("text/event-stream"))
    assert es.closed, "the event stream must close after end"
    names = [e.name for e in es.events]
    assert names[-1] == "end", names
    assert es.end == {"turn": 1, "status": "ready"}, es.end
    done = sorted(e.data["side"] for e in es.of("done"))
    assert done == ["a", "b"]
    assert not es.of("error")
    for e in es.of("delta"):
        assert e.data["turn"] == 1 and e.data["side"] in ("a", "b")
    # Each side's text is exactly one model's echo answer.
    msgs = [{"role": "user", "content": prompt}]
    answers = {fake_backend.echo_answer(m.upstream, msgs) for m in arena.models}
    assert {es.text("a"), es.text("b")} == answers

    # The battle, before the vote.
    b = c.get("/api/battles/" + bid).json()
    assert b["id"] == bid and b["status"] == "ready"
    assert b["winner"] is None and b["models"] is None
    assert [{k: t[k] for k in ("prompt", "a", "b")} for t in b["turns"]] == \
        [{"prompt": prompt, "a": es.text("a"), "b": es.text("b")}]

    # A late subscriber gets the whole text, then end, then the stream closes.
    es2 = c.events(j["events"])
    assert es2.closed and es2.end == es.end
    assert es2.text("a") == es.text("a") and es2.text("b") == es.text("b")

    # Vote.
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert r.status == 200, r
    v = r.json()
    assert v["winner"] == "a"
    assert set(v["models"]) == {"a", "b"}
    a_name, b_name = v["models"]["a"], v["models"]["b"]
    assert {a_name, b_name} == {m.name for m in arena.models}
    # Side a really was a_name's model.
    assert es.text("a") == fake_backend.echo_answer(arena.upstream_of(a_name), msgs)
    assert v["elo"] == {a_name: pytest.approx(1002.0, abs=1e-9),
                        b_name: pytest.approx(998.0, abs=1e-9)}

    b = c.get("/api/battles/" + bid).json()
    assert b["status"] == "voted" and b["winner"] == "a"
    assert b["models"] == {"a": a_name, "b": b_name}

    lb = c.get("/api/leaderboard").json()
    assert lb["votes"] == 1
    assert RFC3339.match(lb["updated_at"]), lb["updated_at"]
    rows = lb["models"]
    assert [m["model"] for m in rows] == [a_name, b_name]
    assert [m["rank"] for m in rows] == [1, 2]
    assert rows[0]["elo"] == pytest.approx(1002.0, abs=1e-9)
    assert rows[1]["elo"] == pytest.approx(998.0, abs=1e-9)
    assert (rows[0]["battles"], rows[0]["wins"], rows[0]["losses"], rows[0]["ties"]) == (1, 1, 0, 0)
    assert (rows[1]["battles"], rows[1]["wins"], rows[1]["losses"], rows[1]["ties"]) == (1, 0, 1, 0)

    # What was sent upstream.
    for m in arena.models:
        reqs = requests_for(fake, m.upstream)
        assert len(reqs) == 1
        body = reqs[0]["body"]
        assert reqs[0]["path"] == "/v1/chat/completions"
        assert body["stream"] is True
        assert chat_msgs(body) == [("user", prompt)]
        assert reqs[0]["authorization"] is None  # no api_key_env configured


def test_elo_sequence_matches_fastchat(agon_factory):
    """Several votes of every kind among three models; K from the config."""
    models = [Model("m-one", "echo-one"), Model("m-two", "echo-two"), Model("m-three", "echo-three")]
    agon = agon_factory(models, k=16)
    c = agon.client()
    votes = []
    for i, w in enumerate(["a", "b", "tie", "bothbad", "a", "a", "b", "tie"]):
        bid, es = c.battle("question %d" % i)
        assert es.end["status"] == "ready"
        r = c.post("/api/battles/%s/vote" % bid, {"winner": w})
        assert r.status == 200, r
        v = r.json()
        votes.append((v["models"]["a"], v["models"]["b"], w))
        exp = expected_ratings(votes, k=16)
        for name, elo in v["elo"].items():
            assert elo == pytest.approx(exp[name], abs=1e-9), (i, name)
    exp = expected_ratings(votes, k=16, models=[m.name for m in models])
    lb = c.get("/api/leaderboard").json()
    assert lb["votes"] == len(votes)
    got = {m["model"]: m["elo"] for m in lb["models"]}
    assert got == {k: pytest.approx(v, abs=1e-9) for k, v in exp.items()}
    elos = [m["elo"] for m in lb["models"]]
    assert elos == sorted(elos, reverse=True)
    for row in lb["models"]:
        n = row["model"]
        wins = sum(1 for a, b, w in votes if (w == "a" and a == n) or (w == "b" and b == n))
        losses = sum(1 for a, b, w in votes if (w == "b" and a == n) or (w == "a" and b == n))
        ties = sum(1 for a, b, w in votes if w in ("tie", "bothbad") and n in (a, b))
        assert (row["wins"], row["losses"], row["ties"], row["battles"]) == \
            (wins, losses, ties, wins + losses + ties), row


def test_k_from_config(agon_factory):
    agon = agon_factory(two_echo_models(), k=32)
    c = agon.client()
    bid, es = c.battle("hi")
    v = c.post("/api/battles/%s/vote" % bid, {"winner": "b"}).json()
    assert v["elo"][v["models"]["b"]] == pytest.approx(1016.0, abs=1e-9)
    assert v["elo"][v["models"]["a"]] == pytest.approx(984.0, abs=1e-9)


def test_two_turns_each_side_has_its_own_history(arena, fake):
    c = arena.client()
    p1, p2 = "first question ☃", "second question, longer 😀"
    bid, es1 = c.battle(p1)
    assert es1.end == {"turn": 1, "status": "ready"}
    r = c.post("/api/battles/%s/turns" % bid, {"prompt": p2})
    assert r.status == 202, r
    es2 = c.events("/api/battles/%s/events" % bid)
    assert es2.closed
    assert es2.end == {"turn": 2, "status": "ready"}, es2.end
    assert {e.data["turn"] for e in es2.of("delta")} == {2}, "events must be for the latest turn"
    assert sorted(e.data["side"] for e in es2.of("done")) == ["a", "b"]

    b = c.get("/api/battles/" + bid).json()
    assert b["status"] == "ready"
    assert [t["prompt"] for t in b["turns"]] == [p1, p2]
    assert b["turns"][0]["a"] == es1.text("a") and b["turns"][0]["b"] == es1.text("b")
    assert b["turns"][1]["a"] == es2.text("a") and b["turns"][1]["b"] == es2.text("b")

    # Each upstream got: [p1], then [p1, its own answer 1, p2].
    for m in arena.models:
        reqs = requests_for(fake, m.upstream)
        assert len(reqs) == 2, reqs
        own1 = fake_backend.echo_answer(m.upstream, [{"role": "user", "content": p1}])
        assert chat_msgs(reqs[0]["body"]) == [("user", p1)]
        assert chat_msgs(reqs[1]["body"]) == [("user", p1), ("assistant", own1), ("user", p2)]
        hist = [{"role": r_, "content": t} for r_, t in chat_msgs(reqs[1]["body"])]
        own2 = fake_backend.echo_answer(m.upstream, hist)
        assert "turn 2 (3 messages)" in own2
        assert own2 in (es2.text("a"), es2.text("b"))

    v = c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).json()
    for side in ("a", "b"):
        up = arena.upstream_of(v["models"][side])
        assert b["turns"][0][side] == fake_backend.echo_answer(up, [{"role": "user", "content": p1}])
    assert v["elo"] == {v["models"]["a"]: 1000.0, v["models"]["b"]: 1000.0}


def test_answers_are_stored_without_a_watcher(arena):
    """Nobody reads the event stream: the answers are fetched and stored anyway."""
    c = arena.client()
    r = c.new_battle("nobody is watching")
    bid = r.json()["id"]
    b = c.wait_status(bid, ("ready", "failed"))
    assert b["status"] == "ready"
    t = b["turns"][0]
    assert "you said: nobody is watching" in t["a"] and "you said: nobody is watching" in t["b"]
    assert t["a"] != t["b"]


def test_session_cookie_and_ids(arena):
    c = arena.client()
    r1 = c.new_battle("one")
    assert r1.header("Set-Cookie")
    token = c.cookies["agon_session"]
    assert len(token) >= 22
    ids = {r1.json()["id"]}
    for i in range(4):
        r = c.new_battle("more %d" % i)
        sc = r.header("Set-Cookie")
        assert sc is None or ("agon_session=%s" % token) in sc, "session replaced: %s" % sc
        ids.add(r.json()["id"])
    assert len(ids) == 5
    assert all(ID_RE.match(i) for i in ids)
    other = arena.client()
    other.new_battle("two")
    assert other.cookies["agon_session"] != token


def test_concurrent_watchers_and_battles(agon_factory):
    """Two watchers of one live battle see the same thing; battles run in parallel."""
    agon = agon_factory([Model("Slow-One", "slow50-one"), Model("Slow-Two", "slow50-two")])
    c = agon.client()
    bid = c.new_battle("parallel").json()["id"]
    path = "/api/battles/%s/events" % bid
    res = [None, None]

    def watch(i):
        res[i] = c.events(path, timeout=20)

    ts = [threading.Thread(target=watch, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    others = [agon.client() for _ in range(4)]
    ob = [o.new_battle("other %d" % i).json()["id"] for i, o in enumerate(others)]
    for t in ts:
        t.join(30)
    for es in res:
        assert es is not None and es.closed
        assert es.end == {"turn": 1, "status": "ready"}
    assert res[0].text("a") == res[1].text("a") and res[0].text("b") == res[1].text("b")
    assert len(res[0].of("delta")) > 2, "a slow answer should arrive in several deltas"
    for o, i in zip(others, ob):
        assert o.wait_status(i, ("ready", "failed"), timeout=20)["status"] == "ready"


def test_stdout_is_exactly_the_listening_line(arena):
    c = arena.client()
    bid, es = c.battle("hello")
    c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    arena.stop()
    lines = [l for l in arena.stdout_lines() if l.strip()]
    assert lines == ["agon: listening on http://127.0.0.1:%d/" % arena.port], lines


def test_upstream_settings_are_sent(agon_factory, fake):
    models = [Model("Tuned", "echo-tuned", extra={"temperature": "0.25", "max_tokens": "77"}),
              Model("Plain", "echo-plain")]
    agon = agon_factory(models)
    agon.client().battle("settings")
    tuned = requests_for(fake, "echo-tuned")[0]["body"]
    assert tuned["temperature"] == pytest.approx(0.25)
    assert tuned["max_tokens"] == 77 or tuned.get("max_completion_tokens") == 77
    plain = requests_for(fake, "echo-plain")[0]["body"]
    assert plain["stream"] is True


def test_public_name_is_the_default_upstream_id(agon_factory, fake):
    models = [Model("echo-default-name"), Model("Other", "echo-other")]
    agon = agon_factory(models)
    bid, es = agon.client().battle("x")
    assert es.end["status"] == "ready"
    assert requests_for(fake, "echo-default-name")
