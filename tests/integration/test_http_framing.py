"""Strict HTTP framing (issue "Trust", item 8): what request smuggling needs
is refused, requests too big for the server are answered at once (414, 431)
instead of hanging until the idle timeout, and admin authentication failures
are rate-limited per client.

These tests talk raw HTTP over sockets: http.client would refuse to send
most of these requests. The server runs with a 60 s idle timeout, so a reply
that only comes when the connection times out fails the "promptly" checks."""

import json
import time

from conftest import assert_error, send_raw, two_echo_models

IDLE = 60          # seconds: the idle timeout, far past exchange()'s read timeout
                   # (10 s), so a server that stays silent until it gives no reply
TOKEN = "admin-token-for-framing-0123456789"
BODY = b'{"prompt":"hi"}'  # 15 bytes


class Reply:
    def __init__(self, raw, closed, elapsed):
        self.raw = raw
        self.closed = closed  # the server closed the connection
        self.elapsed = elapsed
        head, sep, rest = raw.partition(b"\r\n\r\n")
        self.complete_head = bool(sep)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers.setdefault(k.strip().lower(), v.strip())
        n = int(self.headers.get("content-length", len(rest)))
        self.body = rest[:n]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Reply %s closed=%s %.2fs %r>" % (self.status, self.closed, self.elapsed,
                                                  self.raw[:400])


def _complete(raw):
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            return len(rest) >= int(v)
    return False


def exchange(port, data, until_close=True, timeout=10.0):
    """Send raw bytes; read the reply until the server closes the connection
    (until_close) or the reply is complete, or until timeout."""
    t0 = time.monotonic()
    raw, closed = send_raw(port, data, None if until_close else _complete, timeout)
    return Reply(raw, closed, time.monotonic() - t0)


def post(headers, body=BODY, path="/api/battles", version="HTTP/1.1"):
    head = "POST %s %s\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" % (path, version)
    return (head + "".join("%s\r\n" % h for h in headers) + "\r\n").encode() + body


def chunked(body=BODY):
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def assert_refused(r, status, code):
    """A JSON error from us, and the connection closed after it (a silent
    server would give no status before exchange()'s read timeout)."""
    assert r.status == status, r
    assert r.headers.get("content-type", "").startswith("application/json"), r
    err = r.json()["error"]
    assert err["code"] == code and err["message"], r
    assert r.headers.get("connection", "").lower() == "close", r
    assert r.closed, "the server kept the connection open: %r" % r
    return err


def framing_agon(agon_factory, **kw):
    return agon_factory(two_echo_models(), limits={"idle_timeout": IDLE}, **kw)


def test_duplicate_content_length_is_refused(agon_factory):
    agon = framing_agon(agon_factory)
    # the same value twice, different values (either could frame the body),
    # and on a GET without a body
    for headers, body in [(["Content-Length: 15", "Content-Length: 15"], BODY),
                          (["Content-Length: 16", "Content-Length: 15"], BODY),
                          (["Content-Length: 0", "Content-Length: 15"], BODY)]:
        assert_refused(exchange(agon.port, post(headers, body)), 400, "bad_framing")
    r = exchange(agon.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n")
    assert_refused(r, 400, "bad_framing")
    # one Content-Length is fine, and nothing was created by the refused ones
    r = exchange(agon.port, post(["Content-Length: 15"]), until_close=False)
    assert r.status == 201, r
    assert agon.client().get("/healthz").status == 200


def test_content_length_with_transfer_encoding_is_refused(agon_factory):
    agon = framing_agon(agon_factory)
    for headers in (["Content-Length: 4", "Transfer-Encoding: chunked"],
                    ["Transfer-Encoding: chunked", "Content-Length: 25"]):
        assert_refused(exchange(agon.port, post(headers, chunked())), 400, "bad_framing")


def test_transfer_codings_other_than_chunked_are_refused(agon_factory):
    agon = framing_agon(agon_factory)
    # chunked is not the last coding: the body's length is unknown (RFC 9112 6.3)
    for te in ("gzip", "chunked, gzip", "identity"):
        r = exchange(agon.port, post(["Transfer-Encoding: " + te], BODY))
        assert_refused(r, 400, "bad_framing")
    # chunked twice, in one header or in two
    assert_refused(exchange(agon.port, post(["Transfer-Encoding: chunked, chunked"],
                                            chunked())), 400, "bad_framing")
    assert_refused(exchange(agon.port, post(["Transfer-Encoding: chunked",
                                             "Transfer-Encoding: chunked"], chunked())),
                   400, "bad_framing")
    # framed by chunked, but with a coding we do not decode (RFC 9112 6.1: 501)
    r = exchange(agon.port, post(["Transfer-Encoding: gzip, chunked"], chunked()))
    assert_refused(r, 501, "unsupported_transfer_encoding")
    # HTTP/1.0 has no Transfer-Encoding: its framing is faulty (RFC 9112 6.1)
    r = exchange(agon.port, post(["Transfer-Encoding: chunked"], chunked(), version="HTTP/1.0"))
    assert_refused(r, 400, "bad_framing")
    # plain chunked, in any case, still works
    for te in ("chunked", "Chunked"):
        r = exchange(agon.port, post(["Transfer-Encoding: " + te], chunked()), until_close=False)
        assert r.status == 201, r


def get(target, headers=()):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (
        target, "".join("%s\r\n" % h for h in headers))).encode()


