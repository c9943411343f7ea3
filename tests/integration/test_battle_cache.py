"""The battles kept in memory once they stop streaming are a cache of the
database with a bound, [limits] max_cached_battle_bytes: past it the least
recently used ones that nobody is using are evicted, and an evicted battle
is read back from the database when it is next asked for, whole: its
answers (GET), its events, a vote and a follow-up turn all work on it.
/metrics shows the bytes held (agon_battles_cached_bytes) and the evictions
(agon_battles_evicted_total)."""

from conftest import Model, fake_backend, metric, wait_for

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
