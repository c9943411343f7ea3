"""The error codes of the HTTP API, as a client meets them: for every code
that a request can reach, its status, its exact message (or how it starts,
where it carries details), its Retry-After and whether the connection is
closed after it. CODES is the list; the last test checks that every code in
it was reached by one of the tests above it. The table behind them is
server/errors/errors.c; the `errors` unit test walks it.

Codes no request here can reach: `internal` (out of memory, a failing
read of the database), `unavailable` (a vote that cannot be queued for the
writer)."""

import json
import os
import socket

import pytest

from conftest import (Client, Model, agon_on_a_small_disk, closed_port, fill_disk, send_raw, two_echo_models,
                      wait_for)

# code -> HTTP status: every code a client can get from the API.
CODES = {
    # the HTTP layer, before any handler
    "uri_too_long": 414,
    "headers_too_large": 431,
    "bad_framing": 400,
    "unsupported_transfer_encoding": 501,
    "not_found": 404,
    "method_not_allowed": 405,
    "cross_origin": 403,
    "unsupported_media_type": 415,
    "body_too_large": 413,
    "invalid_json": 400,
    "overloaded": 503,
    # request bodies
    "invalid_prompt": 400,
    "prompt_too_long": 400,
    "invalid_winner": 400,
    "invalid_models": 400,
    "invalid_reason": 400,
    "invalid_comment": 400,
    "comment_too_long": 400,
    # limits
    "rate_limited": 429,
    "too_many_streams": 429,
    "busy": 503,
    # battles, turns and votes
    "battle_not_found": 404,
    "not_your_battle": 403,
    "battle_not_ready": 409,
    "too_many_turns": 409,
    "models_unavailable": 409,
    "not_enough_models": 503,
    "already_voted": 409,
    "still_streaming": 409,
    "battle_failed": 409,
    "direct_chat": 409,
    "identical_answers": 409,
    "battle_not_voted": 409,
    "share_not_found": 404,
    "too_many_shares": 503,
    "too_many_regenerations": 409,
    "nothing_to_retry": 409,
    "too_many_retries": 409,
    "no_replacement_model": 409,
    # storage
    "storage_unavailable": 503,
    "storage_failing": 503,
    # several nodes
    "forward_refused": 403,
    "forward_loop": 508,
    "node_gone": 503,
    "node_unreachable": 502,
    # the leaderboard
    "invalid_sort": 400,
    "invalid_judge": 400,
    "invalid_source": 400,
    "invalid_language": 400,
    "invalid_category": 400,
    "invalid_style": 400,
    "invalid_open_weights": 400,
    "open_weights_combination": 400,
    "invalid_as_of": 400,
    "as_of_combination": 400,
    # the admin API
    "admin_disabled": 404,
    "unauthorized": 401,
    "reload_failed": 422,
    "invalid_status": 400,
    "invalid_time": 400,
    "invalid_limit": 400,
    "invalid_offset": 400,
    "invalid_format": 400,
    "invalid_enabled": 400,
    "model_not_found": 404,
}

REACHED = set()   # codes the tests below have seen
SKIPPED = set()   # codes whose test could not run here (say, without root)

TOKEN = "admin-token-for-error-codes-0123456789"
IDLE = 60


def expect(r, code, message=None, prefix=None, retry=None, close=False):
    """r is the error reply CODES says for code, with exactly this message
    (or one that starts with prefix), Retry-After (None: none; True: a
    number of seconds of at least 1), and Connection: close if and only if
    close. A reply queued before the request was read to its end (the HTTP
    layer's checks but the body's own size) gets Connection: close from
    libmicrohttpd itself; the framing and size refusals and the shedding of
    load ask for it."""
    assert r.status == CODES[code], (code, r)
    assert r.header("Content-Type") == "application/json", r
    assert r.header("X-Content-Type-Options") == "nosniff", r
    if code != "method_not_allowed":  # that one has never said
        assert r.header("Cache-Control") == "no-store", r
    err = r.json()["error"]
    assert set(err) == {"code", "message"}, err
    assert err["code"] == code, (code, err)
    if message is not None:
        assert err["message"] == message, (code, err)
    if prefix is not None:
        assert err["message"].startswith(prefix), (code, err)
    got = r.header("Retry-After")
    if retry is None:
        assert got is None, (code, got)
    elif retry is True:
        assert got is not None and int(got) >= 1, (code, got)
    else:
        assert got == str(retry), (code, got)
    conn = (r.header("Connection") or "").lower()
    assert (conn == "close") == close, (code, conn)
    REACHED.add(code)
    return err


