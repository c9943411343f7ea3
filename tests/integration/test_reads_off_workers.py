"""No HTTP worker waits on the disk (issue 15): every endpoint whose reply
needs the database read (the judges' counts, the admin's list of battles
and its export, the measured benchmarks, the leaderboard's judges and
measured columns once the data version moved) reads it off the two HTTP
workers, on the arena's loader thread or an export's own, with the
connection suspended. While the disk does not answer reads
(tests/shims/read_gate.c), those requests wait, or are refused at the
bound at once, and /healthz, /api/models and GET / keep answering; once it
answers again each gets the very reply it got before. (Every integration
test also fails when a worker reaches the database at all: conftest's
markers hold util/nowait.h's line.)"""

import json
import socket
import sqlite3
import threading
import time

from conftest import assert_error, sqlite_only, two_echo_models, wait_for
from test_agon_bench import gsm_test, gsm_train, write_jsonl
from test_battle_cache import read_gate
from test_judges import LONG, SHORT, agon_judge, judge_summary, play, start_arena

TOKEN = "reads-off-the-workers-admin-token-0123"
ADMIN = {"Authorization": "Bearer " + TOKEN}
JUDGE = "gated"

# what each waits for: the loader (one thread, 64 waiting at most) or an
# export's thread (2 at once)
LOADED = ["/api/judges",
          "/api/benchmarks",
          "/api/leaderboard",
          "/api/leaderboard?sort=bt",
          "/api/leaderboard?source=judge&judge=" + JUDGE,
          "/api/admin/battles?limit=2",
          "/api/admin/battles?status=voted"]
EXPORTS = ["/api/admin/export?format=fastchat", "/api/admin/export?format=jsonl"]
THIRD_EXPORT = "/api/admin/export?format=csv"


def gated_arena(agon_factory, tmp_path, **cfg):
    """Two models, a judge and the admin API, with the read gate."""
    agon = start_arena(agon_factory, [(JUDGE, "judge-longer-21", {})], start=False,
                       server_extra="admin_token_env = AGON_TEST_ADMIN", **cfg)
    agon.env["AGON_TEST_ADMIN"] = TOKEN
    gate = read_gate(agon, tmp_path)
    agon.start()
    return agon, gate


def reply(r):
    """What must not change: the status, the body and its headers. A
    board says when it was built and fitted (updated_at, bt_updated_at, and its fit count
    bt_fit): a
    judge's board is fitted when it is built, and the human board is
    rebuilt and refitted when another process committed (the node reloads
    its live ratings then, storage/nodes.h): that alone may differ."""
    body = r.body
    if b'"source":"judge"' in body or b'"source":"human"' in body:
        j = json.loads(body)
        j.pop("bt_updated_at", None)
        j.pop("updated_at", None)
        j.pop("bt_fit", None)  # how many fits it has had
        body = json.dumps(j).encode()
    return (r.status, r.header("Content-Type"), r.header("Content-Length"), body)


def get(c, path, timeout=10):
    return c.get(path, headers=ADMIN if "/admin/" in path else None, timeout=timeout)


def commit_from_outside(db):
    """A commit of another process, which changes no reply: every
    connection of agon's drops its page cache (the next read goes to the
    disk), and the data version moves (the cached boards are stale)."""
    con = sqlite3.connect(db, timeout=10)
    with con:
        con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('test.read_gate', ?)",
                    (repr(time.time()),))
    con.close()


