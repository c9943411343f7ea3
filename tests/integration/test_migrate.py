"""agon migrate --from DATABASE --to DATABASE (issue 15): every row of every
table of an arena, read from the source in one snapshot (the arena keeps
running), written into a database that holds no data yet in one
transaction, with what numbers new rows (votes.seq, judgments.id) past the
copied ones. Afterwards the two are the same arena: every table holds the
same rows, `agon export` writes the same log, `agon recompute` on the target
finds the stored ratings equal to its replay, and a server on the target
goes on from there (a new vote, the shared link).

The arena has what each table holds: live battles (one with a follow-up,
one regenerated, one shared, one left unvoted), votes of every kind with
reasons and a comment, imported battles, LLM judgments (agon judge), tags and
category verdicts (agon tag), slices, de-duplication's counts, the secret."""

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from conftest import REPO, Model, sqlite_only, wait_for

# The source of these tests is a SQLite file; they move it to the other
# engine themselves.
pytestmark = sqlite_only("the tests move a SQLite arena between the engines themselves")

LONG = Model("Long-Lynx-70B", "pad120-lynx")     # always the longer answer
SHORT = Model("Short-Shrew-7B", "echo-shrew")
# its answers fail: enabled at the end, for a retry (side_replacements)
BROKEN = Model("Broken-Model", "fail500-broken", enabled=False)
TOKEN = "admin-token-for-migrate-0123456789"

# every table of the schema, with the columns its rows are ordered by
TABLES = {
    "battles": "id", "turns": "battle_id, turn", "votes": "seq", "judgments": "id",
    "battle_categories": "battle_id, category",
    "replaced_answers": "battle_id, turn, side, attempt",
    "side_replacements": "battle_id, seq", "shares": "token", "ratings": "model",
    "pair_counts": "model_a, model_b", "slice_pairs": "slice, model_a, model_b",
    "prompt_counts": "hash", "dedup_stats": "id", "meta": "key",
    "bench_runs": "id", "bench_items": "run_id, line",
    "bench_results": "run_id, grp, metric",
}

# the tables migrate knows and does not copy (storage/rows.c: transient)
TRANSIENT = ["nodes"]

# the tables read back in the order their rows were first stored
STORED_ORDER = {"ratings": "model", "pair_counts": "model_a, model_b"}


def conv(turns, side):
    out = []
    for prompt, a, b in turns:
        out += [{"role": "user", "content": prompt},
                {"role": "assistant", "content": a if side == "a" else b}]
    return out


def imported_log(tmp_path):
    recs = []
    for i, (qid, winner, turns) in enumerate([
            ("imp-1", "model_a", [("an imported question", "a long imported answer", "no")]),
            ("imp-2", "tie", [("imported, first", "one", "two"),
                              ("imported, second", "three", "the fourth answer")]),
            ("imp-3", "model_b", [("¿qué tal? ünïcode", "bien", "muy bien, gracias")])]):
        recs.append({"question_id": qid, "model_a": "Old-Owl-1", "model_b": "Old-Elk-2",
                     "winner": winner, "judge": "arena_user_test", "turn": len(turns),
                     "anony": True, "language": "English", "tstamp": 1700000000 + i,
                     "conversation_a": conv(turns, "a"), "conversation_b": conv(turns, "b")})
    # more rows than migrate writes at once (256)
    for i in range(300):
        recs.append({"question_id": "bulk-%d" % i, "model_a": "Old-Owl-1",
                     "model_b": "Old-Elk-2", "winner": ["model_a", "model_b", "tie"][i % 3],
                     "judge": "arena_user_test", "turn": 1, "anony": True,
                     "language": "English", "tstamp": 1700001000 + i,
                     "conversation_a": conv([("bulk question %d" % i, "yes", "no")], "a"),
                     "conversation_b": conv([("bulk question %d" % i, "yes", "no")], "b")})
    p = tmp_path / "fastchat.json"
    p.write_text(json.dumps(recs))
    return p