# ---------------------------------------------------------------------------
# Raw HTTP, for what http.client will not send.

class Raw:
    def __init__(self, data):
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        self.headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers.append((k.strip(), v.strip()))
        n = self.header("Content-Length")
        self.body = rest[:int(n)] if n is not None else rest

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Raw %d %r>" % (self.status, self.body[:300])


def exchange(port, data, timeout=10.0):
    """Send raw bytes, read until the server closes the connection."""
    return Raw(send_raw(port, data, timeout=timeout)[0])


def post_raw(headers, body=b'{"prompt":"hi"}', version="HTTP/1.1"):
    head = "POST /api/battles %s\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" % version
    return (head + "".join("%s\r\n" % h for h in headers) + "\r\n").encode() + body


def chunked(body=b'{"prompt":"hi"}'):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def get_raw(target, headers=()):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (
        target, "".join("%s\r\n" % h for h in headers))).encode()


def slow_models(ms=150, timeout=30):
    return [Model("Slow-One", "slow%d-one" % ms, timeout=timeout),
            Model("Slow-Two", "slow%d-two" % ms, timeout=timeout)]


# ---------------------------------------------------------------------------
# The HTTP layer.

def test_http_layer(agon_factory):
    agon = agon_factory(two_echo_models(), limits={"idle_timeout": IDLE})
    c = agon.client()
    expect(c.get("/api/nothing-here"), "not_found", "no such resource", close=True)
    expect(c.get("/no-such-asset.txt"), "not_found", "no such resource")
    r = c.request("DELETE", "/api/battles")
    expect(r, "method_not_allowed", "method DELETE is not allowed here (allowed: POST)",
           close=True)
    assert r.header("Allow") == "POST", r.headers
    r = c.request("PUT", "/healthz")
    expect(r, "method_not_allowed", "method PUT is not allowed here (allowed: GET, HEAD)",
           close=True)
    assert r.header("Allow") == "GET, HEAD", r.headers
    expect(c.post("/api/battles", {"prompt": "hi"},
                  headers={"Origin": "https://evil.example.com"}),
           "cross_origin", "cross-site requests are not accepted", close=True)
    expect(c.request("POST", "/api/battles", body='{"prompt":"hi"}', content_type="text/plain"),
           "unsupported_media_type", "the body must be sent as Content-Type: application/json",
           close=True)
    big = json.dumps({"prompt": "x" * (256 * 1024)})
    # by its Content-Length, at once; sent chunked, once read
    expect(c.request("POST", "/api/battles", body=big), "body_too_large",
           "the body is larger than 262144 bytes", close=True)
    expect(c.request("POST", "/api/battles", body=big.encode(), chunked=True),
           "body_too_large", "the body is larger than 262144 bytes")
    expect(c.request("POST", "/api/battles", body=b"{"), "invalid_json",
           prefix="invalid JSON at line 1 column ")
    expect(c.request("POST", "/api/battles", body=b"[]"), "invalid_json",
           "the body must be a JSON object")

    port = agon.port
    expect(exchange(port, get_raw("/api/leaderboard?x=" + "a" * 9000)), "uri_too_long",
           "the URI is longer than 8192 bytes or has more than 64 query arguments", close=True)
    expect(exchange(port, get_raw("/healthz", ["X-Big: " + "a" * 20000])), "headers_too_large",
           "the header fields are larger than 16384 bytes", close=True)
    framing = [
        (["Content-Length: 15", "Content-Length: 15"], b'{"prompt":"hi"}', "HTTP/1.1",
         "more than one Content-Length header"),
        (["Content-Length: 4", "Transfer-Encoding: chunked"], chunked(), "HTTP/1.1",
         "Content-Length and Transfer-Encoding together"),
        (["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], chunked(), "HTTP/1.1",
         "more than one Transfer-Encoding header"),
        (["Transfer-Encoding: chunked"], chunked(), "HTTP/1.0",
         "Transfer-Encoding in an HTTP/1.0 request"),
        (["Transfer-Encoding: gzip"], b'{"prompt":"hi"}', "HTTP/1.1",
         "a body must be framed by Content-Length or by Transfer-Encoding: chunked alone"),
    ]
    for headers, body, version, message in framing:
        expect(exchange(port, post_raw(headers, body, version)), "bad_framing", message,
               close=True)
    expect(exchange(port, post_raw(["Transfer-Encoding: gzip, chunked"], chunked())),
           "unsupported_transfer_encoding", "no transfer coding but chunked is supported",
           close=True)
    assert c.get("/healthz").status == 200


def test_overloaded(agon_factory):
    agon = agon_factory(two_echo_models(), limits={"max_connections": 2, "idle_timeout": IDLE})
    held = [socket.create_connection(("127.0.0.1", agon.port), timeout=10) for _ in range(2)]
    try:
        for s in held:  # answered once, so the server has taken them in, and kept alive
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200"), "a held connection was not served"
        c = agon.client()
        expect(c.get("/api/leaderboard"), "overloaded",
               "the server is at its connection limit; try again shortly", retry=1, close=True)
        # the essential routes still get in
        assert c.get("/healthz").status == 200
    finally:
        for s in held:
            s.close()


# ---------------------------------------------------------------------------
# Request bodies.

def test_bodies(arena):
    c = arena.client()
    for body, message in [({"prompt": 12}, '"prompt" must be a string'),
                          ({"text": "hi"}, '"prompt" must be a string'),
                          ({"prompt": " \t\n"}, '"prompt" is empty')]:
        expect(c.post("/api/battles", body), "invalid_prompt", message)
    expect(c.post("/api/battles", {"prompt": "x" * 30001}), "prompt_too_long",
           '"prompt" is longer than 30000 characters')
    bid, _ = c.battle("hi")
    expect(c.post("/api/battles/%s/turns" % bid, {"prompt": ""}), "invalid_prompt",
           '"prompt" is empty')
    for body in ({"winner": "c"}, {}, {"winner": 1}):
        expect(c.post("/api/battles/%s/vote" % bid, body), "invalid_winner",
               '"winner" must be one of "a", "b", "tie", "bothbad"')


def test_vote_extras(agon_factory):
    agon = agon_factory(two_echo_models(), limits={"max_shares": 1})
    c = agon.client()
    bid, _ = c.battle("hi")
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "a", "reasons": ["nicer"]}),
           "invalid_reason", '"reasons"[0] is not one of the arena\'s reasons (GET /api/arena)')
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "a", "reasons": "safer"}),
           "invalid_reason", '"reasons" must be an array of at most 4 distinct reasons')
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "a", "comment": 1}),
           "invalid_comment", '"comment" must be a string of UTF-8 text without NUL '
           'characters')
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "a", "comment": "x" * 501}),
           "comment_too_long", '"comment" is longer than 500 characters')
    expect(c.post("/api/battles/%s/share" % bid, {}), "battle_not_voted",
           "only a voted battle can be shared")
    expect(c.get("/api/shared/" + "0" * 32), "share_not_found", "no such shared battle")
    expect(c.get("/s/" + "0" * 32), "share_not_found", "no such shared battle")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    assert c.post("/api/battles/%s/share" % bid, {}).status == 200
    other, _ = c.battle("another")
    assert c.post("/api/battles/%s/vote" % other, {"winner": "b"}).status == 200
    expect(c.post("/api/battles/%s/share" % other, {}), "too_many_shares",
           "the arena keeps no more shared battles for now; try again later", retry=60)


