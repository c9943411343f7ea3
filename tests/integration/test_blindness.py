"""Blind on every public surface (issue 11): nothing public changes in a way
that depends on which models a battle holds until that battle is voted.

The sampler reads every public endpoint (API, pages, /metrics, judge boards,
/api/judges, the slices' boards, headers) before a battle and again once its
answers have ended and an auto judge has judged it (an auto tagger is asked
nothing before the vote), and requires the two samples to be equal
once the fields that move with any request (request counters, timestamps,
database write counts) are set aside. After the vote, the per-model figures
move: the sampler would have seen the change."""

import json
import re
import time

from conftest import Model, metric, wait_for
from test_judges import add_judges, fitted, judges_api

# each with a model card (issue 14): public on /api/models and the boards,
# beside a battle only once it is voted
CARD = {"organization": "Test Org", "license": "MIT", "open_weights": "true",
        "url": "https://example.org/m"}
MODELS = [Model("Long-Lynx-70B", "pad120-lynx", extra=dict(CARD, context="8192")),
          Model("Short-Shrew-7B", "echo-shrew", extra=dict(CARD, price="free")),
          Model("Mid-Marten-30B", "pad40-marten", extra=dict(CARD, license="Apache-2.0"))]
JUDGE = "longer"

PUBLIC_GETS = ["/", "/leaderboard", "/healthz", "/metrics", "/api/models",
               "/api/leaderboard", "/api/leaderboard?sort=bt",
               "/api/leaderboard/matrix", "/api/judges",
               "/api/leaderboard?source=judge&judge=" + JUDGE,
               "/api/leaderboard/slices", "/api/leaderboard?language=en",
               "/api/leaderboard/matrix?language=en",
               "/leaderboard?language=en&category=coding&style=control",
               "/api/leaderboard?category=math",
               "/api/leaderboard?style=control",
               "/api/leaderboard?style=control&language=en",
               "/api/arena", "/api/leaderboard/mine",
               "/api/shared/" + "0" * 32, "/s/" + "0" * 32,
               "/api/leaderboard?open_weights=true",
               "/api/leaderboard?open_weights=true&language=en",
               "/api/leaderboard/matrix?open_weights=true",
               "/api/leaderboard/history"]
# and GET /api/leaderboard?as_of=T for an instant T after the first vote
# (added to PUBLIC_GETS once known)

# Lines of /metrics that move with any request or write, whichever models
# a battle holds. agon_battles_cached_bytes moves with every battle, by
# the size of what its voter reads and no more: see
# test_cached_bytes_count_only_what_the_voter_reads.
VOLATILE_METRICS = re.compile(
    r"^(agon_http_requests_total|agon_db_write_seconds|agon_db_writes_total|"
    r"agon_streams_open|agon_upstream_active|agon_battles_streaming|"
    r"agon_battles_cached_bytes)")
# JSON fields that are times, or counts of judgments held back.
VOLATILE_FIELDS = {"updated_at", "bt_updated_at", "pending"}
VOLATILE_HEADERS = {"date", "content-length", "set-cookie"}


def strip(obj):
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k not in VOLATILE_FIELDS}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    return obj


def sample(c):
    out = {}
    for path in PUBLIC_GETS:
        r = c.get(path)
        headers = sorted((k.lower(), v) for k, v in r.headers
                         if k.lower() not in VOLATILE_HEADERS)
        body = r.body.decode("utf-8", "replace")
        if path == "/metrics":
            body = "\n".join(l for l in body.splitlines()
                             if not VOLATILE_METRICS.match(l))
        elif "json" in (r.header("Content-Type") or ""):
            body = strip(json.loads(body))
        out[path] = (r.status, headers, body)
    return out


def settle(c):
    """Wait until the background work of the last vote is done: the tagger
    has tagged it, and the BT fits of the human board, of the judge's, of
    the English slice and of the tagger's category cover all their votes,
    so that a sample is stable."""
    boards = ("/api/leaderboard", "/api/leaderboard?source=judge&judge=" + JUDGE,
              "/api/leaderboard?language=en")
    wait_for(lambda: metric(c, "agon_tag_queue") == 0, 30, "the tagger")

    def math_fitted():
        lb = c.get("/api/leaderboard?category=math").json()
        return lb["bt_votes"] == lb["slice"]["votes"]
    def style_fitted(query, plain):
        lb = c.get("/api/leaderboard?" + query).json()
        votes = c.get(plain).json()
        votes = votes["slice"]["votes"] if votes.get("slice") else votes["votes"]
        return not lb["style"]["pending"] and lb["bt_votes"] == votes
    def open_fitted():
        # every model has open weights: the open board is the whole one's
        whole = c.get("/api/leaderboard").json()["bt_votes"]
        lb = c.get("/api/leaderboard?open_weights=true").json()
        return lb["pending"] is False and lb["bt_votes"] == whole
    def history_done():
        votes = c.get("/api/leaderboard").json()["votes"]
        h = c.get("/api/leaderboard/history").json()
        return h["pending"] is False and h["votes"] == votes and all(
            not c.get(p).json()["pending"] for p in PUBLIC_GETS if "as_of=" in p)
    wait_for(lambda: all(fitted(c.get(b).json()) for b in boards) and math_fitted()
             and open_fitted() and history_done()
             and style_fitted("style=control", "/api/leaderboard")
             and style_fitted("style=control&language=en",
                              "/api/leaderboard?language=en"),
             30, "the fits of every vote")


