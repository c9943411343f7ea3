"""Import and export on PostgreSQL give what they give on SQLite.

The same battle logs are imported with `agon import` into a SQLite file
and into a database of a throwaway PostgreSQL cluster (pg_cluster.py),
then exported with `agon export` in every format: the exports are the
same bytes. The logs are the GenAI-Arena release (tests/data) and records
that carry every field Agon keeps of a battle (language, conv_metadata,
category_tag with Agon's own categories, the voter's reasons and comment,
replaced answers and replacements, some of them malformed, a vote not
counted, a non-anonymous battle, judge records that an import skips,
duplicates). A second import stores nothing new on either engine; a log
that a STRICT SQLite table refuses fails on both and changes nothing.
"""

import json
import os
import random
import sqlite3
import subprocess

import pytest

import pg_cluster as pg_cluster_mod
from conftest import REPO, run_agon

GENAI = REPO / "tests" / "data" / "genai-arena-clean-battle-20240220.json"


@pytest.fixture
def cluster(pg_cluster):
    """The session's cluster (conftest.py): the test skips without one."""
    return pg_cluster


MODELS = ["alpha", "beta", "gamma", "delta", "épsilon"]
WINNERS = ["model_a", "model_b", "tie", "tie (bothbad)"]
PROMPTS = ["Write a haiku about the sea.", "def f(x):\n    return x  # fix it",
           "Explain \"quotes\", commas, and\ttabs", "日本語で答えてください",
           "Привет! Как дела?", "Solve 2x + 3 = 11 step by step."]


def conversation(prompts, model, i):
    conv = []
    for t, p in enumerate(prompts):
        conv.append({"role": "user", "content": p})
        conv.append({"role": "assistant",
                     "content": "%s answer %d.%d \u2014 **bold**\n- item" % (model, i, t)})
    return conv


