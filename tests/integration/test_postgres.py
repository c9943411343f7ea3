"""The PostgreSQL engine (issue 15) on a real throwaway cluster
(pg_cluster.py), whatever AGON_TEST_ENGINE says: its schema is applied and
versioned, a battle and its vote outlive a restart, two agon processes on one
database never both count a vote on one battle, votes from two processes at
once on the same models replay (`agon recompute`) to exactly the stored
ratings, and a database that cannot be reached is named clearly without
its password. Skipped where the binaries are missing or agon is built
without libpq."""

import json
import random
import threading

import pytest

from conftest import (REPO, Model, assert_error, battles_until_refused, check_recovered, run_agon,
                      wait_for)

# The engine's schema files (schema/postgres/NNNN_*.sql; numbers may leave
# gaps): the version a migrated database records is the highest number.
PG_SCHEMA = sorted(int(p.name[:4]) for p in (REPO / "schema" / "postgres").glob("[0-9]*.sql"))
LATEST = [(PG_SCHEMA[-1],)]


def three_models():
    return [Model("Kestrel-1", "echo-kestrel"), Model("Heron-2", "echo-heron"),
            Model("Plover-3", "echo-plover")]


@pytest.fixture
def pg(agon_bin, pg_cluster):
    r = run_agon(agon_bin, "--version")
    if "PostgreSQL" not in r.stdout:
        pytest.skip("this agon is built without the PostgreSQL engine (no libpq-dev)")
    return pg_cluster




def on_pg(agon_factory, pg, url=None, models=None, sub=None, start=True, **cfg):
    """An agon on the PostgreSQL database url (a new one when None)."""
    a = agon_factory(None, sub=sub)
    a.db = url or pg.new_database()
    a.engine, a.pg = "postgres", pg
    if sub and "server_extra" not in cfg:
        cfg["server_extra"] = "node = %s" % sub  # one name per node
    a.write_config(models or three_models(), **cfg)
    if start:
        a.start()
    return a


def recompute(agon):
    r = agon.run("recompute", "--db", agon.db, timeout=120)
    return r, (json.loads(r.stdout) if r.stdout.strip() else None)