def first_difference(got, want):
    i = next((k for k, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
    return got[max(0, i - 80):i + 80], want[max(0, i - 80):i + 80]


def others_answered(agon):
    other = agon.client()
    for path in ("/healthz", "/api/models", "/"):
        r = other.get(path, timeout=3)
        assert r.status == 200, (path, r)


@sqlite_only("the disk's reads are stopped under the SQLite file (read_gate) and another "
             "process commits with sqlite3; on PostgreSQL the same loader is exercised by "
             "test_battle_cache's reads stopped by a lock")
def test_endpoints_that_read_wait_off_the_workers(agon_factory, tmp_path):
    agon, gate = gated_arena(agon_factory, tmp_path)
    c = agon.client()
    for i in range(3):
        play(c, "read off the workers %d" % i, "long")
    play(c, "not voted")
    verdicts = judge_summary(agon_judge(agon))[1]
    assert verdicts == 4
    r = agon.run("bench", "--config", agon.config, "--task", "gsm8k", "--mode", "generate",
                 "--data", write_jsonl(tmp_path / "g.jsonl", gsm_test()),
                 "--shots", write_jsonl(tmp_path / "gs.jsonl", gsm_train()),
                 "--model", SHORT.name, timeout=60)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: get(c, "/api/benchmarks").json()["runs"], 10, "the run on /api/benchmarks")
    # the replies with the disk answering: what each must get again
    paths = LOADED + EXPORTS + [THIRD_EXPORT]
    want = {p: reply(get(c, p)) for p in paths}
    for p in paths:
        assert want[p][0] == 200, (p, want[p])
    judges = get(c, "/api/judges").json()["judges"]
    assert [(j["name"], j["compared"]) for j in judges] == [(JUDGE, 3)], judges
    assert [x["task"] for x in get(c, "/api/benchmarks").json()["runs"]] == ["gsm8k"]
    lb = get(c, "/api/leaderboard?source=judge&judge=" + JUDGE).json()
    assert lb["votes"] >= 3, lb
    human = get(c, "/api/leaderboard").json()
    rows = {m["model"]: m for m in human["models"] + human["provisional"]}
    assert [x["task"] for x in rows[SHORT.name]["measured"]] == ["gsm8k"], rows
    assert len(get(c, "/api/admin/battles?status=voted").json()["battles"]) == 3

    commit_from_outside(agon.db)
    time.sleep(0.5)  # the data version watch has seen it (it looks every 0.1 s)
    gate.touch()
    results, lock = {}, threading.Lock()

    def ask(key, path):
        r = get(agon.client(), path, timeout=60)
        with lock:
            results[key] = r

    # each endpoint twice (more requests than there are workers), and both
    # exports there may be at once
    keys = [(p, n) for p in LOADED for n in range(2)] + [(p, 0) for p in EXPORTS]
    threads = [threading.Thread(target=ask, args=(k, k[0])) for k in keys]
    try:
        for t in threads:
            t.start()
        time.sleep(1.0)
        for _ in range(3):
            others_answered(agon)
            assert not results, sorted(results)
        # a third export is refused at once, the others waiting
        assert assert_error(get(agon.client(), THIRD_EXPORT, timeout=3), 503)["code"] == \
            "unavailable"
        others_answered(agon)
        assert not results, sorted(results)
    finally:
        gate.unlink()
    for t in threads:
        t.join(60)
    assert sorted(results) == sorted(keys)
    for (path, n), r in results.items():
        assert reply(r) == want[path], (path, n, reply(r)[:3], first_difference(reply(r)[3],
                                                                                 want[path][3]))
    assert reply(get(c, THIRD_EXPORT)) == want[THIRD_EXPORT]


@sqlite_only("the disk's reads are stopped under the SQLite file (read_gate) and another "
             "process commits with sqlite3; on PostgreSQL the same loader is exercised by "
             "test_battle_cache's reads stopped by a lock")
def test_reads_past_the_loaders_bound_are_refused(agon_factory, tmp_path):
    """The loader keeps at most 64 reads waiting: with the disk stopped,
    70 requests that read are one in the loader, 64 waiting and 5 refused
    at once (503 unavailable); the workers answer everything else
    meanwhile, and every request that waited gets its reply."""
    agon, gate = gated_arena(agon_factory, tmp_path)
    c = agon.client()
    play(c, "bounded", "long")
    path = "/api/admin/battles"
    want = reply(get(c, path))
    assert want[0] == 200 and len(get(c, path).json()["battles"]) == 1
    commit_from_outside(agon.db)
    gate.touch()
    results, lock = [], threading.Lock()

    def ask():
        r = get(agon.client(), path, timeout=60)
        with lock:
            results.append(r)

    n = 70
    threads = [threading.Thread(target=ask) for _ in range(n)]
    try:
        for t in threads:
            t.start()
        wait_for(lambda: len(results) >= n - 65, 20, "the reads past the bound refused")
        time.sleep(0.5)
        for _ in range(3):
            others_answered(agon)
        with lock:
            refused = list(results)
        assert len(refused) == n - 65, len(refused)
        for r in refused:
            assert assert_error(r, 503)["code"] == "unavailable"
    finally:
        gate.unlink()
    for t in threads:
        t.join(60)
    answered = [r for r in results if r.status == 200]
    assert len(answered) == 65, len(answered)
    assert all(reply(r) == want for r in answered)


def imported_log(path, n, size):
    """n FastChat records of about size bytes each, as JSON lines."""
    recs = []
    for i in range(n):
        text = ("record %d says " % i) + "x" * (size // 4)
        conv = lambda who: [{"role": "user", "content": text},
                            {"role": "assistant", "content": who + " " + text}]
        recs.append({"question_id": "imported-%04d" % i, "model_a": "Nimbus-Delta-7B",
                     "model_b": "Cobalt-Quill-13B", "winner": ["model_a", "model_b", "tie"][i % 3],
                     "judge": "arena_user_%d" % i, "conversation_a": conv("a"),
                     "conversation_b": conv("b"), "turn": 1, "anony": True,
                     "language": "English", "tstamp": 1700000000.0 + i})
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return str(path)


def test_a_slow_export_is_streamed_in_full(agon_factory, tmp_path):
    """An export much larger than the relay between its file and the client
    (256 KiB) comes out whole, with its Content-Length, and byte for byte
    what `agon export` writes, in every format; also to a client that reads
    it slowly (the relay full, the export's thread waiting on it) while the
    workers answer everything else."""
    agon = agon_factory(two_echo_models(), start=False,
                        server_extra="admin_token_env = AGON_TEST_ADMIN")
    agon.env["AGON_TEST_ADMIN"] = TOKEN
    r = agon.run("import", "--db", agon.db, imported_log(tmp_path / "big.jsonl", 400, 8000))
    assert r.returncode == 0, r.stderr
    cli = {}
    for fmt in ("fastchat", "jsonl", "csv"):
        r = agon.run("export", "--db", agon.db, "--format", fmt, timeout=60)
        assert r.returncode == 0, r.stderr
        cli[fmt] = r.stdout.encode()
    assert len(cli["fastchat"]) > 3 * 1024 * 1024, len(cli["fastchat"])
    agon.start()
    c = agon.client()
    for fmt in ("fastchat", "jsonl", "csv"):
        a = get(c, "/api/admin/export?format=" + fmt, timeout=60)
        assert a.status == 200 and int(a.header("Content-Length")) == len(a.body)
        assert a.body == cli[fmt], (fmt, first_difference(a.body, cli[fmt]))
    s = socket.create_connection(("127.0.0.1", agon.port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(("GET /api/admin/export?format=fastchat HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Bearer %s\r\nConnection: close\r\n\r\n" % TOKEN).encode())
    got = bytearray(s.recv(65536))
    time.sleep(1.0)  # the socket's buffers and the relay fill up
    for _ in range(3):
        others_answered(agon)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    head, _, body = bytes(got).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert body == cli["fastchat"]