# ---------------------------------------------------------------------------
# Battles, turns and votes.

def test_battles_turns_and_votes(agon_factory):
    agon = agon_factory(two_echo_models(), limits={"max_turns": 2})
    c = agon.client()
    c.new_battle("a session")
    nobody = "0123456789abcdef0123456789abcdef"
    for method, path, body in [("GET", "/api/battles/" + nobody, None),
                               ("GET", "/api/battles/%s/events" % nobody, None),
                               ("POST", "/api/battles/%s/vote" % nobody, {"winner": "a"}),
                               ("POST", "/api/battles/%s/turns" % nobody, {"prompt": "x"})]:
        expect(c.request(method, path, json_body=body), "battle_not_found", "no such battle")

    bid, _ = c.battle("mine")
    other = agon.client()
    other.new_battle("its own session")
    for cl in (other, agon.client()):  # another session, and none at all
        expect(cl.post("/api/battles/%s/vote" % bid, {"winner": "a"}), "not_your_battle",
               "this battle belongs to another session")
        expect(cl.post("/api/battles/%s/turns" % bid, {"prompt": "x"}), "not_your_battle",
               "this battle belongs to another session")

    assert c.post("/api/battles/%s/turns" % bid, {"prompt": "two"}).status == 202
    c.wait_status(bid, ("ready",))
    expect(c.post("/api/battles/%s/turns" % bid, {"prompt": "three"}), "too_many_turns",
           "this battle has reached its turn limit")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "b"}), "already_voted",
           "this battle has already been voted on")
    expect(c.post("/api/battles/%s/turns" % bid, {"prompt": "more"}), "battle_not_ready",
           "a follow-up needs a battle that is ready and not voted")