def rich_records(seed=7, n=160):
    """Records with every field an import keeps, deterministic."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rnd.sample(MODELS, 2)
        turns = 1 + (i % 3)
        prompts = [PROMPTS[(i + t) % len(PROMPTS)] for t in range(turns)]
        rec = {
            "question_id": "q%04d" % i,
            "model_a": a, "model_b": b,
            "winner": WINNERS[i % 4],
            "judge": "arena_user_%d" % (i % 9),
            "turn": turns,
            "anony": i % 11 != 5,
            "tstamp": 1700000000 + i * 37.25 + rnd.random(),
            "conversation_a": conversation(prompts, a, i),
            "conversation_b": conversation(prompts, b, i),
        }
        if i % 4 == 0:
            rec["language"] = ["English", "Japanese", "Russian"][i % 3]
        if i % 5 == 0:
            rec["conv_metadata"] = {
                "sum_user_tokens": 10 + i, "sum_assistant_a_tokens": 100 + i,
                "sum_assistant_b_tokens": 90 + 2 * i, "turns": turns,
                "header_count_a": {"h1": i % 2, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                "header_count_b": {"h1": 0, "h2": 1, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                "list_count_a": {"ordered": 0, "unordered": i % 3},
                "list_count_b": {"ordered": 1, "unordered": 0},
                "bold_count_a": {"**": 1, "__": 0},
                "bold_count_b": {"**": 0, "__": i % 2}}
        if i % 3 == 0:
            rec["category_tag"] = {
                "math_v0.1": {"math": i % 2 == 0},
                "agon_categories_v0.1": {"hard_prompt": i % 6 == 0,
                                         "legal": i % 9 == 0,
                                         "my_own_cat": True}}
        if i % 7 == 0:
            rec["agon_vote_reasons_v0.1"] = ["clearer", "more accurate"][: 1 + i % 2]
        if i % 8 == 0:
            rec["agon_vote_comment_v0.1"] = "comment %d: \"nice\", ünïcödé \u2603" % i
        if i % 6 == 1:
            rec["agon_replaced_v0.1"] = [
                {"turn": 1, "side": "a", "attempt": 1, "kind": "regenerate",
                 "model": a, "answer": "old answer", "failed": False,
                 "reasoning": None, "at": 1700000000000 + i},
                {"turn": 1, "side": "b", "attempt": 1, "kind": "retry",
                 "model": "zeta", "answer": "", "failed": True,
                 "reasoning": "thought", "at": 1700000000500 + i},
                # left out on both engines: no such side, not an object,
                # a field the table needs missing, one already there
                {"turn": 1, "side": "c", "attempt": 2, "kind": "regenerate",
                 "model": a},
                5, None, [1, 2], "{\"turn\": 1}",
                {"side": "a", "attempt": 3, "kind": "regenerate", "model": a},
                {"turn": 1, "side": "a", "attempt": 1, "kind": "regenerate",
                 "model": "again"},
                {"turn": "2", "side": "a", "attempt": 2.0, "kind": "regenerate",
                 "model": a, "at": "12"}]
            rec["agon_replacements_v0.1"] = [
                {"side": "b", "turn": 1, "old_model": "zeta", "new_model": b,
                 "at": 1700000000600 + i},
                {"side": "q", "turn": 1, "old_model": "x", "new_model": "y"}]
        if i % 6 == 3:
            # not a list but an object: SQLite's json_each walks its
            # members (seq: the key's leading digits plus 1, else 1)
            rec["agon_replacements_v0.1"] = {
                "x": {"side": "a", "turn": 1, "old_model": "eta", "new_model": a},
                "2nd": {"side": "b", "turn": 2, "old_model": "theta",
                        "new_model": b, "at": True}}
        if i % 13 == 4:
            rec["agon_counted"] = False
            rec["agon_reason"] = "flagged by a test"
        out.append(rec)
    # an LLM judge's record from an export: skipped by an import
    out.append({"question_id": "q0001", "model_a": "alpha", "model_b": "beta",
                "winner": "model_a", "judge": "llm_judge/j1", "turn": 1,
                "anony": True, "tstamp": 1700000001.5, "agon_source": "judge",
                "agon_counted": False})
    # the same battle twice: stored once
    out.append(dict(out[3]))
    return out


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                            for r in records), encoding="utf-8")


def agon_ok(agon_bin, *args):
    r = run_agon(agon_bin, *map(str, args), timeout=180)
    assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-3000:])
    return r


def exports(agon_bin, db):
    return {fmt: agon_ok(agon_bin, "export", "--db", db, "--format", fmt).stdout
            for fmt in ("jsonl", "fastchat", "csv")}


# Every table an import writes, in a fixed order: the same rows on both.
TABLES = [
    "SELECT id, created_at, model_a, model_b, session, status, source, record, "
    "tstamp, anony, language, tags, conv_metadata, mode FROM battles ORDER BY id",
    "SELECT seq, battle_id, winner, created_at, counted, reason, k, reasons, "
    "comment, dedup FROM votes ORDER BY seq",
    "SELECT battle_id, category, value, tagger, created_at FROM "
    "battle_categories ORDER BY battle_id, category",
    "SELECT battle_id, turn, side, attempt, answer, error, reasoning, "
    "replaced_at, kind, model FROM replaced_answers ORDER BY battle_id, turn, "
    "side, attempt",
    "SELECT battle_id, seq, side, old_model, new_model, turn, at FROM "
    "side_replacements ORDER BY battle_id, seq",
    "SELECT slice, model_a, model_b, wins_a, wins_b, ties FROM slice_pairs "
    "ORDER BY slice, model_a, model_b",
    "SELECT model, elo, battles, wins, losses, ties FROM ratings ORDER BY model",
    "SELECT model_a, model_b, wins_a, wins_b, ties FROM pair_counts ORDER BY "
    "model_a, model_b",
]


def table_rows(db, sql):
    """The rows of sql on db (a SQLite file, or a PostgreSQL URL) as dicts
    in column order, typed as SQLite gives them: PostgreSQL's through
    json_agg, so that a text stays a text and a double the same double."""
    if not str(db).startswith("postgresql:"):
        con = sqlite3.connect(str(db))
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute(sql)]
        finally:
            con.close()
    r = subprocess.run([os.path.join(pg_cluster_mod.PG_BIN, "psql"), "-X", "-q", "-At",
                        "-v", "ON_ERROR_STOP=1", "-d", db, "-c",
                        "SELECT coalesce(json_agg(q), '[]') FROM (%s) q" % sql],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def tables(db):
    return [table_rows(db, sql) for sql in TABLES]


def test_import_then_export_is_the_same_bytes_on_both_engines(agon_bin, tmp_path,
                                                               cluster):
    rich = tmp_path / "rich.jsonl"
    write_jsonl(rich, rich_records())
    sq = tmp_path / "arena.db"
    pg = cluster.new_database()
    said = {}
    for name, db in (("sqlite", sq), ("postgres", pg)):
        r1 = agon_ok(agon_bin, "import", "--db", db, GENAI)
        r2 = agon_ok(agon_bin, "import", "--db", db, rich)
        said[name] = (r1.stdout, r2.stdout)
    assert said["sqlite"] == said["postgres"]
    a, b = exports(agon_bin, sq), exports(agon_bin, pg)
    for fmt in a:
        assert a[fmt] == b[fmt], fmt
    # and what they store (that an imported battle's export does not show)
    ts, tp = tables(sq), tables(pg)
    for sql, x, y in zip(TABLES, ts, tp):
        assert x == y, sql
    replaced, replacements = ts[3], ts[4]
    assert len(replaced) == 27 * 3 and len(replacements) == 27 + 27 * 2
    assert sorted({r["seq"] for r in replacements}) == [1, 3]
    recs = [json.loads(line) for line in a["jsonl"].splitlines()]
    # GenAI's 2060 battles between two models, and the rich ones once each
    assert len(recs) == 2060 + 160
    assert a["fastchat"].startswith("[") and a["csv"].startswith("question_id,")
    # what the records carry came through
    rich_out = {r["question_id"]: r for r in recs if "question_id" in r}
    assert rich_out["q0001"]["agon_replaced_v0.1"][0]["answer"] == "old answer"
    assert rich_out["q0008"]["agon_vote_comment_v0.1"].startswith("comment 8")

    # the same file again: nothing new on either, the same bytes still
    for db in (sq, pg):
        r = agon_ok(agon_bin, "import", "--db", db, rich)
        assert "imported 0" in r.stdout + r.stderr, r.stdout + r.stderr
    a2, b2 = exports(agon_bin, sq), exports(agon_bin, pg)
    assert a2 == a and b2 == b

    # the ratings rebuilt from the stored votes are the same on both
    rs = json.loads(agon_ok(agon_bin, "recompute", "--db", sq).stdout)
    rp = json.loads(agon_ok(agon_bin, "recompute", "--db", pg).stdout)
    assert rs == rp


def test_a_log_that_cannot_be_stored_fails_on_both_and_changes_nothing(
        agon_bin, tmp_path, cluster):
    good = tmp_path / "good.jsonl"
    write_jsonl(good, rich_records(seed=3, n=30))
    bad_recs = rich_records(seed=4, n=20)
    for r in bad_recs:
        r["question_id"] = "bad-" + r["question_id"]
    sq = tmp_path / "arena.db"
    pg = cluster.new_database()
    before, stored_before = {}, {}
    for db in (sq, pg):
        agon_ok(agon_bin, "import", "--db", db, good)
        before[str(db)] = exports(agon_bin, db)
        stored_before[str(db)] = tables(db)
    assert before[str(sq)] == before[str(pg)]
    assert stored_before[str(sq)] == stored_before[str(pg)]
    # a turn of 1.5 (SQLite's STRICT table refuses it), a replaced answer
    # that is a string but not JSON text (SQLite's json_extract fails on
    # it), a list of replacements that is such a string
    wrong = [[{"turn": 1.5, "side": "a", "attempt": 1, "kind": "regenerate",
               "model": "alpha"}],
             ["not an object"],
             "not a list"]
    for i, w in enumerate(wrong):
        bad_recs = rich_records(seed=4 + i, n=20)
        for r in bad_recs:
            r["question_id"] = "bad-%d-%s" % (i, r["question_id"])
        bad_recs[2]["agon_replacements_v0.1" if i == 2 else "agon_replaced_v0.1"] = w
        bad = tmp_path / ("bad%d.jsonl" % i)
        write_jsonl(bad, bad_recs)
        for db in (sq, pg):
            r = run_agon(agon_bin, "import", "--db", str(db), str(bad), timeout=120)
            assert r.returncode != 0, (db, w, r.stdout)
            assert "import failed" in r.stderr, r.stderr
            assert exports(agon_bin, db) == before[str(db)]
            assert tables(db) == stored_before[str(db)]
