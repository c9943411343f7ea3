"""The server log stays true: nothing a client or an upstream sends can write
a line of its own or a field of its choosing, keys never reach it, and floods
of one warning are counted rather than copied."""

import re
import secrets
import time

from conftest import Model, send_raw, wait_for

LINE_RE = re.compile(r"^ts=\S+ level=(info|warn|error) msg=")
PAIR_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)(?: |$)')


def unescape(v):
    """The text of a logfmt value as the server meant it."""
    if not v.startswith('"'):
        return v
    out, i, body = bytearray(), 0, v[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\" and body[i + 1] == "x":
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif c == "\\":
            out += body[i + 1].encode()
            i += 2
        else:
            out += c.encode()
            i += 1
    return out.decode("utf-8", "replace")


def fields(line):
    """The key=value pairs of a log line, in order; the whole line must be
    made of them."""
    pairs, pos = [], 0
    for m in PAIR_RE.finditer(line):
        assert m.start() == pos, "not logfmt at %d: %r" % (pos, line)
        pairs.append((m.group(1), unescape(m.group(2))))
        pos = m.end()
    assert pos == len(line), "not logfmt at %d: %r" % (pos, line)
    return pairs


def assert_all_lines_normal(err):
    for l in err.splitlines():
        assert LINE_RE.match(l), "a log line that is not agon's: %r" % l
        assert "\x1b" not in l and "\r" not in l, l


def raw_request(port, data, timeout=5.0):
    return send_raw(port, data, timeout=timeout)[0]


def test_a_request_path_cannot_forge_a_log_line(arena):
    forged = [
        # (raw path on the request line, the path libmicrohttpd hands over)
        ("/%0Alevel=error%20msg=forged", "/\nlevel=error msg=forged"),
        ("/x%0D%0Ats=2000-01-01T00:00:00Z%20level=error%20msg=%22forged%22",
         "/x\r\nts=2000-01-01T00:00:00Z level=error msg=\"forged\""),
        ("/y%0Dlevel=error%20msg=forged%1B[2K", "/y\rlevel=error msg=forged\x1b[2K"),
        ("/z%22%20status=200%20admin=%22yes", "/z\" status=200 admin=\"yes"),
        ("/b%5C%22%20status=201%20q=%5C", "/b\\\" status=201 q=\\"),
    ]
    for raw, _ in forged:
        resp = raw_request(arena.port, b"GET " + raw.encode() + b" HTTP/1.1\r\n"
                           b"Host: x\r\nConnection: close\r\n\r\n")
        assert resp.startswith(b"HTTP/1.1 404"), resp[:200]

    def request_lines():
        out = []
        for l in arena.stderr().splitlines():
            if l.startswith("ts=") and 'msg="request"' in l:
                out.append(l)
        return out if len(out) >= len(forged) else None

    lines = wait_for(request_lines, what="the request log lines")
    err = arena.stderr()
    assert_all_lines_normal(err)
    for l in err.splitlines():
        assert not re.match(r"^\s*(ts=\S+ )?level=\S+ msg=\"?forged", l), l
        assert "msg=forged" not in l.split(" path=")[0], l
    # Each line says exactly what was asked, once: one path, one status.
    seen = []
    for l in lines:
        f = fields(l)
        keys = [k for k, _ in f]
        assert keys.count("path") == 1 and keys.count("status") == 1, l
        assert "admin" not in keys and "q" not in keys, l
        d = dict(f)
        assert d["status"] == "404", l
        seen.append(d["path"])
    for _, path in forged:
        assert path in seen, (path, seen)


SUPPRESSED_RE = re.compile(r'msg="(\d+) similar suppressed" like="(.*)"$')


def test_a_flood_of_libmicrohttpd_warnings_is_counted_not_copied(arena):
    # Every request of an unknown HTTP version makes libmicrohttpd warn
    # once, in one format.
    n = 200
    t0 = time.monotonic()
    for _ in range(n):
        resp = raw_request(arena.port, b"GET / HTTP/9.9\r\n\r\n")
        assert resp.startswith(b"HTTP/1.1 505"), resp[:200]
    flood_s = time.monotonic() - t0

    def counted():
        lines = arena.stderr().splitlines()
        shown = [l for l in lines if 'msg="libmicrohttpd: Error processing request' in l]
        dropped = 0
        for l in lines:
            m = SUPPRESSED_RE.search(l)
            if m and m.group(2).startswith("libmicrohttpd: Error processing request"):
                dropped += int(m.group(1))
        return (shown, dropped) if len(shown) + dropped >= n else None

    # the count is written within about a second of the flood's end
    shown, dropped = wait_for(counted, timeout=10, what="the count of suppressed warnings")
    assert_all_lines_normal(arena.stderr())
    # at most 10 a second are copied; every other one is counted, none lost
    assert len(shown) + dropped == n, (len(shown), dropped)
    assert dropped > 0
    assert len(shown) <= 10 * (int(flood_s) + 2), (len(shown), flood_s)
    # and the server still answers
    assert arena.client().get("/healthz").status == 200


def test_an_upstream_that_echoes_the_key_does_not_put_it_in_logs_or_the_database(
        agon_factory, fake):
    # no known key shape: only knowing the model's own key can take it out
    key = "zq-" + secrets.token_hex(20)
    agon = agon_factory([Model("Echo-Auth", "echoauth-up", api_key_env="AGON_ECHOAUTH_KEY"),
                         Model("Plain-Two", "echo-plain-two")], start=False)
    agon.env["AGON_ECHOAUTH_KEY"] = key
    agon.start()
    c = agon.client()
    bid, es = c.battle("hello there")
    assert es.end["status"] == "failed", es.end
    # the upstream was sent the key, and its answer holds it several times
    sent = [r for r in fake.requests() if r["body"]["model"] == "echoauth-up"]
    assert [r["authorization"] for r in sent] == ["Bearer " + key]
    wait_for(lambda: 'model="Echo-Auth"' in agon.stderr(), what="the upstream failure log")
    agon.stop()

    err = agon.all_stderr()
    assert key not in err and key[:12] not in err
    assert_all_lines_normal(err)
    failed = [l for l in err.splitlines()
              if 'msg="upstream failed"' in l and 'model="Echo-Auth"' in l]
    assert len(failed) == 1, err
    detail = dict(fields(failed[0]))["detail"]
    assert detail.startswith("HTTP 500: "), detail
    assert "echoauth: the upstream refused the request" in detail, detail

    rows = agon.sql("SELECT error_a, error_b FROM turns WHERE battle_id = ?", (bid,))
    assert len(rows) == 1, rows
    # (the other side, if it was still answering, was cancelled)
    errors = [e for e in rows[0] if e is not None and e != "cancelled"]
    assert len(errors) == 1, rows
    stored = errors[0]
    # a short excerpt of what the upstream said is kept, and nothing of the key
    assert stored.startswith("HTTP 500: "), stored
    assert "echoauth: the upstream refused the request" in stored, stored
    assert "[redacted]" in stored, stored
    assert key not in stored and key[:12] not in stored, stored
    assert len(stored.encode("utf-8")) <= 300, len(stored)
    assert not re.search(r"[\x00-\x1f\x7f]", stored), repr(stored)
    assert key.encode() not in agon.stored_bytes(), "the key is stored in the database"