def test_too_many_query_arguments_are_414_at_once(agon_factory):
    """libmicrohttpd 0.9.75 runs out of its per-connection memory parsing
    this many arguments and then waits for the idle timeout."""
    agon = framing_agon(agon_factory)
    for n in (65, 1000, 3000):
        q = "&".join("a%d=b" % i for i in range(n))
        assert_refused(exchange(agon.port, get("/api/leaderboard?" + q)), 414, "uri_too_long")
    # empty arguments cost as much
    assert_refused(exchange(agon.port, get("/api/leaderboard?" + "&" * 3000)),
                   414, "uri_too_long")
    q = "&".join("a%d=b" % i for i in range(64))
    r = exchange(agon.port, get("/api/leaderboard?" + q), until_close=False)
    assert r.status == 200, r
    assert agon.client().get("/healthz").status == 200


def test_long_uri_is_414_at_once(agon_factory):
    agon = framing_agon(agon_factory)
    r = exchange(agon.port, get("/api/leaderboard?x=" + "a" * 9000))
    assert_refused(r, 414, "uri_too_long")
    r = exchange(agon.port, get("/" + "a" * 9000))
    assert_refused(r, 414, "uri_too_long")
    r = exchange(agon.port, get("/api/leaderboard?x=" + "a" * 8000), until_close=False)
    assert r.status == 200, r
    # a request line longer than libmicrohttpd's buffer: it answers itself
    r = exchange(agon.port, get("/api/leaderboard?x=" + "a" * 70000))
    assert r.status == 414 and r.closed, r


def test_large_headers_are_431_at_once(agon_factory):
    agon = framing_agon(agon_factory)
    r = exchange(agon.port, get("/healthz", ["X-Big: " + "a" * 20000]))
    assert_refused(r, 431, "headers_too_large")
    r = exchange(agon.port, get("/healthz", ["X-H%d: %s" % (i, "v" * 100) for i in range(200)]))
    assert_refused(r, 431, "headers_too_large")
    r = exchange(agon.port, get("/healthz", ["X-Big: " + "a" * 15000]), until_close=False)
    assert r.status == 200, r
    # beyond libmicrohttpd's own memory: it answers itself
    for headers in (["X-Big: " + "a" * 70000], ["X-H%d: v" % i for i in range(3000)]):
        r = exchange(agon.port, get("/healthz", headers))
        assert r.status == 431 and r.closed, r
    assert agon.client().get("/healthz").status == 200


def admin_agon(agon_factory, server_extra=""):
    agon = agon_factory(None)
    agon.env["AGON_FRAMING_ADMIN"] = TOKEN
    agon.write_config(two_echo_models(), limits={"idle_timeout": IDLE},
                      server_extra="admin_token_env = AGON_FRAMING_ADMIN" + server_extra)
    agon.start()
    return agon


def bearer(token):
    return {"Authorization": "Bearer " + token}


def test_admin_authentication_failures_are_rate_limited(agon_factory):
    agon = admin_agon(agon_factory)
    c = agon.client()
    assert c.get("/api/admin/battles", headers=bearer(TOKEN)).status == 200
    for i in range(10):  # the default: 10 failures a minute per client
        assert_error(c.get("/api/admin/battles", headers=bearer("guess-%02d-guess-guess" % i)), 401)
    r = c.get("/api/admin/battles", headers=bearer("guess-10-guess-guess"))
    err = assert_error(r, 429)
    assert err["code"] == "rate_limited"
    assert 1 <= int(r.header("Retry-After")) <= 60
    # the right token too, until the budget refills: guessing stays bounded
    r = c.get("/api/admin/battles", headers=bearer(TOKEN))
    assert_error(r, 429)
    assert_error(c.request("POST", "/api/admin/reload", headers=bearer(TOKEN)), 429)
    # other endpoints are not affected
    assert c.get("/healthz").status == 200
    assert TOKEN not in agon.stderr()


def test_admin_failures_are_counted_per_client(agon_factory):
    agon = admin_agon(agon_factory, "\ntrusted_proxies = 127.0.0.1")
    c = agon.client()
    one, other = {"X-Forwarded-For": "203.0.113.5"}, {"X-Forwarded-For": "198.51.100.9"}
    for i in range(10):
        assert_error(c.get("/api/admin/export", headers=dict(one, **bearer("nope-%d" % i))), 401)
    assert_error(c.get("/api/admin/export", headers=dict(one, **bearer(TOKEN))), 429)
    assert c.get("/api/admin/export", headers=dict(other, **bearer(TOKEN))).status == 200
    # successes cost nothing
    for _ in range(20):
        assert c.get("/api/admin/battles", headers=dict(other, **bearer(TOKEN))).status == 200
