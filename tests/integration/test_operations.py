"""Operations (issue 6): SIGHUP reload, the admin API, /metrics, logs,
meson install."""
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from conftest import Model, assert_error, two_echo_models, wait_for

TOKEN = "admin-token-for-tests-0123456789"


def model_names(c):
    return sorted(m["name"] for m in c.get("/api/models").json()["models"])


def test_sighup_adds_removes_and_keeps_battles_in_flight(agon_factory):
    slow = [Model("Keep-One", "slow400-keep-one", timeout=30),
            Model("Keep-Two", "slow400-keep-two", timeout=30)]
    agon = agon_factory(slow)
    c = agon.client()
    assert model_names(c) == ["Keep-One", "Keep-Two"]
    bid = c.new_battle("still streaming during the reload").json()["id"]
    # new file: one model removed, one re-parameterised, one added
    agon.write_config([Model("Keep-One", "echo-keep-one-v2"),
                       Model("Fresh-Three", "echo-fresh-three")])
    agon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: model_names(c) == ["Fresh-Three", "Keep-One"], what="reload")
    # the battle in flight finishes with the settings it started with
    es = c.events("/api/battles/%s/events" % bid, timeout=30)
    assert es.end == {"turn": 1, "status": "ready"}, es.end
    v = c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).json()
    assert set(v["models"].values()) == {"Keep-One", "Keep-Two"}
    # new battles use the new set only
    for _ in range(4):
        bid2, _ = c.battle("after the reload")
        names = set(c.post("/api/battles/%s/vote" % bid2, {"winner": "tie"}).json()["models"].values())
        assert names == {"Keep-One", "Fresh-Three"}
    assert "configuration reloaded" in agon.stderr()


def test_sighup_with_a_broken_file_keeps_running_config(agon_factory):
    agon = agon_factory(two_echo_models())
    c = agon.client()
    before = model_names(c)
    Path(agon.config).write_text(Path(agon.config).read_text() + "\n[model broken]\nbogus = 1\n")
    agon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in agon.stderr(), what="reload failure log")
    line = [l for l in agon.stderr().splitlines() if "reload failed" in l][0]
    assert re.search(r"agon\.ini:\d+:", line), line
    assert model_names(c) == before
    assert c.battle("still works")[1].end["status"] == "ready"


def admin_agon(agon_factory, models=None):
    agon = agon_factory(None)
    agon.env["AGON_TEST_ADMIN"] = TOKEN
    agon.write_config(models or two_echo_models(), server_extra="admin_token_env = AGON_TEST_ADMIN")
    agon.start()
    return agon


def auth(token=TOKEN):
    return {"Authorization": "Bearer " + token}


def test_admin_needs_the_token(agon_factory):
    agon = admin_agon(agon_factory)
    c = agon.client()
    for method, path in [("POST", "/api/admin/reload"), ("GET", "/api/admin/battles"),
                         ("GET", "/api/admin/export"), ("GET", "/api/admin/nodes")]:
        assert_error(c.request(method, path), 401)
        assert_error(c.request(method, path, headers=auth("wrong-token-wrong-token-xx")), 401)
    assert_error(c.post("/api/admin/models/Nimbus-Delta-7B", {"enabled": False}), 401)
    assert TOKEN not in agon.stderr()


def test_admin_api_is_off_without_a_token(agon_factory):
    agon = agon_factory(two_echo_models())
    c = agon.client()
    assert_error(c.request("POST", "/api/admin/reload", headers=auth()), 404)