def test_chosen_models(agon_factory):
    agon = agon_factory([Model("Twin-One", "same-one"), Model("Twin-Two", "sameloud-two")])
    c = agon.client()
    expect(c.post("/api/battles", {"prompt": "hi", "models": "Twin-One"}), "invalid_models",
           '"models" must be an array of one model name (a direct chat) or two '
           '(side by side)')
    expect(c.post("/api/battles", {"prompt": "hi", "models": ["Nope"]}), "invalid_models",
           '"models"[0] is not an enabled model')
    r = c.post("/api/battles", {"prompt": "hi", "models": ["Twin-One"]})
    assert r.status == 201, r
    c.events(r.json()["events"])
    expect(c.post("/api/battles/%s/vote" % r.json()["id"], {"winner": "a"}), "direct_chat",
           "a direct chat has one answer: there is nothing to vote on")
    bid, _ = c.battle("the same, twice")
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), "identical_answers",
           "both answers are the same, so this vote cannot count; start a new battle")


def test_still_streaming(agon_factory):
    agon = agon_factory(slow_models())
    c = agon.client()
    bid = c.new_battle("take your time").json()["id"]
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), "still_streaming",
           "the answers are not complete yet")
    expect(c.post("/api/battles/%s/turns" % bid, {"prompt": "more"}), "battle_not_ready",
           "a follow-up needs a battle that is ready and not voted")


def test_battle_failed(agon_factory):
    agon = agon_factory([Model("Fail-One", "fail500-one"), Model("Fail-Two", "fail500-two")])
    c = agon.client()
    bid, _ = c.battle("this fails")
    assert c.get("/api/battles/" + bid).json()["status"] == "failed"
    expect(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), "battle_failed",
           "a failed battle cannot be voted on")