def test_schema_applied_and_versioned(agon_factory, pg):
    agon = on_pg(agon_factory, pg)
    name = pg.dbname(agon.db)
    assert pg.query(name, "SELECT version FROM schema_version") == LATEST
    tables = {r[0] for r in pg.query(
        name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    for t in ("battles", "turns", "votes", "ratings", "pair_counts", "meta", "judgments",
              "battle_categories", "slice_pairs", "prompt_counts", "dedup_stats",
              "replaced_answers", "side_replacements", "shares", "schema_version",
              "bench_runs", "bench_items", "bench_results"):
        assert t in tables, (t, sorted(tables))
    # the UNIQUE battle id that stops a second vote, and the pair order
    cons = pg.query(name, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                          "WHERE conrelid = 'votes'::regclass")
    assert ("UNIQUE (battle_id)",) in cons, cons
    # a second start (and a second node) applies nothing again
    assert agon.stop() == 0
    agon.start()
    assert pg.query(name, "SELECT version FROM schema_version") == LATEST
    assert "schema applied" not in agon.stderr()


def test_upgrade_applies_the_files_above_across_a_gap(agon_factory, pg):
    # a database as agon made it before agon bench (every file below 0003,
    # here 0001 alone: a gap) takes 0003_benchmarks.sql on the next start,
    # and only that file
    before = max(n for n in PG_SCHEMA if n < 3)
    agon = on_pg(agon_factory, pg)
    name = pg.dbname(agon.db)
    c = agon.client()
    bid, es = c.battle("Kept across the upgrade?")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    assert agon.stop() == 0
    pg.psql(name, "DROP TABLE bench_results, bench_items, bench_runs; "
                  "UPDATE schema_version SET version = %d" % before)
    agon.start()
    assert pg.query(name, "SELECT version FROM schema_version") == LATEST
    applied = [line for line in agon.stderr().splitlines() if "schema applied" in line]
    assert len(applied) == len([n for n in PG_SCHEMA if n > before]), applied
    assert "file=0003_benchmarks.sql" in applied[0], applied
    assert pg.query(name, "SELECT count(*) FROM bench_runs") == [(0,)]
    assert pg.query(name, "SELECT count(*) FROM votes") == [(1,)]
    assert agon.client().get("/api/benchmarks").status == 200


def test_nodes_starting_at_once_migrate_once(agon_factory, pg):
    url = pg.new_database()
    nodes = [on_pg(agon_factory, pg, url=url, sub="n%d" % i, start=False) for i in range(3)]
    threads = [threading.Thread(target=n.start) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(n.alive() for n in nodes), [n.stderr()[-500:] for n in nodes]
    # one node applied every file, each once; the others applied none
    applied = [n.stderr().count("schema applied") for n in nodes]
    assert sorted(applied) == [0] * (len(nodes) - 1) + [len(PG_SCHEMA)], \
        [n.stderr()[-500:] for n in nodes]
    assert pg.query(pg.dbname(url), "SELECT version FROM schema_version") == LATEST


def test_battle_vote_restart_keeps_everything(agon_factory, pg):
    agon = on_pg(agon_factory, pg)
    c = agon.client()
    bid, es = c.battle("Kept across a restart?")
    assert es.end["status"] == "ready"
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert r.status == 200, r
    v = r.json()
    lb = c.get("/api/leaderboard").json()
    agon.kill9()
    agon.start()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    b = c2.get("/api/battles/%s" % bid)
    assert b.status == 200 and b.json()["status"] == "voted", b
    assert b.json()["turns"][0]["prompt"] == "Kept across a restart?"
    lb2 = c2.get("/api/leaderboard").json()
    elo = {m["model"]: m["elo"] for m in lb["models"]}
    elo2 = {m["model"]: m["elo"] for m in lb2["models"]}
    assert elo == elo2 and elo[v["models"]["a"]] > elo[v["models"]["b"]], (elo, elo2)
    again = c2.post("/api/battles/%s/vote" % bid, {"winner": "b"})
    assert assert_error(again, 409)["code"] == "already_voted"
    r, j = recompute(agon)
    assert r.returncode == 0 and j["matches"] and j["votes"] == 1, (r.stdout, r.stderr)


def test_double_vote_across_two_processes(agon_factory, pg):
    """One battle, voted through two nodes at the same moment, many times
    over: one vote counts, the other is refused as already voted."""
    a1 = on_pg(agon_factory, pg, sub="one")
    a2 = on_pg(agon_factory, pg, url=a1.db, sub="two")
    c1 = a1.client()
    battles = [c1.battle("twice %d" % i)[0] for i in range(8)]
    c2 = a2.client()
    c2.cookies = dict(c1.cookies)
    for bid in battles:
        out = {}

        def vote(name, c, w):
            out[name] = c.post("/api/battles/%s/vote" % bid, {"winner": w})

        ts = [threading.Thread(target=vote, args=("one", c1, "a")),
              threading.Thread(target=vote, args=("two", c2, "b"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        statuses = sorted(r.status for r in out.values())
        assert statuses == [200, 409], out
        loser = [r for r in out.values() if r.status == 409][0]
        assert assert_error(loser, 409)["code"] == "already_voted"
    name = pg.dbname(a1.db)
    assert pg.query(name, "SELECT count(*), count(DISTINCT battle_id) FROM votes") == [(8, 8)]
    a1.stop()
    a2.stop()
    r, j = recompute(a1)
    assert r.returncode == 0 and j["matches"] and j["votes"] == 8, (r.stdout, r.stderr)


def test_concurrent_votes_from_two_processes_replay_exactly(agon_factory, pg):
    """Votes on the same six models through two nodes at once, several
    voters each: every vote is stored once and acknowledged (a vote that
    meets the other node's locks while its group holds rows goes again,
    store_contended), and a replay in seq order gives exactly the stored
    ratings, pair counts and slices (bit for bit)."""
    models = [Model("Model-%d" % i, "echo-model-%d" % i) for i in range(6)]
    a1 = on_pg(agon_factory, pg, models=models, sub="one")
    a2 = on_pg(agon_factory, pg, url=a1.db, models=models, sub="two")
    per_voter, voters = 15, 4
    start = threading.Barrier(2 * voters)
    results, errors = [], []

    def voter(agon, seed):
        try:
            rng = random.Random(seed)
            c = agon.client()
            bids = [c.battle("node %s voter %d battle %d" % (agon.dir.name, seed, i))[0]
                    for i in range(per_voter)]
            start.wait(60)
            for bid in bids:
                w = rng.choice(["a", "b", "tie", "bothbad"])
                r = c.post("/api/battles/%s/vote" % bid, {"winner": w})
                results.append((bid, r.status))
        except Exception as e:  # reported below
            errors.append(repr(e))
            start.abort()

    ts = [threading.Thread(target=voter, args=(a, 10 * k + i))
          for k, a in enumerate((a1, a2)) for i in range(voters)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    assert len(results) == 2 * voters * per_voter
    assert all(s == 200 for _, s in results), [r for r in results if r[1] != 200]
    name = pg.dbname(a1.db)
    n = 2 * voters * per_voter
    assert pg.query(name, "SELECT count(*) FROM votes WHERE counted = 1") == [(n,)]
    assert pg.query(name, "SELECT sum(battles) FROM ratings") == [(2 * n,)]
    # seq follows the moves: no two votes share one
    assert pg.query(name, "SELECT count(DISTINCT seq) FROM votes") == [(n,)]
    a1.stop()
    a2.stop()
    r, j = recompute(a1)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert j["matches"] and j["pair_counts_match"] and j["slice_counts_match"], j
    assert j["votes"] == n and all(m["matches"] for m in j["models"]), j


@pytest.mark.parametrize("db, names", [
    ("postgresql://agon:hunter2@127.0.0.1:1/agon", "127.0.0.1"),
    ("host=127.0.0.1 port=1 dbname=agon user=agon password=hunter2", "127.0.0.1"),
    ("postgres://agon:hunter2@/agon?host=/nonexistent-agon-dir", "/nonexistent-agon-dir"),
])
def test_unreachable_server_is_named_without_its_password(agon_bin, tmp_path, pg, db, names):
    for args in (("recompute", "--db", db), ("export", "--db", db)):
        r = run_agon(agon_bin, *args, cwd=str(tmp_path), timeout=30)
        assert r.returncode != 0, r
        err = r.stderr
        assert "cannot connect to the PostgreSQL database" in err, err
        assert names in err, err
        assert "hunter2" not in r.stdout + err, err
    ini = tmp_path / "agon.ini"
    ini.write_text("[server]\nlisten = 127.0.0.1:0\ndatabase = %s\n\n"
                   "[model alpha]\nbase_url = http://127.0.0.1:9/v1\n\n"
                   "[model beta]\nbase_url = http://127.0.0.1:9/v1\n" % db)
    r = run_agon(agon_bin, "serve", "--config", str(ini), cwd=str(tmp_path), timeout=30)
    assert r.returncode != 0 and "listening" not in r.stdout, r
    assert "cannot connect to the PostgreSQL database" in r.stderr, r.stderr
    assert "hunter2" not in r.stdout + r.stderr


def test_missing_database_and_empty_one_are_named(agon_bin, tmp_path, pg):
    missing = pg.conninfo("no_such_agon_db")
    r = run_agon(agon_bin, "recompute", "--db", missing, cwd=str(tmp_path))
    assert r.returncode == 1 and 'database "no_such_agon_db" does not exist' in r.stderr, r
    # an offline command never makes an arena of an empty database
    empty = pg.new_database("empty")
    r = run_agon(agon_bin, "recompute", "--db", empty, cwd=str(tmp_path))
    assert r.returncode == 1 and "holds no Agon arena yet" in r.stderr, r
    assert pg.query(pg.dbname(empty), "SELECT count(*) FROM pg_tables WHERE "
                                      "schemaname = 'public'") == [(0,)]


def test_a_read_only_server_after_a_failover_is_reported_and_nothing_acknowledged_is_lost(
        agon_factory, pg):
    """A failover that lands on a server refusing writes (a standby not yet
    promoted): every connection drops, and the sessions they come back to
    are read-only (SQLSTATE 25006). /healthz says so, new battles get 503
    storage_unavailable instead of a 201 that cannot be kept, stored battles
    stay readable; once writes are taken again everything recovers without a
    restart, and every acknowledged vote is stored."""
    agon = on_pg(agon_factory, pg)
    name = pg.dbname(agon.db)

    def drop_connections():
        pg.psql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = '%s'" % name)

    c = agon.client()
    acked = []
    bid, _ = c.battle("before the failover")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    acked.append(bid)
    ready, _ = c.battle("a battle voted after the fault")
    assert c.get("/healthz").status == 200

    pg.psql("postgres", "ALTER DATABASE %s SET default_transaction_read_only = on" % name)
    drop_connections()
    battles_until_refused(c, acked, "while writes are refused")
    h = c.get("/healthz")
    assert h.status == 503, h
    assert h.json()["error"]["code"] == "storage_failing"
    assert "read-only" in h.json()["error"]["message"], h.json()
    assert c.get("/api/battles/" + ready).status == 200  # still readable
    assert c.get("/api/leaderboard").status == 200
    v = c.post("/api/battles/%s/vote" % ready, {"winner": "tie"})
    assert v.status in (200, 503), v
    if v.status == 200:
        acked.append(ready)

    # the primary is back: new sessions take writes again
    pg.psql("postgres", "ALTER DATABASE %s RESET default_transaction_read_only" % name)
    drop_connections()
    check_recovered(agon, c, ready, acked, "after the failover")


def test_votes_are_stored_while_an_export_reads(agon_factory, pg):
    """The admin's export reads from a snapshot of its own connection, not
    under the store's lock: with its read of the judgments held up by
    another session's lock, votes are still answered and stored; once it
    goes on, it holds what was stored when it began (the votes made
    meanwhile are not half in it)."""
    token = "admin-token-for-the-export-0123456789"
    agon = on_pg(agon_factory, pg, start=False, server_extra="admin_token_env = AGON_PG_ADMIN")
    agon.env["AGON_PG_ADMIN"] = token
    agon.start()
    name = pg.dbname(agon.db)
    c = agon.client()
    before = []
    for i in range(4):
        bid, _ = c.battle("voted before the export %d" % i)
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
        before.append(bid)
    got = {}

    def export():
        r = agon.client().get("/api/admin/export?format=jsonl",
                              headers={"Authorization": "Bearer " + token}, timeout=60)
        got["status"], got["body"] = r.status, r.body
    with pg.holding(name, "LOCK TABLE judgments IN ACCESS EXCLUSIVE MODE"):
        t = threading.Thread(target=export)
        t.start()
        # the export has begun and waits on the judgments
        wait_for(lambda: pg.query("postgres", "SELECT count(*) FROM pg_stat_activity WHERE "
                                  "datname = ? AND wait_event_type = 'Lock' AND query "
                                  "LIKE '%FROM judgments%'", (name,))[0][0] == 1,
                 20, "the export to wait on the judgments")
        during = []
        for i in range(3):
            bid, _ = c.battle("voted during the export %d" % i)
            r = c.post("/api/battles/%s/vote" % bid, {"winner": "b"}, timeout=10)
            assert r.status == 200, r
            during.append(bid)
        assert t.is_alive(), "the export waits for the lock"
    t.join(60)
    assert got["status"] == 200, got
    ids = [json.loads(line)["question_id"] for line in got["body"].decode().splitlines()]
    assert sorted(ids) == sorted(before), (ids, before, during)
    assert c.get("/api/leaderboard").json()["votes"] == len(before) + len(during)
