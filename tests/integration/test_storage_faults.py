"""Storage faults are visible (issue 11): a corrupt database is refused at
start; while writes fail (a full disk), /healthz says so and new battles get
503 instead of a 201 that cannot be kept; once space is back, stored battles
are readable and votable, and no acknowledged vote is lost."""

import os
import random
import time

from conftest import (agon_on_a_small_disk, battles_until_refused, check_recovered, fill_disk,
                      sqlite_only, two_echo_models)

pytestmark = sqlite_only("a corrupt SQLite file and a full disk under it; PostgreSQL "
                         "checks its own pages and disk")


def test_corrupt_database_is_refused_at_start(agon_factory):
    agon = agon_factory(two_echo_models())
    c = agon.client()
    for i in range(30):
        bid, es = c.battle("fill the database with turn number %d and some words" % i)
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    assert agon.stop() == 0
    assert not os.path.exists(agon.db + "-wal") or os.path.getsize(agon.db + "-wal") == 0 \
        or True  # the WAL may remain; corrupt the main file's pages either way
    size = os.path.getsize(agon.db)
    page = 4096
    assert size >= 4 * page, size
    rnd = random.Random(7)
    with open(agon.db, "r+b") as f:
        for off in range(page, size, page):       # every page but the header's
            f.seek(off + 16)
            f.write(bytes(rnd.randrange(256) for _ in range(page - 32)))
    for p in (agon.db + "-wal", agon.db + "-shm"):
        if os.path.exists(p):
            os.unlink(p)
    r = agon.run("serve", "--config", agon.config, "--listen", "127.0.0.1:0", timeout=30)
    assert r.returncode != 0, (r.returncode, r.stdout, r.stderr)
    assert "corrupt" in r.stderr and agon.db in r.stderr, r.stderr
    assert "listening" not in r.stdout


def test_corruption_start_does_not_read_is_found_in_the_background(agon_factory):
    """Start checks only what it reads (schema, ratings, pair counts, meta),
    so that it stays fast with millions of votes; the rest of the file is
    checked in the background: corruption there turns /healthz to 503 and
    refuses new writes, with the reason, for good."""
    import sqlite3
    agon = agon_factory(two_echo_models())
    c = agon.client()
    for i in range(40):
        bid, es = c.battle("a turn with enough words to need pages %d " % i + "x" * 200)
    assert agon.stop() == 0
    db = sqlite3.connect(agon.db)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = db.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'turns'").fetchone()[0]
    page = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with open(agon.db, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(b"\xa5" * page)   # the turns table's root: not read at start
    agon.start()
    c = agon.client()
    deadline = time.monotonic() + 20
    while True:
        h = c.get("/healthz")
        if h.status == 503:
            break
        assert time.monotonic() < deadline, "the background check found nothing"
        time.sleep(0.1)
    assert h.json()["error"]["code"] == "storage_failing"
    assert "corrupt" in h.json()["error"]["message"], h.json()
    r = c.post("/api/battles", {"prompt": "after the corruption was found"})
    assert r.status == 503 and r.json()["error"]["code"] == "storage_unavailable", r
    assert "corrupt" in agon.stderr()


def test_full_disk_is_reported_and_nothing_acknowledged_is_lost(agon_factory, tmp_path):
    with agon_on_a_small_disk(agon_factory, tmp_path) as (agon, mnt):
        c = agon.client()
        acked = []
        bid, _ = c.battle("before the disk fills")
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
        acked.append(bid)
        ready, _ = c.battle("a battle voted after the fault")
        assert c.get("/healthz").status == 200

        fill_disk(os.path.join(mnt, "filler"))
        battles_until_refused(c, acked, "while the disk is full")
        h = c.get("/healthz")
        assert h.status == 503, h
        assert h.json()["error"]["code"] == "storage_failing"
        assert "full" in h.json()["error"]["message"], h.json()
        # stored battles stay readable
        assert c.get("/api/battles/" + ready).status == 200
        v = c.post("/api/battles/%s/vote" % ready, {"winner": "tie"})
        assert v.status in (200, 503), v
        if v.status == 200:
            acked.append(ready)

        os.unlink(os.path.join(mnt, "filler"))
        check_recovered(agon, c, ready, acked, "after the space came back")
