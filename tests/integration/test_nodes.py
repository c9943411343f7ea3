"""Several nodes on one database (docs/deploy.md): three `agon serve`
processes on one SQLite file in WAL mode, each with its [server] node name
and a short lease. A battle streams from the node that started it (its id
names it); its event stream, follow-ups, regenerates and retries that reach
another node are forwarded there, votes and reads are answered by any node
from the database; a node that dies has its streaming battles failed by
the others once its lease has passed; a forwarding loop and a dead node get
clear errors."""

import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import (Agon, Client, Model, check_sanitizers, sqlite_only,
                      wait_for)

LEASE = 3       # [cluster] lease_seconds
HEARTBEAT = 1   # [cluster] heartbeat_seconds


def slow_models():
    """Two models whose answers take about a second to stream."""
    return [Model("Nimbus-Delta-7B", "slow40-nimbus-up-31", timeout=30),
            Model("Cobalt-Quill-13B", "slow40-cobalt-up-77", timeout=30)]


def hang_models():
    """Two models that never finish: battles that stream until stopped."""
    return [Model("Nimbus-Delta-7B", "hang-nimbus-up-31", timeout=60),
            Model("Cobalt-Quill-13B", "hang-cobalt-up-77", timeout=60)]


def echo_models():
    return [Model("Nimbus-Delta-7B", "echo-nimbus-up-31"),
            Model("Cobalt-Quill-13B", "echo-cobalt-up-77")]


class Cluster:
    """n nodes n1..nN on one database (a SQLite file, or with
    AGON_TEST_ENGINE=postgres one PostgreSQL database), each an Agon of its
    own."""

    def __init__(self, agon_bin, tmp_path, fake, models, n=3, extra=None,
                 engine_db=None):
        url, pg = engine_db() if engine_db else (None, None)
        self.db = url or str(tmp_path / "shared.db")
        self.nodes = []
        for i in range(1, n + 1):
            a = Agon(agon_bin, tmp_path / ("n%d" % i), fake)
            a.db = self.db
            if url:
                a.engine, a.pg = "postgres", pg
            lines = ["node = n%d" % i]
            if extra and i in extra:
                lines.append(extra[i])
            lines += ["", "[cluster]", "lease_seconds = %d" % LEASE,
                      "heartbeat_seconds = %d" % HEARTBEAT]
            a.write_config(models, server_extra="\n".join(lines))
            self.nodes.append(a)

    def __getitem__(self, i):
        return self.nodes[i - 1]

    def start(self, together=False):
        if not together:
            for a in self.nodes:
                a.start()
            return self
        errors = []

        def go(a):
            try:
                a.start()
            except AssertionError as e:  # pragma: no cover - reported below
                errors.append(e)
        ts = [threading.Thread(target=go, args=(a,)) for a in self.nodes]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors
        return self

    def client(self, i, like=None):
        """A client of node i; like: another client whose session it has."""
        c = Client(self[i].url)
        if like is not None:
            c.cookies = like.cookies
        return c

    def stop(self):
        for a in self.nodes:
            a.stop()

    def sanitizer_reports(self):
        return [r for a in self.nodes for r in a.sanitizer_reports()]


@pytest.fixture
def cluster(agon_bin, fake, tmp_path, engine_db):
    made = []

    def make(models, n=3, start=True, together=False, extra=None):
        c = Cluster(agon_bin, tmp_path / ("c%d" % len(made)), fake, models, n,
                    extra, engine_db)
        made.append(c)
        if start:
            c.start(together)
        return c

    yield make
    reports = []
    for c in made:
        c.stop()
        reports += c.sanitizer_reports()
    if reports:
        pytest.fail("sanitizer reports in agon's stderr:\n%s" % reports)


def battle_status(client, bid):
    r = client.get("/api/battles/" + bid)
    assert r.status == 200, r
    return r.json()["status"]