def tables_of(db):
    """Every table of a SQLite file (but SQLite's own)."""
    con = sqlite3.connect(db)
    try:
        return sorted(r[0] for r in con.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'"))
    finally:
        con.close()


def dump(db):
    """Every row of every table of a SQLite file, in key order, with types."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for t, key in TABLES.items():
            cur = con.execute("SELECT * FROM %s ORDER BY %s" % (t, key))
            cols = [d[0] for d in cur.description]
            out[t] = [dict(zip(cols, row)) for row in cur]
            types = con.execute("SELECT %s FROM %s ORDER BY %s" % (
                ", ".join("typeof(%s)" % c for c in cols), t, key)).fetchall()
            out[t + ":types"] = types
        # the order the engine loads them in (a seeded bootstrap draws by
        # position): the order first stored
        for t, cols in STORED_ORDER.items():
            out[t + ":stored"] = con.execute(
                "SELECT %s FROM %s ORDER BY rowid" % (cols, t)).fetchall()
        return out
    finally:
        con.close()


def sequence(db, table):
    con = sqlite3.connect(db)
    try:
        r = con.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        return r[0] if r else 0
    finally:
        con.close()


def migrate(agon, src, dst):
    r = agon.run("migrate", "--from", src, "--to", dst, timeout=120)
    return r


def progress(out):
    """The per-table lines of a migrate's output: {table: rows}."""
    got = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "rows":
            got[parts[0]] = int(parts[1])
    return got


def export(agon, db, fmt="jsonl"):
    r = agon.run("export", "--db", db, "--format", fmt)
    assert r.returncode == 0, r.stderr
    return r.stdout


def recompute(agon, db):
    r = agon.run("recompute", "--db", db)
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert out["matches"] and out["pair_counts_match"] and out["slice_counts_match"], out
    return out


def build_arena(agon_factory, fake, tmp_path):
    """A running arena with rows in every table: (agon, client, facts)."""
    agon = agon_factory(None)
    agon.env["AGON_MIGRATE_ADMIN"] = TOKEN
    agon.write_config([LONG, SHORT, BROKEN], server_extra="admin_token_env = AGON_MIGRATE_ADMIN")
    text = Path(agon.config).read_text().rstrip("\n")
    text += ("\n\n[arena]\nvote_reasons = helpful, accurate\n"
             "\n[judge first]\nbase_url = %s\nmodel = judge-first-1\ntimeout = 20\n"
             "\n[tagger yes]\nbase_url = %s\nmodel = tag-yes-1\ncategories = math\n"
             "auto = false\ntimeout = 20\n" % (fake.api_base, fake.api_base))
    Path(agon.config).write_text(text)
    r = agon.run("import", "--db", agon.db, str(imported_log(tmp_path)))
    assert r.returncode == 0 and "imported 303 battles" in r.stdout, (r.stdout, r.stderr)
    agon.start()
    c = agon.client()
    facts = {}
    voted = []
    for i, w in enumerate(["a", "b", "tie", "bothbad", "a", "b"]):
        bid, es = c.battle("battle number %d, about sums: 2 + %d" % (i, i))
        assert es.end == {"turn": 1, "status": "ready"}, es.end
        if i == 1:  # a follow-up
            assert c.post("/api/battles/%s/turns" % bid, {"prompt": "and then?"}).status == 202
            assert c.events("/api/battles/%s/events" % bid).end["status"] == "ready"
        if i == 2:  # a regenerate: replaced answers
            assert c.post("/api/battles/%s/regenerate" % bid, {}).status == 202
            assert c.events("/api/battles/%s/events" % bid).end["status"] == "ready"
        body = {"winner": w}
        if i == 0:
            body.update(reasons=["helpful"], comment="the first one, ünïcode ✓")
        r = c.post("/api/battles/%s/vote" % bid, body)
        assert r.status == 200, r
        voted.append(bid)
    # the same prompt again: de-duplication counts it
    bid, _ = c.battle("battle number 0, about sums: 2 + 0")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    # a retry of a failed side: the broken model replaced
    auth = {"Authorization": "Bearer " + TOKEN}
    assert c.post("/api/admin/models/" + BROKEN.name, {"enabled": True},
                  headers=auth).status == 200
    for _ in range(30):
        bid, es = c.battle("Hello")
        if es.end["status"] == "retry":
            break
    assert es.end["status"] == "retry", es.end
    assert c.post("/api/battles/%s/retry" % bid, {}).status == 202
    assert c.events("/api/battles/%s/events" % bid).end["status"] == "ready"
    assert c.post("/api/admin/models/" + BROKEN.name, {"enabled": False},
                  headers=auth).status == 200
    r = c.post("/api/battles/%s/share" % voted[0], {})
    assert r.status == 200, r
    facts["share"] = r.json()["url"].rsplit("/", 1)[1]
    facts["unvoted"], _ = c.battle("left for later")
    facts["owner"] = c
    # beside the running server: judgments, tags and category verdicts
    r = agon.run("judge", "--db", agon.db, "--config", agon.config, "--limit", "20",
                 timeout=60)
    assert r.returncode == 0, r.stderr
    r = agon.run("tag", "--db", agon.db, "--config", agon.config, "--limit", "20",
                 timeout=60)
    assert r.returncode == 0, r.stderr
    # an agon bench run: its run, items and scores
    data = REPO / "tests" / "data" / "benchmarks"
    r = agon.run("bench", "--config", agon.config, "--task", "gsm8k", "--mode", "generate",
                 "--data", str(data / "gsm8k_test_head12.jsonl"),
                 "--shots", str(data / "gsm8k_train_head40.jsonl"),
                 "--model", LONG.name, "--limit", "3", timeout=60)
    assert r.returncode == 0, r.stderr
    rows = dump(agon.db)
    for t in TABLES:
        assert rows[t], "the arena has no rows in %s" % t
    return agon, c, facts


def test_migrate_sqlite_to_sqlite(agon_factory, fake, tmp_path):
    agon, c, facts = build_arena(agon_factory, fake, tmp_path)
    # the list of tables above is the schema's: none is left out
    # (and the transient ones: a running node's state, never copied)
    assert tables_of(agon.db) == sorted(list(TABLES) + TRANSIENT)
    before = dump(agon.db)
    target = str(tmp_path / "moved.db")

    # while the arena runs
    r = migrate(agon, "sqlite:" + agon.db, target)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "(SQLite) to '%s' (SQLite)" % target in r.stdout
    assert progress(r.stdout) == {t: len(before[t]) for t in TABLES}, r.stdout
    assert agon.alive()

    # the same rows, of the same types, in every table; and the source
    # untouched
    assert dump(target) == before
    assert dump(agon.db) == before
    assert sequence(target, "votes") == max(v["seq"] for v in before["votes"])
    assert sequence(target, "judgments") == max(j["id"] for j in before["judgments"])
    for fmt in ("jsonl", "fastchat"):
        assert export(agon, target, fmt) == export(agon, agon.db, fmt)
    assert recompute(agon, target) == recompute(agon, agon.db)

    # a server on the target goes on from there: the shared link, a vote
    # on the battle left unvoted (its session is in the database), numbered
    # after the copied ones
    agon.stop()
    moved = agon_factory([LONG, SHORT], sub="moved", start=False)
    moved.db = target
    moved.write_config([LONG, SHORT, BROKEN])
    moved.start()
    mc = moved.client()
    shared = mc.get("/api/shared/" + facts["share"])
    assert shared.status == 200 and shared.json()["comment"] == "the first one, ünïcode ✓"
    owner = facts["owner"]
    owner.port = moved.port
    r = owner.post("/api/battles/%s/vote" % facts["unvoted"], {"winner": "b"})
    assert r.status == 200, r
    moved.stop()
    last = dump(target)["votes"][-1]
    assert last["battle_id"] == facts["unvoted"]
    assert last["seq"] == max(v["seq"] for v in before["votes"]) + 1
    recompute(moved, target)


def test_migrate_refusals(agon_factory, fake, tmp_path):
    agon = agon_factory([LONG, SHORT])
    c = agon.client()
    bid, _ = c.battle("one battle")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    agon.stop()
    target = str(tmp_path / "t.db")
    assert migrate(agon, agon.db, target).returncode == 0

    # a target with data: refused, untouched
    rows = dump(target)
    r = migrate(agon, agon.db, target)
    assert r.returncode == 1
    assert "'%s' is not empty (table battles has rows)" % target in r.stderr, r.stderr
    assert dump(target) == rows
    # the same database, as a path or sqlite:PATH
    r = migrate(agon, agon.db, "sqlite:" + agon.db)
    assert r.returncode == 2 and "are the same database" in r.stderr, r.stderr
    # a source that is not there: named, and no target left behind
    missing = str(tmp_path / "nope.db")
    fresh = tmp_path / "fresh.db"
    r = migrate(agon, missing, str(fresh))
    assert r.returncode == 1 and missing in r.stderr, r.stderr
    assert not fresh.exists()
    # a file that is not a database
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database\n" * 100)
    r = migrate(agon, str(junk), str(fresh))
    assert r.returncode == 1 and str(junk) in r.stderr, r.stderr
    assert not fresh.exists()
    # a table migrate does not know: refused, so that none is left behind
    con = sqlite3.connect(agon.db)
    con.execute("CREATE TABLE extra (x TEXT)")
    con.commit()
    con.close()
    r = migrate(agon, agon.db, str(fresh))
    assert r.returncode == 1 and "table 'extra' is not in the list" in r.stderr, r.stderr
    assert not list(tmp_path.glob("fresh.db*"))
    # usage
    assert agon.run("migrate", "--from", agon.db).returncode == 2
    assert "usage: agon migrate --from DATABASE --to DATABASE" in \
        agon.run("migrate").stderr
    assert "migrate --from DATABASE --to DATABASE" in agon.run("--help").stdout
    # never a password in what it says
    for to in ("postgresql://agon:hunter2secret@/agon?host=%s" % tmp_path,
               "host=%s dbname=agon user=agon password=hunter2secret" % tmp_path):
        r = migrate(agon, agon.db, to)
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert "hunter2secret" not in r.stdout + r.stderr, r.stderr
        assert r.stderr.startswith("agon: --to: "), r.stderr


# ---- PostgreSQL -----------------------------------------------------------
#
# The session's throwaway cluster (pg_cluster.py, conftest's pg_cluster):
# skipped with the reason where PostgreSQL 15 is not installed.

class Pg:
    """A database of the cluster: its name, its URL, and SQL on it."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.url = cluster.new_database("migrate")
        self.name = cluster.dbname(self.url)

    def sql(self, query):
        rows = self.cluster.psql(self.name, query)
        return "\n".join("\t".join(r) for r in rows)


def pg_built(agon):
    return "PostgreSQL" in agon.run("--version").stdout


def test_migrate_through_postgresql(agon_factory, fake, tmp_path, pg_cluster):
    """sqlite -> postgresql while the arena runs, then postgresql -> sqlite:
    the arena that comes back is the one that left, row for row, so its
    export and recompute are the source's."""
    agon, c, facts = build_arena(agon_factory, fake, tmp_path)
    if not pg_built(agon):
        pytest.skip("this agon is built without PostgreSQL")
    before = dump(agon.db)
    for t, cols in STORED_ORDER.items():  # not the key's order: worth keeping
        assert before[t + ":stored"] != sorted(before[t + ":stored"]), t
    pg = Pg(pg_cluster)
    name, url = pg.name, pg.url
    r = migrate(agon, agon.db, url)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "(SQLite) to 'postgresql:///%s" % name in r.stdout and "(PostgreSQL)" in r.stdout
    assert progress(r.stdout) == {t: len(before[t]) for t in TABLES}, r.stdout

    # in PostgreSQL: every table's rows (dedup_stats: its 16 rows, whose
    # sums are SQLite's one), and the identities past the copied numbers
    for t in TABLES:
        n = int(pg.sql("SELECT count(*) FROM %s" % t))
        assert n == (16 if t == "dedup_stats" else len(before[t])), t
    d = before["dedup_stats"][0]
    assert pg.sql("SELECT sum(prompts) || ' ' || sum(left_out) FROM dedup_stats") == \
        "%d %d" % (d["prompts"], d["left_out"])
    for t, col in (("votes", "seq"), ("judgments", "id")):
        top = max(row[col] for row in before[t])
        assert pg.sql("SELECT nextval(pg_get_serial_sequence('%s', '%s'))"
                      % (t, col)) == str(top + 1), t
    assert pg.sql("SELECT comment FROM votes WHERE comment IS NOT NULL") == \
        "the first one, ünïcode ✓"
    assert pg.sql("SELECT value FROM meta WHERE key = 'secret'") == \
        next(m["value"] for m in before["meta"] if m["key"] == "secret")
    for t, cols in STORED_ORDER.items():
        assert pg.sql("SELECT concat_ws(' ', %s) FROM %s ORDER BY ord" % (cols, t)) == \
            "\n".join(" ".join(row) for row in before[t + ":stored"]), t
    # recompute on PostgreSQL finds the copied ratings equal to its replay,
    # the source's to the value
    assert recompute(agon, url) == recompute(agon, agon.db)

    # a PostgreSQL target with data is refused too, and left as it was
    r = migrate(agon, agon.db, url)
    assert r.returncode == 1 and "is not empty (table battles has rows)" in r.stderr, r.stderr
    assert int(pg.sql("SELECT count(*) FROM battles")) == len(before["battles"])

    # and back: the very same rows, of the very same types
    back = str(tmp_path / "back.db")
    r = migrate(agon, url, back)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "(PostgreSQL) to '%s' (SQLite)" % back in r.stdout
    assert progress(r.stdout) == {t: len(before[t]) for t in TABLES}, r.stdout
    assert dump(back) == before
    for fmt in ("jsonl", "fastchat"):
        assert export(agon, back, fmt) == export(agon, agon.db, fmt)
    assert recompute(agon, back) == recompute(agon, agon.db)

    # postgresql -> postgresql, and a table PostgreSQL holds that the list
    # does not name is refused
    pg2 = Pg(pg_cluster)
    assert migrate(agon, url, pg2.url).returncode == 0
    assert recompute(agon, pg2.url) == recompute(agon, agon.db)
    url2 = pg2.url
    pg2.sql("CREATE TABLE extra (x TEXT)")
    r = migrate(agon, url2, str(tmp_path / "never.db"))
    assert r.returncode == 1 and "table 'extra' is not in the list" in r.stderr, r.stderr
    assert not (tmp_path / "never.db").exists()
    # a password in the URL is never shown
    r = migrate(agon, agon.db, "postgresql://nobody:hunter2secret@/nope?host=%s"
                % pg_cluster.socket_dir)
    assert r.returncode == 1 and "hunter2secret" not in r.stdout + r.stderr, r.stderr


def test_migrate_reads_one_snapshot(agon_factory, tmp_path, pg_cluster):
    """The source is read in one snapshot: votes committed while the copy
    is under way are not in the target, neither in its votes nor in the
    ratings, pair counts and slices read after them (recompute equal).
    Deterministic: the target's ratings table is locked against writes
    from another session (SHARE: reads go on), so the copy stops at it,
    with the votes copied and the counts not yet read; the votes come
    then."""
    agon = agon_factory([LONG, SHORT])
    if not pg_built(agon):
        pytest.skip("this agon is built without PostgreSQL")
    c = agon.client()
    bids = [c.battle("vote %d" % i)[0] for i in range(12)]
    for bid in bids[:6]:
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    # the target's tables, without data (from an empty arena)
    empty = tmp_path / "empty.db"
    empty.touch()
    pg = Pg(pg_cluster)
    url = pg.url
    assert migrate(agon, str(empty), url).returncode == 0

    result = {}
    t = threading.Thread(target=lambda: result.update(r=migrate(agon, agon.db, url)))
    with pg_cluster.holding(pg.name, "LOCK TABLE ratings IN SHARE MODE"):
        t.start()
        wait_for(lambda: pg.sql("SELECT count(*) FROM pg_stat_activity WHERE "
                                "wait_event_type = 'Lock' AND query LIKE "
                                "'INSERT INTO \"ratings\"%'") == "1",
                 30, "the copy waiting at the ratings")
        for bid in bids[6:]:
            assert c.post("/api/battles/%s/vote" % bid, {"winner": "b"}).status == 200
    t.join(60)
    r = result["r"]
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert progress(r.stdout)["votes"] == 6
    assert recompute(agon, url)["votes"] == 6
    back = str(tmp_path / "back.db")
    assert migrate(agon, url, back).returncode == 0
    assert recompute(agon, back)["votes"] == 6
    assert recompute(agon, agon.db)["votes"] == 12
