"""Event streams that come late or go early, races, restarts mid-stream."""

import os
import socket
import struct
import threading
import time

from conftest import (Model, assert_error, expected_answers, fake_backend, metric, parse_sse,
                      two_echo_models, wait_for)


def slow_models(ms=60, timeout=10):
    return [Model("Slow-Left", "slow%d-left" % ms, timeout=timeout),
            Model("Slow-Right", "slow%d-right" % ms, timeout=timeout)]


def test_late_watcher_gets_the_text_so_far(agon_factory):
    models = slow_models()
    agon = agon_factory(models)
    c = agon.client()
    r = c.new_battle("late comer")
    path = r.json()["events"]
    # The first watcher reads until some text has arrived, then goes away.
    first = c.events(path, stop=lambda raw: raw.count(b"event: delta") >= 3)
    assert not first.closed and first.of("delta")
    # The second one comes mid-stream and still gets every byte of both answers.
    second = c.events(path, timeout=20)
    assert second.closed and second.end == {"turn": 1, "status": "ready"}
    assert {second.text("a"), second.text("b")} == expected_answers("late comer", models)
    assert second.text("a").startswith(first.text("a"))


def _abort_stream(port, path, cookie, after_bytes, rst):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: %s\r\n\r\n" % (
        path, cookie)
    s.sendall(req.encode())
    got = 0
    try:
        while got < after_bytes:
            b = s.recv(4096)
            if not b:
                break
            got += len(b)
    except OSError:
        pass
    if rst:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_watchers_that_disconnect_midstream(agon_factory):
    models = slow_models(ms=40)
    agon = agon_factory(models)
    c = agon.client()
    c.new_battle("warm up")  # gets the session cookie
    cookie = "; ".join("%s=%s" % kv for kv in c.cookies.items())
    bids = [c.new_battle("drop %d" % i).json()["id"] for i in range(4)]
    ts = []
    for i in range(24):
        bid = bids[i % len(bids)]
        t = threading.Thread(target=_abort_stream, args=(
            agon.port, "/api/battles/%s/events" % bid, cookie, 0 if i % 6 == 0 else 200 + 300 * i,
            i % 2 == 0))
        t.start()
        ts.append(t)
    for t in ts:
        t.join(20)
    for i, bid in enumerate(bids):
        b = c.wait_status(bid, ("ready", "failed"), timeout=20)
        assert b["status"] == "ready", b
        es = c.events("/api/battles/%s/events" % bid)
        assert {es.text("a"), es.text("b")} == expected_answers("drop %d" % i, models)
    assert c.get("/healthz").status == 200
    assert agon.alive()


def test_a_reader_that_falls_behind_gets_every_byte(agon_factory):
    """Deltas are written to the client's socket by the thread that relays
    them, until the socket is full; then the HTTP server takes over. A
    client with a tiny receive buffer that reads nothing until both 3 MB
    answers are in must still get all of them, in order, then `end`, then
    the close that ends the body (no chunked encoding on event streams)."""
    models = [Model("Large-1", "big-one", timeout=20), Model("Large-2", "big-two-alt", timeout=20)]
    agon = agon_factory(models, limits={"max_answer_bytes": 8 * 1024 * 1024})
    c = agon.client()
    bid = c.new_battle("a lot, slowly").json()["id"]
    cookie = "; ".join("%s=%s" % kv for kv in c.cookies.items())
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", agon.port))
    s.sendall(("GET /api/battles/%s/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Accept: text/event-stream\r\nCookie: %s\r\n\r\n" % (bid, cookie)).encode())
    # the answers finish upstream while this reader is stuck
    c.wait_status(bid, ("ready", "failed"), timeout=30)
    raw = bytearray()
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        raw += b
    s.close()
    head, _, body = bytes(raw).partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200"), lines[0]
    hdrs = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    assert hdrs["content-type"].startswith("text/event-stream"), hdrs
    assert hdrs.get("connection", "").lower() == "close", hdrs
    assert "transfer-encoding" not in hdrs and "content-length" not in hdrs, hdrs
    evs = parse_sse(body)
    text = {side: "".join(e.data["text"] for e in evs
                          if e.name == "delta" and e.data["side"] == side) for side in "ab"}
    assert len(text["a"]) == len(text["b"]) == fake_backend.BIG_DEFAULT
    b = c.get("/api/battles/" + bid).json()
    assert text["a"] == b["turns"][0]["a"] and text["b"] == b["turns"][0]["b"]
    assert [e.name for e in evs][-1] == "end" and evs[-1].data == {"turn": 1, "status": "ready"}
    assert sorted(e.name for e in evs if e.name in ("done", "error")) == ["done", "done"]
    assert agon.alive()