def test_regenerate_and_retry(agon_factory):
    agon = agon_factory(None)
    agon.env["AGON_ERRORS_ADMIN"] = TOKEN
    models = [Model("Fail-One", "fail500-one"), Model("Echo-Two", "echo-two"),
              Model("Echo-Three", "echo-three")]
    agon.write_config(models, server_extra="admin_token_env = AGON_ERRORS_ADMIN",
                      limits={"max_regenerations": 0})
    agon.start()
    c = agon.client()
    auth = {"Authorization": "Bearer " + TOKEN}
    for _ in range(30):
        bid, es = c.battle("one side fails")
        if es.end["status"] == "retry":
            break
    assert es.end["status"] == "retry"
    for name in ("Echo-Two", "Echo-Three"):
        assert c.post("/api/admin/models/" + name, {"enabled": False}, headers=auth).status == 200
    expect(c.post("/api/battles/%s/regenerate" % bid, {}), "battle_not_ready",
           "a regenerate needs a battle that is ready and not voted")
    expect(c.post("/api/battles/%s/retry" % bid, {}), "no_replacement_model",
           "no other enabled model can replace the failed side")
    agon.write_config(models, server_extra="admin_token_env = AGON_ERRORS_ADMIN",
                      limits={"max_regenerations": 0, "max_side_retries": 0})
    r = c.request("POST", "/api/admin/reload", headers=auth)
    assert r.status == 200, r
    expect(c.post("/api/battles/%s/retry" % bid, {}), "too_many_retries",
           "this battle has replaced failed sides as often as allowed")
    agon.write_config([Model("Echo-One", "echo-one"), Model("Echo-Two", "echo-two")],
                      server_extra="admin_token_env = AGON_ERRORS_ADMIN",
                      limits={"max_regenerations": 0})
    r = c.request("POST", "/api/admin/reload", headers={"Authorization": "Bearer " + TOKEN})
    assert r.status == 200, r
    bid, _ = c.battle("both fine")
    expect(c.post("/api/battles/%s/regenerate" % bid, {}), "too_many_regenerations",
           "this turn has been regenerated as often as allowed")
    expect(c.post("/api/battles/%s/retry" % bid, {}), "nothing_to_retry",
           "only a battle whose latest turn has exactly one failed side can be retried")


def test_models_unavailable(agon_factory):
    agon = agon_factory(two_echo_models())
    c = agon.client()
    bid, _ = c.battle("before the models go")
    agon.stop()
    agon.write_config([Model("New-One", "echo-new1"), Model("New-Two", "echo-new2")])
    agon.start()
    owner = agon.client()
    owner.cookies = c.cookies
    expect(owner.post("/api/battles/%s/turns" % bid, {"prompt": "more"}), "models_unavailable",
           "this battle's models are no longer available")


def test_not_enough_models(agon_factory):
    agon = agon_factory([Model("Only-One", "echo-one"),
                         Model("Switched-Off", "echo-off", enabled=False)])
    expect(agon.client().post("/api/battles", {"prompt": "hi"}), "not_enough_models",
           "fewer than two models are enabled")


def test_busy(agon_factory):
    agon = agon_factory(slow_models(ms=100), limits={"max_concurrent_battles": 1})
    c = agon.client()
    first, _ = c.battle("one")
    c.new_battle("two streams")
    busy = "the arena is at its limit of concurrent battles; try again shortly"
    expect(c.post("/api/battles", {"prompt": "three"}), "busy", busy, retry=5)
    expect(c.post("/api/battles/%s/turns" % first, {"prompt": "more"}), "busy", busy, retry=5)


# ---------------------------------------------------------------------------
# Limits per client.

def test_rate_limits(agon_factory):
    agon = agon_factory(None)
    agon.env["AGON_ERRORS_ADMIN"] = TOKEN
    agon.write_config(two_echo_models(), server_extra="admin_token_env = AGON_ERRORS_ADMIN",
                      limits={"battles_per_minute": 2, "votes_per_minute": 1,
                              "admin_failures_per_minute": 1})
    agon.start()
    c = agon.client()
    bid, _ = c.battle("one")
    other, _ = c.battle("two")
    prompts = "too many prompts from this client; try again later"
    expect(c.post("/api/battles", {"prompt": "three"}), "rate_limited", prompts, retry=True)
    expect(c.post("/api/battles/%s/turns" % bid, {"prompt": "more"}), "rate_limited", prompts,
           retry=True)
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    expect(c.post("/api/battles/%s/vote" % other, {"winner": "a"}), "rate_limited",
           "too many votes from this client; try again later", retry=True)
    auth = {"Authorization": "Bearer wrong-wrong-wrong"}
    expect(c.get("/api/admin/battles", headers=auth), "unauthorized",
           "this needs Authorization: Bearer <admin token>")
    expect(c.get("/api/admin/battles", headers=auth), "rate_limited",
           "too many failed admin authentications from this client; try again later",
           retry=True)