def test_admin_reload_battles_export_and_toggle(agon_factory):
    agon = admin_agon(agon_factory, [Model("Adm-A", "echo-adm-a"), Model("Adm-B", "echo-adm-b"),
                                     Model("Adm-C", "echo-adm-c")])
    c = agon.client()
    ids = []
    for i in range(5):
        bid, _ = c.battle("admin %d" % i)
        ids.append(bid)
    for bid in ids[:3]:
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    # list, newest first, paged, filtered
    r = c.get("/api/admin/battles?limit=2", headers=auth()).json()
    assert len(r["battles"]) == 2 and r["next_offset"] == 2
    assert [b["id"] for b in r["battles"]] == ids[::-1][:2]
    r2 = c.get("/api/admin/battles?limit=2&offset=2", headers=auth()).json()
    assert [b["id"] for b in r2["battles"]] == ids[::-1][2:4]
    voted = c.get("/api/admin/battles?status=voted", headers=auth()).json()["battles"]
    assert sorted(b["id"] for b in voted) == sorted(ids[:3])
    assert all(b["winner"] == "a" and b["counted"] for b in voted)
    by_model = c.get("/api/admin/battles?model=Adm-C", headers=auth()).json()["battles"]
    assert all("Adm-C" in (b["model_a"], b["model_b"]) for b in by_model)
    future = c.get("/api/admin/battles?since=2100-01-01T00:00:00Z", headers=auth()).json()
    assert future["battles"] == []
    assert_error(c.get("/api/admin/battles?status=nope", headers=auth()), 400)
    assert_error(c.get("/api/admin/battles?since=yesterday", headers=auth()), 400)
    # export in the three formats
    fc = c.get("/api/admin/export?format=fastchat", headers=auth())
    assert fc.status == 200
    recs = json.loads(fc.body)
    assert sorted(r["question_id"] for r in recs) == sorted(ids[:3])
    jl = c.get("/api/admin/export?format=jsonl", headers=auth()).body.decode().splitlines()
    assert len(jl) == 3
    csv = c.get("/api/admin/export?format=csv", headers=auth()).body.decode().splitlines()
    assert csv[0].startswith("question_id,model_a,model_b,winner") and len(csv) == 4
    assert_error(c.get("/api/admin/export?format=xml", headers=auth()), 400)
    # disable a model at run time
    r = c.post("/api/admin/models/Adm-C", {"enabled": False}, headers=auth())
    # on the node that answered, named, and on no other: it is alone
    # (docs/deploy.md: the change is sent on to every other node alive)
    nodes = c.get("/api/admin/nodes", headers=auth()).json()
    assert [n["name"] for n in nodes["nodes"]] == [nodes["node"]]
    assert nodes["nodes"][0]["alive"] and nodes["nodes"][0]["url"] == agon.url
    assert r.status == 200 and r.json() == {"node": nodes["node"], "model": "Adm-C",
                                            "enabled": False, "nodes": []}
    assert "Adm-C" not in model_names(c)
    for _ in range(5):
        bid, _ = c.battle("no C")
        names = c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).json()["models"].values()
        assert "Adm-C" not in names
    assert_error(c.post("/api/admin/models/Nope", {"enabled": True}, headers=auth()), 404)
    assert_error(c.post("/api/admin/models/Adm-C", {"enabled": "yes"}, headers=auth()), 400)
    # reload from the file brings it back
    r = c.request("POST", "/api/admin/reload", headers=auth())
    assert r.status == 200 and r.json()["enabled"] == 3 and r.json()["nodes"] == []
    assert "Adm-C" in model_names(c)
    # a broken file: 422 naming file and line, config unchanged
    Path(agon.config).write_text(Path(agon.config).read_text() + "\n[ratings]\nk = lots\n")
    r = c.request("POST", "/api/admin/reload", headers=auth())
    err = assert_error(r, 422)
    assert re.search(r"agon\.ini:\d+: k:", err["message"]), err
    assert len(model_names(c)) == 3


def test_metrics_count_failures(agon_factory):
    agon = agon_factory([Model("Met-Good", "echo-met-good"), Model("Met-Bad", "fail500-met-bad")])
    c = agon.client()
    for _ in range(2):
        c.battle("metrics")
    text = c.get("/metrics").body.decode()
    assert re.search(r'^agon_battles_failed_total\{model="Met-Bad"\} 2$', text, re.M), text
    assert re.search(r'^agon_battles_started_total\{model="Met-Good"\} 2$', text, re.M), text