def model_lines(metrics_text, model):
    return sorted(l for l in metrics_text.splitlines()
                  if '"%s"' % model in l and not l.startswith("#"))


def test_public_surfaces_do_not_move_before_the_vote(agon_factory, fake):
    agon = agon_factory(MODELS, start=False)
    add_judges(agon, [(JUDGE, "judge-longer-1", {"auto": True})])
    # an auto tagger that puts every battle in math
    with open(agon.config, "a") as f:
        f.write("\n[tagger every]\nbase_url = %s\nmodel = tag-yes-1\ncategories = math\n"
                % fake.api_base)
    agon.start()
    c = agon.client()

    # A first battle, voted, so that every per-model series, the judge
    # board and the math slice already exist.
    bid, es = c.battle("Warm up, please.")
    assert es.end["status"] == "ready"
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    deadline = time.monotonic() + 30
    while judges_api(c)[JUDGE]["judged"] < 1:
        assert time.monotonic() < deadline, judges_api(c)
        time.sleep(0.05)
    time.sleep(0.01)
    t = time.time()
    PUBLIC_GETS.append("/api/leaderboard?as_of=" + time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000))

    for rnd in range(3):
        settle(c)
        before = sample(c)
        bid, es = c.battle("Round %d: explain tides in two sentences." % rnd)
        assert es.end == {"turn": 1, "status": "ready"}
        # The auto judge has judged it (stored, held back).
        deadline = time.monotonic() + 30
        while judges_api(c)[JUDGE]["pending"] < 1:
            assert time.monotonic() < deadline, judges_api(c)
            time.sleep(0.05)
        after = sample(c)
        # a battle not voted has no cards (they would name its models)
        assert c.get("/api/battles/" + bid).json()["cards"] is None
        for path in PUBLIC_GETS:
            assert before[path] == after[path], (
                "%s changed before the vote:\nbefore: %r\nafter:  %r"
                % (path, before[path], after[path]))

        # The vote reveals: now the per-model series of both models move.
        r = c.post("/api/battles/%s/vote" % bid, {"winner": "b"})
        assert r.status == 200, r
        models = r.json()["models"]
        revealed = c.get("/metrics").body.decode()
        for m in models.values():
            assert (model_lines(revealed, m)
                    != model_lines(before["/metrics"][2], m)), m
        started = [l for l in revealed.splitlines()
                   if l.startswith("agon_battles_started_total")]
        assert sum(int(l.split()[-1]) for l in started) == 2 * (rnd + 2), started
        deadline = time.monotonic() + 30
        while judges_api(c)[JUDGE]["pending"] > 0:
            assert time.monotonic() < deadline, judges_api(c)
            time.sleep(0.05)
        assert judges_api(c)[JUDGE]["judged"] == rnd + 2
        # and the tagger put it in math
        wait_for(lambda: c.get("/api/leaderboard?category=math").json()["slice"]["votes"]
                 == rnd + 2, 30, "the vote in the math slice")
    # the English slice sampled above held these battles
    assert c.get("/api/leaderboard?language=en").json()["votes"] >= 3