def test_concurrent_votes_on_one_battle(arena):
    c = arena.client()
    bid, es = c.battle("race")
    results = []
    lock = threading.Lock()

    def vote(w):
        cl = arena.client()
        cl.cookies = dict(c.cookies)
        r = cl.post("/api/battles/%s/vote" % bid, {"winner": w})
        with lock:
            results.append(r.status)

    ts = [threading.Thread(target=vote, args=("ab"[i % 2],)) for i in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(20)
    assert sorted(results) == [200] + [409] * 11, results
    lb = c.get("/api/leaderboard").json()
    assert lb["votes"] == 1
    assert sum(m["battles"] for m in lb["models"]) == 2
    assert sorted(m["elo"] for m in lb["models"]) == [998.0, 1002.0]


def test_many_concurrent_battles(agon_factory):
    models = slow_models(ms=20)
    agon = agon_factory(models)
    n = 40
    out = [None] * n

    def one(i):
        cl = agon.client()
        try:
            out[i] = cl.battle("crowd %d" % i, timeout=30)
        except Exception as e:  # reported below
            out[i] = e

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    for i, res in enumerate(out):
        assert isinstance(res, tuple), "battle %d: %r" % (i, res)
        bid, es = res
        assert es.end == {"turn": 1, "status": "ready"}, (i, es.end)
        assert {es.text("a"), es.text("b")} == expected_answers("crowd %d" % i, models)


def test_kill9_while_streaming(agon_factory):
    """A battle that was streaming when the server died is not left streaming."""
    agon = agon_factory(slow_models(ms=300, timeout=30))
    c = agon.client()
    bid = c.new_battle("interrupted").json()["id"]
    c.events("/api/battles/%s/events" % bid, stop=lambda raw: b"event: delta" in raw)
    agon.kill9()
    agon.start()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    b = c2.get("/api/battles/" + bid)
    assert b.status == 200
    assert b.json()["status"] == "failed", b.json()
    es = c2.events("/api/battles/%s/events" % bid, timeout=10)
    assert es.closed, "the event stream of an interrupted battle never ends"
    assert es.end == {"turn": 1, "status": "failed"}, es.end
    assert_error(c2.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    # The arena still works after the restart.
    bid2 = c2.new_battle("after restart").json()["id"]
    assert c2.wait_status(bid2, ("ready", "failed"), timeout=20)["status"] == "ready"


def test_sigterm_while_streaming(agon_factory):
    agon = agon_factory(slow_models(ms=300, timeout=30))
    c = agon.client()
    bid = c.new_battle("shutting down").json()["id"]
    watcher = {}
    t = threading.Thread(target=lambda: watcher.update(
        es=c.events("/api/battles/%s/events" % bid, timeout=20)))
    t.start()
    c.events("/api/battles/%s/events" % bid, stop=lambda raw: b"event: delta" in raw)
    rc = agon.stop(timeout=10)
    t.join(20)
    assert rc == 0, "exit status %r after SIGTERM; stderr:\n%s" % (rc, agon.stderr()[-2000:])
    # The server did not wait for the answers: its streams ended in the
    # middle of them, neither side done, the turn failed by the shutdown.
    es = watcher["es"]
    assert es.closed and es.of("delta"), es.raw[-500:]
    assert not es.of("done") and es.end == {"turn": 1, "status": "failed"}, es.raw[-500:]
    assert "the server is shutting down" in [e.data["message"] for e in es.of("error")]
    agon.start()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    assert c2.get("/api/battles/" + bid).json()["status"] == "failed"
    es = c2.events("/api/battles/%s/events" % bid, timeout=10)
    assert es.closed and es.end == {"turn": 1, "status": "failed"}, es.raw[-500:]


def test_max_turns(agon_factory):
    agon = agon_factory([Model("T-1", "echo-t1"), Model("T-2", "echo-t2")],
                        limits={"max_turns": 2})
    c = agon.client()
    bid, es = c.battle("one")
    assert c.post("/api/battles/%s/turns" % bid, {"prompt": "two"}).status == 202
    c.wait_status(bid, ("ready",))
    r = c.post("/api/battles/%s/turns" % bid, {"prompt": "three"})
    assert r.status in (400, 409, 429), r
    assert_error(r, r.status)
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def test_waiting_event_streams_do_not_spin(agon_factory):
    """Event streams waiting on a silent upstream cost no CPU (no busy wait)."""
    agon = agon_factory([Model("Wait-1", "hang-one", timeout=4), Model("Wait-2", "hang-two", timeout=4)])
    c = agon.client()
    bids = [c.new_battle("wait %d" % i).json()["id"] for i in range(3)]
    res = []
    ts = [threading.Thread(target=lambda b=b: res.append(
        c.events("/api/battles/%s/events" % b, timeout=15))) for b in bids for _ in range(2)]
    for t in ts:
        t.start()
    # every stream suspended, every upstream request waiting
    wait_for(lambda: metric(c, "agon_streams_open") == 6 and
             metric(c, "agon_upstream_active") == 6, what="6 streams on 6 upstreams")
    cpu0, t0 = _cpu_seconds(agon.proc.pid), time.monotonic()
    time.sleep(2.0)  # measuring a quiet interval: nothing to await here
    cpu = _cpu_seconds(agon.proc.pid) - cpu0
    wall = time.monotonic() - t0
    for t in ts:
        t.join(20)
    assert cpu < 0.25 * wall, "agon used %.2fs of CPU in %.2fs while waiting" % (cpu, wall)
    assert len(res) == 6 and all(es.closed and es.end["status"] == "failed" for es in res)


def test_finished_battles_in_memory_are_bounded(agon_factory):
    """Finished battles stay in memory only as a cache of the database: past
    256 of them the idle ones are dropped at once (their answers could
    otherwise pile up outside every limit), and are read back from the
    database when asked for."""
    agon = agon_factory(two_echo_models())
    c = agon.client()
    bids = [c.battle("battle number %d" % i)[0] for i in range(270)]
    assert "idle battles dropped from memory" in agon.stderr()
    first = c.get("/api/battles/" + bids[0])
    assert first.status == 200 and first.json()["status"] == "ready", first
    assert "battle number 0" in first.json()["turns"][0]["prompt"]
    r = c.post("/api/battles/%s/vote" % bids[0], {"winner": "a"})
    assert r.status == 200, r
    assert c.get("/api/battles/" + bids[0]).json()["models"] is not None