def test_metrics(agon_factory):
    agon = agon_factory([Model("Met-Good", "echo-met-good"), Model("Met-Other", "echo-met-other")])
    c = agon.client()
    bids = [c.battle("metrics")[0] for _ in range(3)]
    # blind battles are not counted per model yet (issue 11)
    assert "agon_battles_started_total{" not in c.get("/metrics").body.decode()
    for bid in bids:
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).status == 200
    c.get("/api/leaderboard")
    c.get("/nope")
    r = c.get("/metrics")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    def value(line_re):
        m = re.search(r"^" + line_re + r" (\S+)$", text, re.M)
        assert m, "no metric " + line_re + " in:\n" + text[:3000]
        return float(m.group(1))
    assert value(r'agon_http_requests_total\{route="/api/battles",status="201"\}') == 3
    assert value(r'agon_http_requests_total\{route="/api/leaderboard",status="200"\}') == 1
    assert value(r'agon_battles_started_total\{model="Met-Good"\}') == 3
    assert value(r'agon_battles_finished_total\{model="Met-Other"\}') == 3
    assert value(r'agon_upstream_ttft_seconds_count\{model="Met-Good"\}') >= 1
    assert 'agon_upstream_tokens_per_second_bucket{model="Met-Good",le="+Inf"}' in text
    assert value("agon_streams_open") >= 0
    assert value("agon_db_write_seconds_count") >= 3
    assert "# TYPE agon_votes_excluded_total counter" in text
    # keys and provider text never appear
    assert "provider-secret" not in text


def test_logs_one_line_per_request_without_prompts_or_keys(agon_factory):
    agon = agon_factory(None)
    agon.env["AGON_TEST_KEY"] = "sk-very-secret-key-123456"
    agon.write_config([Model("Log-A", "echo-log-a", api_key_env="AGON_TEST_KEY"),
                       Model("Log-B", "echo-log-b")])
    agon.start()
    c = agon.client()
    c.battle("my private prompt text zebra")
    c.get("/api/leaderboard")
    # the line is written once the reply has gone out: wait for it
    wait_for(lambda: 'path="/api/leaderboard" status=200' in agon.stderr(), what="log line")
    err = agon.stderr()
    req_lines = [l for l in err.splitlines() if 'msg="request"' in l]
    assert any('path="/api/leaderboard" status=200' in l for l in req_lines), err
    assert any('path="/api/battles" status=201' in l for l in req_lines), err
    up = [l for l in err.splitlines() if 'msg="upstream"' in l]
    assert len(up) == 2 and all("ttft_ms=" in l for l in up)
    for l in err.splitlines():
        assert re.match(r"^ts=\S+ level=(info|warn|error) msg=", l), l
    assert "zebra" not in err and "sk-very-secret" not in err
    assert "127.0.0.1" not in "\n".join(req_lines)


def test_meson_install(tmp_path):
    root = Path(__file__).resolve().parents[2]
    build = Path(os.environ.get("AGON_BIN", root / "build" / "agon")).resolve().parent
    dest = tmp_path / "dest"
    r = subprocess.run(["meson", "install", "-C", str(build), "--no-rebuild",
                        "--destdir", str(dest)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    files = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert any(f.endswith("bin/agon") for f in files), files
    assert any(f.endswith("man/man1/agon.1") for f in files), files
    assert any(f.endswith("doc/agon/agon.example.ini") for f in files), files
    unit = [f for f in files if f.endswith("systemd/system/agon.service")]
    assert unit, files
    text = (dest / unit[0]).read_text()
    for want in ("DynamicUser=yes", "StateDirectory=agon", "ProtectSystem=strict",
                 "ExecReload=/bin/kill -HUP $MAINPID"):
        assert want in text
    assert "@BINDIR@" not in text
    ini = [f for f in files if f.endswith("agon.example.ini")][0]
    env = dict(os.environ, OPENAI_API_KEY="sk-example")
    binary = [f for f in files if f.endswith("bin/agon")][0]
    r = subprocess.run([str(dest / binary), "check-config", str(dest / ini)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