def test_cached_bytes_count_only_what_the_voter_reads(agon_factory, fake):
    """The bytes of the battles in memory (/metrics) count a blind battle's
    prompt, answers and HTML, which its voter reads, and not its reasoning,
    which would tell a reasoning model: a battle with one is counted as one
    without, whose answers are as long (the echo answers of the fake are),
    until it is voted."""
    pairs = {"thinking": [Model("Deep-Thinker", "reasoning-thinker"),
                          Model("Plain-Pika", "echo-pika")],
             "plain": [Model("Deep-Thinker", "echo-thinker"),
                       Model("Plain-Pika", "echo-pika")]}
    cached, clients, bids = {}, {}, {}
    for name, models in pairs.items():
        agon = agon_factory(models, sub=name)
        c = clients[name] = agon.client()
        bids[name], es = c.battle("Explain tides in two sentences.")
        assert es.end == {"turn": 1, "status": "ready"}
        cached[name] = metric(c, "agon_battles_cached_bytes")
        assert cached[name] > 0
    assert cached["thinking"] == cached["plain"], cached

    # voted, the reasoning is shown, and counted once read back
    for name, c in clients.items():
        assert c.post("/api/battles/%s/vote" % bids[name], {"winner": "a"}).status == 200
        turn = c.get("/api/battles/" + bids[name]).json()["turns"][0]
        shown = [turn[s + "_reasoning"] for s in "ab" if turn[s + "_reasoning"]]
        assert len(shown) == (name == "thinking"), turn
        cached[name] = metric(c, "agon_battles_cached_bytes")
    assert cached["thinking"] > cached["plain"], cached


def test_failed_battle_metrics_count_at_once(agon_factory, fake):
    """A battle that failed can no longer be voted: its sides are counted
    (without retries, a failed side fails the battle at once)."""
    agon = agon_factory([Model("Broken-Bear", "fail500-bear"),
                         Model("Fine-Fox", "echo-fox")],
                        limits={"max_side_retries": 0})
    c = agon.client()
    bid, es = c.battle("Hello")
    assert es.end["status"] == "failed"
    text = c.get("/metrics").body.decode()
    assert 'agon_battles_failed_total{model="Broken-Bear"} 1' in text, text
    assert 'agon_battles_started_total{model="Fine-Fox"} 1' in text, text


def test_battle_mode_and_identical_tell_nothing_of_the_models(agon_factory):
    """What issue 14 added to an anonymous battle's public view (its
    "mode", "identical" for it and each turn, "identical" in `end` only
    when true) is the same whichever models it holds, as long as their
    answers differ; "identical" follows the public answers alone."""
    pairs = {"short": [Model("Long-Lynx-70B", "pad120-lynx"),
                       Model("Short-Shrew-7B", "echo-shrew")],
             "reasoning": [Model("Deep-Thinker", "reasoning-thinker"),
                           Model("Mid-Marten-30B", "pad40-marten")]}
    seen = {}
    for name, models in pairs.items():
        c = agon_factory(models, sub=name).client()
        bid, es = c.battle("Explain tides in two sentences.")
        g = c.get("/api/battles/" + bid).json()
        seen[name] = (es.end, sorted(g), g["mode"], g["identical"], g["models"],
                      [(sorted(t), t["identical"]) for t in g["turns"]])
    assert seen["short"] == seen["reasoning"], seen
    assert seen["short"][0] == {"turn": 1, "status": "ready"}
    assert seen["short"][2:5] == ("anony", False, None)


def reply_of(r):
    return (r.status, tuple(sorted((k.lower(), v) for k, v in r.headers
                                   if k.lower() not in VOLATILE_HEADERS)), r.body)


def test_share_and_own_board_before_the_vote(agon_factory):
    """Sharing is refused before the vote with the same reply for every
    battle, whatever it holds (to its owner, to another session, to a
    client without one); the session's own board never shows an unvoted
    battle, and moves only with a vote."""
    agon = agon_factory(MODELS)
    c = agon.client()
    c.get("/")
    other = agon.client()
    other.get("/")
    from conftest import Client
    nobody = Client(agon.url)
    bid, es = c.battle("Warm up, please.")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    board = c.get("/api/leaderboard/mine").json()
    assert board["votes"] == 1
    replies, pairs = {}, set()
    for i in range(12):
        bid, es = c.battle("Round %d: say something." % i)
        assert es.end["status"] == "ready"
        got = []
        for who in (c, other, nobody):
            got.append(reply_of(who.post("/api/battles/%s/share" % bid, {})))
            got.append(reply_of(who.request("DELETE", "/api/battles/%s/share" % bid)))
        assert got[0][0] == 409 and json.loads(got[0][2])["error"]["code"] == "battle_not_voted"
        assert got[2][0] == 403 and got[4][0] == 403
        replies.setdefault(tuple(got), []).append(bid)
        # the owner's own board: as it was
        assert c.get("/api/leaderboard/mine").json() == board
        assert other.get("/api/leaderboard/mine").json()["votes"] == 0
        r = c.post("/api/battles/%s/vote" % bid, {"winner": "tie"})
        assert r.status == 200
        pairs.add(tuple(sorted(r.json()["models"].values())))
        board = c.get("/api/leaderboard/mine").json()
        assert board["votes"] == i + 2
    assert len(pairs) > 1, pairs  # battles of several pairs were refused
    assert len(replies) == 1, replies