def hold_stream(port, bid):
    """An event stream, open and not read: the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(get_raw("/api/battles/%s/events" % bid))
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        assert b, head
        head += b
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return s


def test_too_many_streams(agon_factory):
    hang = [Model("Hang-One", "hang-one", timeout=20), Model("Hang-Two", "hang-two", timeout=20)]
    for limit, message in (("max_streams_per_client", "from this client"),
                           ("max_streams_per_battle", "on this battle")):
        agon = agon_factory(hang, limits={limit: 1})
        c = agon.client()
        bid = c.new_battle("wait").json()["id"]
        s = hold_stream(agon.port, bid)
        try:
            expect(c.get("/api/battles/%s/events" % bid), "too_many_streams",
                   "too many event streams open " + message, retry=5)
        finally:
            s.close()


# ---------------------------------------------------------------------------
# The leaderboard and the admin API.

def test_leaderboard(arena):
    c = arena.client()
    expect(c.get("/api/leaderboard?sort=rank"), "invalid_sort", 'sort must be "elo" or "bt"')
    expect(c.get("/api/leaderboard?source=crowd"), "invalid_source",
           'source must be "human" or "judge"')
    expect(c.get("/api/leaderboard?source=judge&judge=nobody"), "invalid_judge",
           "source=judge needs judge=NAME of a configured judge")
    expect(c.get("/api/leaderboard?language=Korean"), "invalid_language",
           'language must be an ISO 639 code (two or three letters a-z) or "und"')
    expect(c.get("/api/leaderboard?category=poetry"), "invalid_category",
           "category must be a built-in or configured category: see "
           "/api/leaderboard/slices")
    expect(c.get("/api/leaderboard?style=bold"), "invalid_style",
           'style must be "control" or "none"')
    expect(c.get("/api/leaderboard?source=judge&judge=nobody&language=ko"),
           "invalid_judge")
    expect(c.get("/api/leaderboard?open_weights=maybe"), "invalid_open_weights",
           'open_weights must be "true" or "false"')
    expect(c.get("/api/leaderboard?open_weights=true&style=control"),
           "open_weights_combination",
           "open_weights=true takes language= and category=, not style=control, "
           "source=judge or as_of")
    expect(c.get("/api/leaderboard?as_of=2026-11-01T00:00:00"), "invalid_as_of",
           "as_of must be an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ) or a date "
           "(YYYY-MM-DD)")
    expect(c.get("/api/leaderboard?as_of=2026-11-01&language=en"), "as_of_combination",
           "as_of gives the whole board of the human votes: it takes no language, "
           "category, style, source or open_weights")


def test_admin(agon_factory):
    off = agon_factory(two_echo_models())
    expect(off.client().request("POST", "/api/admin/reload"), "admin_disabled",
           "the admin API is off: set [server] admin_token_env")

    agon = agon_factory(None)
    agon.env["AGON_ERRORS_ADMIN"] = TOKEN
    agon.write_config(two_echo_models(), server_extra="admin_token_env = AGON_ERRORS_ADMIN")
    agon.start()
    c = agon.client()
    expect(c.get("/api/admin/battles"), "unauthorized",
           "this needs Authorization: Bearer <admin token>")
    auth = {"Authorization": "Bearer " + TOKEN}
    for query, code, message in [
            ("status=done", "invalid_status", "status must be streaming, ready, failed or voted"),
            ("since=yesterday", "invalid_time",
             "since and until take ms since the epoch or YYYY-MM-DDTHH:MM:SSZ"),
            ("limit=0", "invalid_limit", "limit must be 1 to 1000"),
            ("offset=-1", "invalid_offset", "offset must be a whole number >= 0")]:
        expect(c.get("/api/admin/battles?" + query, headers=auth), code, message)
    expect(c.get("/api/admin/export?format=xml", headers=auth), "invalid_format",
           "format must be fastchat, jsonl or csv")
    expect(c.post("/api/admin/models/Nimbus-Delta-7B", {"enabled": "yes"}, headers=auth),
           "invalid_enabled", '"enabled" must be true or false')
    expect(c.post("/api/admin/models/No-Such-Model", {"enabled": False}, headers=auth),
           "model_not_found", "no such model")
    with open(agon.config, "a") as f:
        f.write("\n[nonsense]\n")
    expect(c.request("POST", "/api/admin/reload", headers=auth), "reload_failed",
           prefix=agon.config + ":")


# ---------------------------------------------------------------------------
# Storage.

def test_storage(agon_factory, tmp_path):
    def skipped():
        SKIPPED.update({"storage_unavailable", "storage_failing"})
    with agon_on_a_small_disk(agon_factory, tmp_path, on_skip=skipped) as (agon, mnt):
        c = agon.client()
        ready, _ = c.battle("ready before the disk fills")
        fill_disk(os.path.join(mnt, "filler"))
        # battles until the server has noticed the fault
        for i in range(40):
            r = c.post("/api/battles", {"prompt": "while the disk is full %d" % i})
            if r.status == 503:
                break
            c.events(r.json()["events"])
        expect(r, "storage_unavailable",
               "the arena cannot store new battles right now; try again shortly", retry=5)
        expect(c.get("/healthz"), "storage_failing", prefix="database writes are failing: ",
               retry=5)
        expect(c.post("/api/battles/%s/turns" % ready, {"prompt": "more"}), "storage_unavailable",
               "the arena cannot store the turn right now; try again shortly", retry=5)
        v = c.post("/api/battles/%s/vote" % ready, {"winner": "a"})
        if v.status != 200:  # the vote's own commit may still get through
            expect(v, "storage_unavailable",
                   "the vote could not be stored right now; it was not counted: "
                   "try again shortly", retry=5)
        os.unlink(os.path.join(mnt, "filler"))
        wait_for(lambda: c.get("/healthz").status == 200, 20, "healthz to recover")
        assert agon.stop() == 0


# ---------------------------------------------------------------------------
# Several nodes on one database (test_nodes.py has the rest).

def test_nodes(agon_factory):
    first = []

    def node(name, extra=""):
        a = agon_factory(sub=name)
        if first:  # one database for all, of the engine the tests use
            a.db, a.engine, a.pg = first[0].db, first[0].engine, first[0].pg
        first.append(a)
        a.write_config(two_echo_models(), server_extra="node = %s\n%s" % (name, extra))
        return a.start()
    n3 = node("n3")
    # n2 says it is reached at n3's address; n4 at a port nobody listens on
    n2 = node("n2", "internal_url = %s" % n3.url)
    n4 = node("n4", "internal_url = http://127.0.0.1:%d" % closed_port())
    n1 = node("n1")
    c1 = n1.client()
    expect(c1.get("/api/models", headers={"X-Agon-Forwarded": "v1 n2 10.0.0.1 0 " + "0" * 64}),
           "forward_refused",
           "this request says another node forwarded it, but its signature is not one of "
           "this arena's nodes'", close=True)
    c2 = n2.client()
    bid = c2.new_battle("whose battle").json()["id"]
    c1.cookies = c2.cookies
    expect(c1.get("/api/battles/%s/events" % bid), "forward_loop",
           "another node forwarded this request here, but this node does not run the "
           "battle: the nodes table gives its node another node's address")
    c4 = n4.client()
    bid4, _ = c4.battle("a battle on a node nobody reaches")
    expect(c1.post("/api/battles/%s/turns" % bid4, {"prompt": "more"}), "node_unreachable",
           "the node that runs this battle did not answer; try again shortly", retry=2)
    assert n4.stop() == 0
    c1.cookies = c4.cookies
    expect(c1.post("/api/battles/%s/turns" % bid4, {"prompt": "more"}), "node_gone",
           "the node that runs this battle is gone: it takes no more turns, and a turn it "
           "was streaming fails")


def test_every_code_is_reached(request):
    """Last: every code of CODES was met above (when they all ran)."""
    mine = [i for i in request.session.items if i.module is request.module]
    if len(mine) != len([n for n in dir(request.module) if n.startswith("test_")]):
        pytest.skip("only some of this file's tests ran")
    assert set(CODES) - REACHED - SKIPPED == set()
