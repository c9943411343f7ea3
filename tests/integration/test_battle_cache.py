"""The battles kept in memory once they stop streaming are a cache of the
database with a bound, [limits] max_cached_battle_bytes: past it the least
recently used ones that nobody is using are evicted, and an evicted battle
is read back from the database when it is next asked for, whole: its
answers (GET), its events, a vote and a follow-up turn all work on it.
/metrics shows the bytes held (agon_battles_cached_bytes) and the evictions
(agon_battles_evicted_total). The read back happens on the arena's loader
thread while the request waits suspended: no HTTP worker waits on the
disk (tests/shims/read_gate.c makes the disk stop answering reads)."""

import contextlib
import threading
import time
from pathlib import Path

import pytest

from conftest import Model, assert_error, metric, two_echo_models, wait_for

ANSWER = 1_000_000          # bytes of each answer (the fake's big-N models)
BOUND = 10 * 1024 * 1024    # room for two such battles at rest, not three
BATTLES = 5


def big_text(n, alt=False):
    """The answer of the fake's big-N model (see _b_big in fake_backend);
    alt: of a big-N-...-alt model."""
    unit = ("Sphinx of black quartz, judge my vow, again. " if alt
            else "The quick brown fox jumps over the lazy dog. ")
    piece = (unit * 100)[:4000]
    return (piece * (n // len(piece) + 1))[:n]


# both models' answers, in either order: the sides are drawn at random
BOTH = {big_text(ANSWER), big_text(ANSWER, alt=True)}


def models():
    return [Model("Big-Alder", "big-%d-alder" % ANSWER, timeout=60),
            Model("Big-Birch", "big-%d-birch-alt" % ANSWER, timeout=60)]


def cached(c):
    return metric(c, "agon_battles_cached_bytes")


def evicted(c):
    return metric(c, "agon_battles_evicted_total")


def assert_whole(battle, turns=1):
    """Both answers of every turn, as the models gave them, with HTML."""
    assert len(battle["turns"]) == turns, battle
    for t in battle["turns"]:
        assert {t["a"], t["b"]} == BOTH, (len(t["a"]), len(t["b"]))
        for s in "ab":
            assert t[s + "_html"] and t[s + "_html"].startswith("<p>")


def test_evicted_battles_stay_whole(agon_factory, fake):
    agon = agon_factory(models(), limits={"max_cached_battle_bytes": BOUND})
    c = agon.client()
    assert cached(c) == 0 and evicted(c) == 0

    bids, one = [], None
    for i in range(BATTLES):
        bid, es = c.battle("Tell me everything, part %d." % i, timeout=60)
        assert es.end == {"turn": 1, "status": "ready"}, es.events[-3:]
        assert {es.text("a"), es.text("b")} == BOTH
        bids.append(bid)
        if one is None:
            one = cached(c)  # what one battle at rest holds
            assert 4 * ANSWER <= one <= 5 * ANSWER, one
        # a battle whose stream has not let go yet may be over the bound
        assert cached(c) <= BOUND + one, (i, cached(c))
    assert evicted(c) >= BATTLES - BOUND // one, evicted(c)
    assert cached(c) <= BOUND + one

    # Read back: the first battle is the least recently used, evicted;
    # reading it pushes the bytes past the bound, so another one goes.
    before = evicted(c)
    b = c.get("/api/battles/" + bids[0]).json()
    assert b["status"] == "ready" and b["models"] is None and b["winner"] is None
    assert_whole(b)
    assert evicted(c) == before + 1
    assert cached(c) <= BOUND + one

    # A vote on an evicted battle, and the battle read back as voted.
    r = c.post("/api/battles/%s/vote" % bids[1], {"winner": "b"})
    assert r.status == 200, r
    names = r.json()["models"]
    assert set(names.values()) == {"Big-Alder", "Big-Birch"}
    b = c.get("/api/battles/" + bids[1]).json()
    assert b["status"] == "voted" and b["winner"] == "b" and b["models"] == names
    assert_whole(b)
    assert c.post("/api/battles/%s/vote" % bids[1], {"winner": "a"}).status == 409

    # The events of an evicted battle: its whole last turn, then its end.
    es = c.events("/api/battles/%s/events" % bids[2], timeout=60)
    assert es.status == 200 and es.closed
    assert {es.text("a"), es.text("b")} == BOTH
    done = {e.data["side"]: e.data for e in es.of("done")}
    assert set(done) == {"a", "b"} and all(d["html"] for d in done.values())
    assert es.end == {"turn": 1, "status": "ready"}

    # A follow-up turn on an evicted battle: both models get the first
    # turn back, read from the database.
    fake.clear_requests()
    prompt1 = "Tell me everything, part 3."
    r = c.post("/api/battles/%s/turns" % bids[3], {"prompt": "And then?"})
    assert r.status == 202, r
    es = c.events("/api/battles/%s/events" % bids[3], timeout=60)
    assert es.end == {"turn": 2, "status": "ready"}, es.events[-3:]
    asked = [q["body"]["messages"] for q in fake.requests()
             if q["path"].endswith("/chat/completions")][-2:]
    # each model is asked with its own answer of turn 1
    got = sorted([(m["role"], m["content"]) for m in messages] for messages in asked)
    want = sorted([("user", prompt1), ("assistant", text), ("user", "And then?")]
                  for text in BOTH)
    assert got == want
    b = c.get("/api/battles/" + bids[3]).json()
    assert b["status"] == "ready" and [t["prompt"] for t in b["turns"]] == [prompt1, "And then?"]
    assert_whole(b, turns=2)

    # Still bounded, and the battle that was never evicted is still whole.
    wait_for(lambda: cached(c) <= BOUND, 10, "the bytes back under the bound")
    assert_whole(c.get("/api/battles/" + bids[4]).json())


def test_no_bound(agon_factory, fake):
    """0: no bound; every battle stays in memory, none is evicted."""
    agon = agon_factory(models(), limits={"max_cached_battle_bytes": 0})
    c = agon.client()
    sizes = []
    for i in range(3):
        bid, es = c.battle("Part %d." % i, timeout=60)
        assert es.end == {"turn": 1, "status": "ready"}
        sizes.append(cached(c))
    assert sizes[2] >= 3 * 4 * ANSWER and sizes[0] < sizes[1] < sizes[2], sizes
    assert evicted(c) == 0


# ---- an evicted battle is read back off the HTTP workers ----------------


def read_gate(agon, tmp_path):
    """Run agon with tests/shims/read_gate.c preloaded: its reads of the
    database wait while the returned path exists (the shim is built beside
    the binary, in tests/). On PostgreSQL, none: see reads_stopped."""
    if agon.engine == "postgres":
        return None
    lib = Path(agon.bin).parent / "tests" / "libread_gate.so"
    if not lib.exists():
        pytest.skip("%s is not built (meson builds it with the tests)" % lib)
    gate = tmp_path / "reads-wait"
    agon.env["LD_PRELOAD"] = str(lib)
    agon.env["AGON_TEST_READ_GATE"] = str(gate)
    # an ASan build wants its runtime first; the shim only wraps pread
    agon.env["ASAN_OPTIONS"] = ",".join(
        o for o in [agon.env.get("ASAN_OPTIONS", ""), "verify_asan_link_order=0"] if o)
    return gate


@contextlib.contextmanager
def reads_stopped(agon, gate):
    """The database answers no read of a battle while the block runs: the
    SQLite file's reads wait at the gate; PostgreSQL's battles and turns
    are locked from another session (ACCESS EXCLUSIVE: reads wait too)."""
    if agon.engine == "postgres":
        with agon.pg.holding(agon.pg.dbname(agon.db),
                             "LOCK TABLE battles, turns IN ACCESS EXCLUSIVE MODE"):
            yield
        return
    gate.touch()
    try:
        yield
    finally:
        gate.unlink()


def evicting_arena(agon_factory, tmp_path):
    """Echo models and a bound of 1 byte: every battle at rest that nobody
    uses is evicted at once, so every GET reads it back from the database."""
    agon = agon_factory(two_echo_models(), limits={"max_cached_battle_bytes": 1},
                        start=False)
    gate = read_gate(agon, tmp_path)
    agon.start()
    return agon, gate


def evict_at_rest(c):
    """Evict what is at rest now, and how many that was: eviction runs on a
    look-up of the registry, and a look-up of an unknown battle is one. A
    battle whose stream, read or stored turn has not let go yet is not
    evicted by that look-up (the client may have its answer first): look
    again until no bytes are held."""
    before = evicted(c)

    def none_held():
        assert c.get("/api/battles/nope").status == 404
        return cached(c) == 0
    wait_for(none_held, 10, "every battle at rest evicted")
    return evicted(c) - before


def test_evicted_battles_are_read_off_the_workers(agon_factory, tmp_path):
    """While the disk does not answer reads, many GETs of evicted battles
    wait (suspended) for the loader, and the two HTTP workers go on
    answering everything else; once it answers again, every GET gets the
    very reply it got before. The loader's queue is bounded: what does not
    fit is answered 503 unavailable at once."""
    agon, gate = evicting_arena(agon_factory, tmp_path)
    c = agon.client()
    bids = [c.battle("read back %d" % i)[0] for i in range(6)]
    # read back once with the disk answering: the reply to match
    want = {}
    for bid in bids:
        evict_at_rest(c)
        before = evicted(c)
        want[bid] = c.get("/api/battles/" + bid).json()
        assert evict_at_rest(c) == 1 and evicted(c) == before + 1
    for bid in bids:
        assert want[bid]["id"] == bid and want[bid]["status"] == "ready"
        assert want[bid]["turns"][0]["prompt"].startswith("read back ")
    # a commit since those reads: the read connection's page cache is
    # dropped, so reading them again goes to the disk
    writes = metric(c, "agon_db_writes_total")
    c.battle("a commit")
    wait_for(lambda: metric(c, "agon_db_writes_total") >= writes + 2, 10,
             "the new battle stored")
    assert evict_at_rest(c) == 1

    results, lock = {}, threading.Lock()

    def get(i, bid):
        r = agon.client().get("/api/battles/" + bid, timeout=60)
        with lock:
            results[i] = (bid, r)

    def others_answered():
        other = agon.client()
        for path in ("/healthz", "/api/models", "/", "/metrics"):
            r = other.get(path, timeout=3)
            assert r.status == 200, (path, r)

    # 80 reads: one in the loader (stuck on the disk), 64 waiting for it,
    # the rest refused at once
    n = 80
    threads = [threading.Thread(target=get, args=(i, bids[i % len(bids)]))
               for i in range(n)]
    with reads_stopped(agon, gate):
        # first more than there are workers, all waiting
        for t in threads[:8]:
            t.start()
        time.sleep(0.5)
        for _ in range(3):
            others_answered()
            assert not results, results
        # then past the bound
        for t in threads[8:]:
            t.start()
        wait_for(lambda: len(results) >= n - 65, 20, "the reads past the bound refused")
        for _ in range(3):
            others_answered()
            with lock:
                refused = dict(results)
            # every answer so far is a refusal: the reads are still waiting
            assert len(refused) <= n - 64, len(refused)
            for bid, r in refused.values():
                assert assert_error(r, 503)["code"] == "unavailable"
    for t in threads:
        t.join(60)
    assert len(results) == n
    answered = [(bid, r) for bid, r in results.values() if r.status == 200]
    assert len(answered) in (64, 65), len(answered)
    for bid, r in answered:
        assert r.json() == want[bid]
    # and the arena reads battles back as before
    assert c.get("/api/battles/" + bids[0]).json() == want[bids[0]]


def test_evicted_battles_answer_every_endpoint(agon_factory, tmp_path):
    """Each endpoint that works on one battle reads an evicted one back:
    its events, a regenerate, a follow-up, a vote, a share and the shared
    page; an unknown id is still battle_not_found."""
    agon, _ = evicting_arena(agon_factory, tmp_path)
    c = agon.client()
    bid, _ = c.battle("evicted everywhere")
    assert evict_at_rest(c) == 1

    es = c.events("/api/battles/%s/events" % bid)
    assert es.status == 200 and es.end == {"turn": 1, "status": "ready"}
    assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
    assert c.events("/api/battles/%s/events" % bid).end["status"] == "ready"
    r = c.post("/api/battles/%s/turns" % bid, {"prompt": "and more"})
    assert r.status == 202, r
    assert c.events("/api/battles/%s/events" % bid).end == {"turn": 2, "status": "ready"}
    assert evict_at_rest(c) == 1
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    r = c.post("/api/battles/%s/share" % bid, {})
    assert r.status == 200, r
    token = r.json()["url"].rsplit("/", 1)[1]
    assert evict_at_rest(c) == 1
    shared = agon.client().get("/api/shared/" + token)
    assert shared.status == 200, shared
    b = c.get("/api/battles/" + bid).json()
    assert b["status"] == "voted" and len(b["turns"]) == 2
    assert shared.json()["turns"] == b["turns"] and shared.json()["models"] == b["models"]
    for path in ("/api/battles/nope", "/api/battles/nope/events"):
        assert assert_error(c.get(path), 404)["code"] == "battle_not_found"
    assert assert_error(c.post("/api/battles/nope/turns", {"prompt": "x"}), 404)["code"] == \
        "battle_not_found"
    assert assert_error(c.get("/api/battles/" + "f" * 60), 404)["code"] == "battle_not_found"
