"""The storage engine is chosen by the `database` value (issue 12): a path,
or "sqlite:PATH", is a SQLite file; a PostgreSQL URL or libpq keyword
string is refused with a clear error in a build without that engine (no
libpq: `agon --version` lists the engines), by check-config and serve at
the file's line, and by every command's --db, without repeating the value
(a URL may hold a password) and without creating anything. A build with
it is tested on a real cluster in test_postgres.py."""

import json
import os

import pytest

from conftest import run_agon, sqlite_only, two_echo_models

CONFIG = """\
[server]
listen = 127.0.0.1:0
database = {db}

[model alpha]
base_url = http://127.0.0.1:9/v1

[model beta]
base_url = http://127.0.0.1:9/v1
"""

POSTGRES = [
    "postgresql://agon:hunter2@db.example:5432/agon",
    "postgres://agon:hunter2@db.example/agon",
    "host=db.example dbname=agon password=hunter2",
]

NOT_BUILT = "database: PostgreSQL support is not built"


@pytest.fixture
def without_postgres(agon_bin):
    """Skips where this build has the PostgreSQL engine."""
    r = run_agon(agon_bin, "--version")
    if "PostgreSQL" in r.stdout:
        pytest.skip("this build has the PostgreSQL engine (test_postgres.py tests it)")


def config_with(tmp_path, db):
    p = tmp_path / "pg.ini"
    p.write_text(CONFIG.format(db=db))
    return str(p)


@pytest.mark.parametrize("db", POSTGRES)
def test_check_config_refuses_postgres_at_its_line(agon_bin, tmp_path, db, without_postgres):
    p = config_with(tmp_path, db)
    r = run_agon(agon_bin, "check-config", p)
    assert r.returncode == 1, r
    assert "%s:3: %s" % (p, NOT_BUILT) in r.stderr, r.stderr
    assert "hunter2" not in r.stdout + r.stderr


@pytest.mark.parametrize("db", POSTGRES)
def test_serve_refuses_postgres_at_its_line(agon_bin, tmp_path, db, without_postgres):
    p = config_with(tmp_path, db)
    r = run_agon(agon_bin, "serve", "--config", p, cwd=str(tmp_path), timeout=30)
    assert r.returncode != 0, r
    assert "%s:3: %s" % (p, NOT_BUILT) in r.stderr, r.stderr
    assert "listening" not in r.stdout
    assert "hunter2" not in r.stdout + r.stderr
    assert sorted(os.listdir(tmp_path)) == ["pg.ini"], os.listdir(tmp_path)


@pytest.mark.parametrize("command", [
    ("serve", "--config", "{ini}", "--db", "{db}"),
    ("recompute", "--db", "{db}"),
    ("export", "--db", "{db}"),
    ("import", "--db", "{db}", "{log}"),
])
def test_db_option_refuses_postgres(agon_bin, tmp_path, command, without_postgres):
    ini = tmp_path / "good.ini"
    ini.write_text(CONFIG.format(db=tmp_path / "unused.db"))
    log = tmp_path / "log.json"
    log.write_text(json.dumps([{
        "question_id": "q1", "model_a": "alpha", "model_b": "beta", "winner": "model_a",
        "judge": "arena_user_1", "turn": 1, "anony": True, "language": "English",
        "tstamp": 1700000000.0}]))
    args = [a.format(ini=ini, db=POSTGRES[0], log=log) for a in command]
    r = run_agon(agon_bin, *args, cwd=str(tmp_path), timeout=30)
    assert r.returncode != 0, r
    assert "PostgreSQL support is not built" in r.stderr, r.stderr
    assert "hunter2" not in r.stdout + r.stderr
    assert "listening" not in r.stdout
    assert not (tmp_path / "unused.db").exists()
    assert not [f for f in os.listdir(tmp_path) if "postgres" in f], os.listdir(tmp_path)


@sqlite_only("the sqlite: prefix of a SQLite file's path")
def test_sqlite_prefix_names_the_same_file(agon_factory):
    """database = sqlite:PATH is the file at PATH, for serve and for --db."""
    agon = agon_factory(two_echo_models(), start=False)
    text = open(agon.config).read()
    assert ("database = %s\n" % agon.db) in text
    with open(agon.config, "w") as f:
        f.write(text.replace("database = %s\n" % agon.db, "database = sqlite:%s\n" % agon.db))
    agon.start()
    c = agon.client()
    bid, _ = c.battle("which engine keeps this vote")
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    assert agon.stop() == 0
    assert os.path.getsize(agon.db) > 0
    assert not os.path.exists(os.path.join(agon.dir, "sqlite:%s" % agon.db))
    for db in (agon.db, "sqlite:" + agon.db):
        r = agon.run("recompute", "--db", db)
        assert r.returncode == 0, r
        assert json.loads(r.stdout)["votes"] == 1, r.stdout