def test_retry_and_regenerate_are_blind_until_the_vote(agon_factory, fake):
    """A battle with one failed side waits for a retry (status "retry"):
    it can still be voted once retried, so nothing public moves, the failed
    model's metrics included, through the retry with another model and a
    regenerate, until the vote; the battle's own GET and events name no
    model. Then the vote reveals the failed model's metrics too."""
    models = [Model("Broken-Bear", "fail500-bear"), Model("Fine-Fox", "echo-fox"),
              Model("Spare-Stoat", "pad40-stoat")]
    agon = agon_factory(models)
    c = agon.client()
    names = [m.name for m in models] + [m.upstream for m in models]
    # the style board's first fit (of no votes), started by the first
    # sample, done
    sample(c)
    wait_for(lambda: "bt_fit" in c.get("/api/leaderboard?style=control").json(), 30,
             "the style board's first fit")
    # and the history's first computation (of no votes), computed in the
    # background too: it answers {} until then
    wait_for(lambda: c.get("/api/leaderboard/history").json().get("pending") is False, 30,
             "the history's first computation")
    before = sample(c)
    for _ in range(20):
        bid, es = c.battle("Explain tides in two sentences.")
        if es.end["status"] == "retry":
            break
    assert es.end["status"] == "retry", es.end
    seen = [c.get("/api/battles/" + bid).body.decode(), es.raw.decode()]
    r = c.post("/api/battles/%s/retry" % bid, {})
    assert r.status == 202, r
    es = c.events("/api/battles/%s/events" % bid)
    assert es.end["status"] == "ready"
    seen.append(es.raw.decode())
    c.wait_status(bid, ("ready",))
    assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
    es = c.events("/api/battles/%s/events" % bid)
    assert es.end["status"] == "ready"
    got = c.wait_status(bid, ("ready",))
    assert got["models"] is None and got["replaced"] is None and got["replacements"] is None
    seen += [es.raw.decode(), json.dumps(got)]
    for text in seen:
        for n in names:
            assert n.lower() not in text.lower(), (n, text[:500])
    after = sample(c)
    for path in PUBLIC_GETS:
        assert before[path] == after[path], (
            "%s changed before the vote:\nbefore: %r\nafter:  %r"
            % (path, before[path], after[path]))
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    text = c.get("/metrics").body.decode()
    assert 'agon_battles_failed_total{model="Broken-Bear"} 1' in text, text


def test_forwarding_to_the_battles_node_is_blind(agon_factory):
    """Two nodes on one database (docs/deploy.md): a battle started on one
    and asked of the other is forwarded there. What the forwarding node
    answers (the stream's status and headers, the `end` event, a refused
    follow-up, the battle as read from the database) is the same whichever
    models the battle holds, and its GET equals the owner's."""
    import secrets
    nodes = []
    for name in ("n1", "n2"):
        a = agon_factory(sub=name)
        if nodes:  # one database, of the engine the tests use
            a.db, a.engine, a.pg = nodes[0].db, nodes[0].engine, nodes[0].pg
        a.write_config(MODELS, server_extra="node = %s" % name)
        nodes.append(a.start())
    from conftest import Client
    seen, pairs = set(), set()
    for i in range(10):
        c1 = nodes[0].client()
        bid = c1.new_battle("Round %d: explain the tides." % i).json()["id"]
        c2 = Client(nodes[1].url)
        c2.cookies = c1.cookies
        es = c2.events("/api/battles/%s/events" % bid, timeout=15)
        assert es.status == 200 and es.closed
        heads = tuple(sorted((k.lower(), v) for k, v in es.headers
                             if k.lower() not in VOLATILE_HEADERS))
        stranger = Client(nodes[1].url)
        stranger.cookies = {"agon_session": secrets.token_hex(16)}
        refused = reply_of(stranger.post("/api/battles/%s/turns" % bid,
                                         {"prompt": "mine?"}))
        here = c1.get("/api/battles/" + bid).json()
        there = c2.get("/api/battles/" + bid).json()
        assert here == there
        seen.add((heads, json.dumps(es.end, sort_keys=True), refused,
                  json.dumps(sorted(there)), there["models"] is None))
        v = c2.post("/api/battles/%s/vote" % bid, {"winner": "tie"})
        assert v.status == 200
        pairs.add(tuple(sorted(v.json()["models"].values())))
    assert len(pairs) > 1, pairs
    assert len(seen) == 1, seen