def test_ids_name_their_node(cluster):
    c = cluster(echo_models(), n=2)
    for i in (1, 2):
        cl = c.client(i)
        bid, es = cl.battle("which node am I on?")
        assert re.fullmatch(r"n%d-[0-9a-f]{24}" % i, bid), bid
        assert es.end["status"] == "ready"


def test_stream_follow_up_and_vote_through_other_nodes(cluster):
    """A battle started on node 1, its events streamed through node 2, a
    follow-up posted through node 3 and streamed through node 2 again, read
    and voted through node 3: every node gives the same battle."""
    c = cluster(slow_models())
    c1 = c.client(1)
    r = c1.new_battle("Tell me about the sea")
    bid, events = r.json()["id"], r.json()["events"]
    assert bid.startswith("n1-")
    c2 = c.client(2, like=c1)
    c3 = c.client(3, like=c1)
    # read through node 3 while it streams on node 1: streaming, from the
    # database (no answer there yet: deltas never go through it)
    assert battle_status(c3, bid) == "streaming"
    head = c2.request("HEAD", events)  # forwarded as a GET, its body dropped
    assert head.status == 200 and head.body == b"", head
    es = c2.events(events, timeout=20)
    assert es.status == 200 and es.closed, es
    hdrs = {k.lower(): v for k, v in es.headers}
    assert hdrs["content-type"].startswith("text/event-stream")
    assert hdrs["x-accel-buffering"] == "no"
    assert len(es.of("delta")) >= 4, "the stream came in one piece"
    assert es.end == {"turn": 1, "status": "ready"}
    a_text, b_text = es.text("a", 1), es.text("b", 1)
    assert "you said: Tell me about the sea" in a_text
    # the same answers read through every node
    for cl in (c1, c2, c3):
        t = cl.get("/api/battles/" + bid).json()["turns"][0]
        assert (t["a"], t["b"]) == (a_text, b_text)
    # a follow-up through node 3, forwarded to node 1
    f = c3.post("/api/battles/%s/turns" % bid, {"prompt": "And the sky?"})
    assert f.status == 202, f
    assert f.json() == {"turn": 2, "events": events}
    es2 = c2.events(events, timeout=20)
    assert es2.end == {"turn": 2, "status": "ready"}, es2.raw[-300:]
    assert "you said: And the sky?" in es2.text("a", 2)
    # another session through node 2 is refused by the battle's node
    other = c.client(2)
    f = other.post("/api/battles/%s/turns" % bid, {"prompt": "mine now"})
    assert f.status == 403 and f.json()["error"]["code"] == "not_your_battle"
    # voted through node 3, from the database
    v = c3.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert v.status == 200, v
    assert set(v.json()["models"].values()) == {"Nimbus-Delta-7B",
                                                 "Cobalt-Quill-13B"}
    # node 1 had the battle in memory, ready: it follows the vote
    wait_for(lambda: battle_status(c1, bid) == "voted", 5,
             "node 1 to see the vote made on node 3")
    for cl in (c1, c2, c3):
        j = cl.get("/api/battles/" + bid).json()
        assert j["status"] == "voted" and j["winner"] == "a"
        assert len(j["turns"]) == 2
    # a regenerate of a voted battle through node 2: refused by node 1
    g = c2.post("/api/battles/%s/regenerate" % bid, {})
    assert g.status == 409, g
    assert g.json()["error"]["code"] == "battle_not_ready"


def test_votes_on_every_node(cluster):
    """Votes through all three nodes, in turn and at once: each node's
    leaderboard follows the others' votes, and the live ratings equal a
    replay of every vote (agon recompute)."""
    c = cluster(echo_models())
    clients = [c.client(i) for i in (1, 2, 3)]
    done = []
    for k in range(9):
        cl = clients[k % 3]
        bid, es = cl.battle("vote %d" % k)
        v = clients[(k + 1) % 3].__class__(c[(k + 1) % 3 + 1].url)
        v.cookies = cl.cookies
        r = v.post("/api/battles/%s/vote" % bid, {"winner": "ab"[k % 2]})
        assert r.status == 200, r
        done.append((r.json()["models"]["a"], r.json()["models"]["b"],
                     "ab"[k % 2]))
    # at once, through every node
    ids = []
    for k in range(12):
        cl = clients[k % 3]
        bid, _ = cl.battle("at once %d" % k)
        ids.append((cl, bid, "tie" if k % 4 == 0 else "ab"[k % 2]))
    results = [None] * len(ids)

    def vote(i):
        cl, bid, w = ids[i]
        v = Client(c[(i + 2) % 3 + 1].url)
        v.cookies = cl.cookies
        results[i] = v.post("/api/battles/%s/vote" % bid, {"winner": w})
    ts = [threading.Thread(target=vote, args=(i,)) for i in range(len(ids))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all(r.status == 200 for r in results), results
    votes = 9 + 12

    def boards_agree():
        boards = [cl.get("/api/leaderboard").json() for cl in clients]
        if any(b["votes"] != votes for b in boards):
            return False
        elo = [{m["model"]: m["elo"] for m in b["models"]} for b in boards]
        return elo[0] == elo[1] == elo[2]
    wait_for(boards_agree, 10, "every node's leaderboard to count every vote")
    for a in c.nodes:
        a.stop()
    r = c[1].run("recompute", "--db", c.db)
    assert r.returncode == 0, r.stdout + r.stderr


def test_kill9_reaper_fails_only_the_dead_nodes_battles(cluster):
    c = cluster(hang_models())
    c1, c2, c3 = c.client(1), c.client(2), c.client(3)
    dead = c1.new_battle("on the node that dies").json()["id"]
    alive = c2.new_battle("on a node that lives").json()["id"]
    assert battle_status(c3, dead) == "streaming"
    assert battle_status(c3, alive) == "streaming"
    time.sleep(0.5)  # their rows committed (a 201 comes before)
    c[1].kill9()
    killed = time.monotonic()
    # until its lease has passed, nothing is failed; then the reaper of
    # the others fails the dead node's battle, and only that one
    wait_for(lambda: battle_status(c3, dead) == "failed", LEASE + 4,
             "the dead node's battle to be failed")
    assert time.monotonic() - killed >= LEASE - 1
    assert battle_status(c3, alive) == "streaming"
    assert battle_status(c2, alive) == "streaming"
    # its events: the end, from the database, through any node
    es = c3.events("/api/battles/%s/events" % dead, timeout=5)
    assert es.status == 200 and es.closed
    assert es.end["status"] == "failed", es.raw
    # a follow-up or a retry asks a node that is gone
    c3.cookies = c1.cookies
    r = c3.post("/api/battles/%s/turns" % dead, {"prompt": "more"})
    assert r.status == 503 and r.json()["error"]["code"] == "node_gone", r
    # the living node's battle still streams through node 3
    es = c3.events("/api/battles/%s/events" % alive, timeout=1.5)
    assert es.status == 200 and not es.closed


def test_owner_gone_gives_a_clear_error_and_votes_still_work(cluster):
    c = cluster(echo_models())
    c1 = c.client(1)
    bid, es = c1.battle("a battle whose node stops")
    assert es.end["status"] == "ready"
    assert c[1].stop() == 0  # its lease ends at once
    c2 = c.client(2, like=c1)
    r = c2.post("/api/battles/%s/turns" % bid, {"prompt": "still there?"})
    assert r.status == 503, r
    err = r.json()["error"]
    assert err == {"code": "node_gone",
                   "message": "the node that runs this battle is gone: it "
                              "takes no more turns, and a turn it was "
                              "streaming fails"}
    r = c2.post("/api/battles/%s/regenerate" % bid, {})
    assert r.status == 503 and r.json()["error"]["code"] == "node_gone"
    # its events come from the database: the turn as it was left
    es = c2.events("/api/battles/%s/events" % bid, timeout=5)
    assert es.status == 200 and es.end["status"] == "ready"
    # it can still be voted through any node
    v = c2.post("/api/battles/%s/vote" % bid, {"winner": "tie"})
    assert v.status == 200, v
    # a node nobody knows: no such battle
    r = c2.get("/api/battles/zz-%s/events" % ("0" * 24))
    assert r.status == 404 and r.json()["error"]["code"] == "battle_not_found"


def test_forwarding_loop_is_refused(agon_bin, fake, tmp_path, cluster):
    """Node 2's row gives node 3's address (a misconfigured internal_url):
    node 1 forwards node 2's battle there, and node 3, which does not run
    it, refuses to forward it again."""
    c = cluster(echo_models(), start=False)
    c[3].start()
    # node 2 says it is reached at node 3's address
    cfg = Path(c[2].config)
    cfg.write_text(cfg.read_text().replace(
        "node = n2", "node = n2\ninternal_url = %s" % c[3].url))
    c[2].start()
    c[1].start()
    c2 = c.client(2)
    r = c2.new_battle("whose battle is this")
    bid = r.json()["id"]
    assert bid.startswith("n2-")
    c1 = c.client(1, like=c2)
    r = c1.get("/api/battles/%s/events" % bid)
    assert r.status == 508, r
    assert r.json()["error"]["code"] == "forward_loop"
    r = c1.post("/api/battles/%s/turns" % bid, {"prompt": "again"})
    assert r.status == 508 and r.json()["error"]["code"] == "forward_loop"


def test_forged_forward_header_is_refused(cluster):
    c = cluster(echo_models(), n=1)
    cl = c.client(1)
    for value in ("v1 n2 10.0.0.9 0 " + "0" * 64, "garbage", "v1 n2",
                  "v1 N2 10.0.0.9 0 " + "a" * 64):
        r = cl.get("/api/models", headers={"X-Agon-Forwarded": value})
        assert r.status == 403, (value, r)
        assert r.json()["error"]["code"] == "forward_refused"


def test_a_node_name_is_one_process(cluster):
    c = cluster(echo_models(), n=1)
    # a second process with node = n1 on the same database is refused
    twin = c.nodes[0].__class__(c[1].bin, Path(c[1].dir) / "twin", c[1].fake)
    twin.db, twin.engine, twin.pg = c.db, c[1].engine, c[1].pg
    twin.write_config(echo_models(), server_extra="node = n1")
    r = twin.run("serve", "--config", twin.config, "--listen", "127.0.0.1:0",
                 timeout=10)
    assert r.returncode == 1
    assert re.search(r"node 'n1' is held by another process \(host .*, pid "
                     r"%d, http://127\.0\.0\.1:%d\) for \d+ s more: give each "
                     r"node its own \[server\] node" % (c[1].proc.pid, c[1].port),
                     r.stderr), r.stderr


def test_restart_after_kill9_fails_its_own_battles_at_once(cluster):
    c = cluster(hang_models(), n=1)
    cl = c.client(1)
    bid = cl.new_battle("streaming when killed").json()["id"]
    time.sleep(0.5)  # its row committed (a 201 comes before)
    c[1].kill9()
    t0 = time.monotonic()
    c[1].start()  # its process is gone: the name is taken over at once
    assert time.monotonic() - t0 < LEASE
    cl = c.client(1)
    assert battle_status(cl, bid) == "failed"
    assert "node taken over from a process that is gone" in c[1].stderr()


def test_nodes_start_together(cluster):
    """Three nodes starting at once on a new database: one creates its
    schema and secret, the others take them."""
    c = cluster(echo_models(), together=True)
    for i in (1, 2, 3):
        bid, es = c.client(i).battle("started together")
        assert es.end["status"] == "ready"


@sqlite_only("the switch of a new SQLite file to WAL mode")
def test_processes_opening_a_new_file_at_once(agon_bin, tmp_path):
    """Processes that open one new SQLite file at the same moment all start:
    switching the file to WAL mode is tried again while another holds it
    (it failed with "database is locked" in about 3 of 100 rounds of four,
    without waiting for the busy timeout)."""
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    for k in range(60):
        db = tmp_path / ("r%d.db" % k)
        ps = [subprocess.Popen([agon_bin, "import", "--db", str(db),
                                str(empty)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
              for _ in range(4)]
        for p in ps:
            out, err = p.communicate(timeout=60)
            check_sanitizers(err)
            assert p.returncode == 0, (k, err)
            assert "imported 0 battles" in out


def test_shares_and_own_boards_follow_every_node(cluster):
    """A link shared through one node opens through the others, taken back
    through another it answers 404 on all of them at once; a session's own
    board counts its votes made through any node."""
    c = cluster(echo_models())
    c1 = c.client(1)
    c2, c3 = c.client(2, like=c1), c.client(3, like=c1)
    bid, _ = c1.battle("share me")
    assert c2.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    assert c1.get("/api/leaderboard/mine").json()["votes"] == 1
    r = c3.post("/api/battles/%s/share" % bid, {})
    assert r.status == 200, r
    url = r.json()["url"]
    token = url.split("/")[-1]
    for cl in (c1, c2, c3):
        assert cl.get(url).status == 200
        g = cl.get("/api/shared/" + token)
        assert g.status == 200 and g.json()["winner"] == "a"
    # the same link, whichever node is asked
    assert c1.post("/api/battles/%s/share" % bid, {}).json()["url"] == url
    r = c2.request("DELETE", "/api/battles/%s/share" % bid)
    assert r.status == 200 and r.json() == {"shared": False}
    for cl in (c1, c2, c3):
        assert cl.get(url).status == 404
        assert cl.get("/api/shared/" + token).status == 404
    again = c1.post("/api/battles/%s/share" % bid, {}).json()["url"]
    assert again != url and c3.get(again).status == 200
    # the own board: a vote through node 3 shows on node 1's board
    bid2, _ = c2.battle("another")
    assert c3.post("/api/battles/%s/vote" % bid2, {"winner": "b"}).status == 200
    wait_for(lambda: c1.get("/api/leaderboard/mine").json()["votes"] == 2, 5,
             "node 1's own board to count the vote made on node 3")


def test_judges_and_taggers_run_once_per_job(cluster, fake):
    """Auto judges and taggers on every node: a battle is judged by the
    node that streamed it, once, and tagged by the node that stored its
    vote, once: one request per job, not one per node."""
    extra = "\n".join(["", "[judge j]", "base_url = %s" % fake.api_base,
                       "model = judge-first-nodes", "auto = true", "swap = false",
                       "timeout = 20", "", "[tagger t]", "base_url = %s" % fake.api_base,
                       "model = echo-tagger-nodes", "categories = math", "retries = 0",
                       "auto = true", "timeout = 20"])
    c = cluster(echo_models(), n=2, start=False)
    for a in c.nodes:
        Path(a.config).write_text(Path(a.config).read_text() + extra + "\n")
    c.start()
    prompts = []
    for i in range(6):
        owner = c.client(1 + i % 2)
        bid, es = owner.battle("judge me once, number %d" % i)
        assert es.end["status"] == "ready"
        other = c.client(2 - i % 2, like=owner)
        assert other.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
        prompts.append("judge me once, number %d" % i)

    def asked(prefix):
        return [r for r in fake.requests()
                if isinstance(r["body"], dict) and
                str(r["body"].get("model", "")).startswith(prefix)]

    def per_prompt(reqs):
        text = [json_text(r["body"]) for r in reqs]
        return [sum(p in t for t in text) for p in prompts]
    wait_for(lambda: len(asked("judge-first-nodes")) >= 6 and
             len(asked("echo-tagger-nodes")) >= 6, 15, "every battle judged and tagged")
    time.sleep(1.5)  # and nothing more comes
    assert per_prompt(asked("judge-first-nodes")) == [1] * 6
    assert per_prompt(asked("echo-tagger-nodes")) == [1] * 6


def json_text(obj):
    import json
    return json.dumps(obj, ensure_ascii=False)


def test_big_answers_through_a_slow_reader(cluster):
    """Answers of 400 kB each streamed through another node to a reader
    that takes 4 KiB at a time: the relay holds at most its bounded buffer
    and pauses the transfer meanwhile; every byte arrives, in order."""
    big = [Model("Nimbus-Delta-7B", "big-400000-nimbus", timeout=30),
           Model("Cobalt-Quill-13B", "big-400000-cobalt", timeout=30)]
    c = cluster(big, n=2)
    c1 = c.client(1)
    bid, direct = c1.battle("a long one", timeout=30)
    assert direct.end["status"] == "ready"
    f = c.client(2, like=c1)
    # the battle's events again, through node 2, read slowly
    s = socket.create_connection(("127.0.0.1", c[2].port), timeout=30)
    s.sendall(("GET /api/battles/%s/events HTTP/1.1\r\nHost: x\r\nCookie: "
               "agon_session=%s\r\n\r\n" % (bid, f.cookies["agon_session"])).encode())
    raw = bytearray()
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        raw += chunk
        time.sleep(0.002)
    s.close()
    head, _, body = bytes(raw).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    from conftest import parse_sse
    events = parse_sse(body)
    text = {side: "".join(e.data["text"] for e in events
                          if e.name == "delta" and e.data["side"] == side)
            for side in "ab"}
    assert text == {"a": direct.text("a"), "b": direct.text("b")}
    assert len(text["a"]) >= 400000
    assert events[-1].name == "end" and events[-1].data["status"] == "ready"


def test_kill9_under_votes_loses_no_acknowledged_vote(cluster):
    """Votes through all three nodes at once while one is killed: every
    vote answered 200 is stored, and a replay of the stored votes equals
    the live ratings."""
    c = cluster(echo_models())
    battles = []
    for i in range(36):
        owner = c.client(1 + i % 3)
        bid, es = owner.battle("under load %d" % i)
        assert es.end["status"] == "ready"
        battles.append((owner.cookies, bid))
    acked, lock = [], threading.Lock()

    def voter(k):
        for j in range(k, len(battles), 3):
            cookies, bid = battles[j]
            v = Client(c[1 + (j + k) % 3].url)
            v.cookies = cookies
            try:
                r = v.post("/api/battles/%s/vote" % bid, {"winner": "ab"[j % 2]})
            except OSError:
                continue  # the killed node: not acknowledged
            if r.status == 200:
                with lock:
                    acked.append(bid)
            time.sleep(0.01)
    ts = [threading.Thread(target=voter, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    time.sleep(0.1)
    c[1].kill9()
    for t in ts:
        t.join()
    assert len(acked) >= 12, acked
    stored = {r[0] for r in c[2].sql("SELECT battle_id FROM votes")}
    assert set(acked) <= stored, set(acked) - stored
    c[2].stop()
    c[3].stop()
    r = c[2].run("recompute", "--db", c.db)
    assert r.returncode == 0, r.stdout + r.stderr


ADMIN = "admin-token-for-nodes-0123456789abcdef"


def test_admin_changes_reach_every_node(cluster):
    """A model disabled through one node is disabled on every node, and a
    reload through one node reloads each node from its own file: the change
    is sent on to the others (signed as forwarded, with the admin's token),
    and the reply says what each answered. A node that is down is named
    unreachable; one without the model says so; a wrong token changes
    nothing anywhere."""
    models = echo_models() + [Model("Ember-Finch-3B", "echo-ember-up-5")]
    c = cluster(models, start=False,
                extra={i: "admin_token_env = AGON_NODES_ADMIN" for i in (1, 2, 3)})
    for a in c.nodes:
        a.env["AGON_NODES_ADMIN"] = ADMIN
    c.start()
    auth = {"Authorization": "Bearer " + ADMIN}
    n1, n2, n3 = (c[i].client() for i in (1, 2, 3))

    def enabled(client):
        return sorted(m["name"] for m in client.get("/api/models").json()["models"])

    def alive_peers(client):
        nodes = client.get("/api/admin/nodes", headers=auth).json()["nodes"]
        return sorted(x["name"] for x in nodes if x["alive"])
    wait_for(lambda: alive_peers(n1) == ["n1", "n2", "n3"], 10, "three nodes")
    time.sleep(HEARTBEAT + 0.5)  # each has read the table since

    # a wrong token: refused here, and nothing is sent on
    r = n1.post("/api/admin/models/Ember-Finch-3B", {"enabled": False},
                headers={"Authorization": "Bearer wrong"})
    assert r.status == 401, r
    assert all("Ember-Finch-3B" in enabled(x) for x in (n1, n2, n3))

    r = n1.post("/api/admin/models/Ember-Finch-3B", {"enabled": False}, headers=auth)
    assert r.status == 200, r
    body = r.json()
    assert body["node"] == "n1" and body["enabled"] is False
    assert sorted(body["nodes"], key=lambda x: x["node"]) == [
        {"node": "n2", "status": 200}, {"node": "n3", "status": 200}], body
    for x in (n1, n2, n3):
        assert enabled(x) == ["Cobalt-Quill-13B", "Nimbus-Delta-7B"]
    # no node pairs it any more
    for x in (n1, n2, n3):
        for i in range(4):
            bid, es = x.battle("which models now %d" % i)
            assert x.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).status == 200
            m = x.get("/api/battles/" + bid).json()["models"]
            assert "Ember-Finch-3B" not in (m["a"], m["b"]), m

    # a reload through n2: every node reads its own file again (n3's no
    # longer has Ember-Finch-3B, the others' still do: enabled again)
    c[3].write_config(echo_models(), server_extra="\n".join([
        "node = n3", "admin_token_env = AGON_NODES_ADMIN", "", "[cluster]",
        "lease_seconds = %d" % LEASE, "heartbeat_seconds = %d" % HEARTBEAT]))
    r = n2.post("/api/admin/reload", {}, headers=auth)
    assert r.status == 200, r
    body = r.json()
    assert body["node"] == "n2" and body["reloaded"] is True and body["models"] == 3
    assert sorted(body["nodes"], key=lambda x: x["node"]) == [
        {"node": "n1", "status": 200}, {"node": "n3", "status": 200}], body
    assert "Ember-Finch-3B" in enabled(n1) and "Ember-Finch-3B" in enabled(n2)
    assert enabled(n3) == ["Cobalt-Quill-13B", "Nimbus-Delta-7B"]

    # a node without the model says so; the change stands where it was made
    r = n1.post("/api/admin/models/Ember-Finch-3B", {"enabled": False}, headers=auth)
    assert r.status == 200, r
    got = {x["node"]: x for x in r.json()["nodes"]}
    assert got["n2"] == {"node": "n2", "status": 200}
    assert got["n3"] == {"node": "n3", "status": 404, "error": "model_not_found"}, got

    # a node killed is unreachable until its lease has passed, then not asked
    c[3].proc.kill()
    c[3].proc.wait(10)
    r = n1.post("/api/admin/models/Ember-Finch-3B", {"enabled": True}, headers=auth)
    assert r.status == 200, r
    got = {x["node"]: x for x in r.json()["nodes"]}
    assert got["n2"]["status"] == 200
    if "n3" in got:
        assert got["n3"] == {"node": "n3", "status": 0, "error": "node_unreachable"}, got
    assert "Ember-Finch-3B" in enabled(n1) and "Ember-Finch-3B" in enabled(n2)
    wait_for(lambda: [x["node"] for x in n1.post(
        "/api/admin/models/Ember-Finch-3B", {"enabled": True},
        headers=auth).json()["nodes"]] == ["n2"], LEASE + 2 * HEARTBEAT + 5,
        "n3 no longer asked once its lease has passed")
