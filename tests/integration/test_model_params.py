"""Per-model system prompt and sampling parameters (system_prompt,
system_prompt_file, top_p, stop): sent with every request of that model,
to that model only, and never shown to the visitor or in the logs."""
import json

from conftest import Model, assert_no_leak, run_agon

SYSTEM = "You are Vexillum, answer like a ship's log. Secret-7f3a."
FILE_SYSTEM = "Line one of the file prompt.\nLine two, Secret-91bc."


def chat_requests(fake, upstream):
    return [r["body"] for r in fake.requests()
            if r["path"].endswith("/chat/completions") and isinstance(r.get("body"), dict)
            and r["body"].get("model") == upstream]


def params_models(tmp_path):
    prompt_file = tmp_path / "system.txt"
    prompt_file.write_text(FILE_SYSTEM)
    return [
        Model("Tuned-One", "echo-tuned-one",
              extra={"system_prompt": SYSTEM, "top_p": "0.9",
                     "stop": '["\\n\\nUser:", "###"]', "temperature": "0.3"}),
        Model("Filed-Two", "echo-filed-two",
              extra={"system_prompt_file": str(prompt_file), "stop": "END"}),
        Model("Plain-Three", "echo-plain-three"),
    ]


def test_each_model_gets_its_own_system_prompt_and_sampling(agon_factory, fake, tmp_path):
    agon = agon_factory(params_models(tmp_path))
    c = agon.client()
    blobs = []
    # every pair of three models comes up in a few battles; follow-ups too
    for i in range(12):
        bid, ev = c.battle("Tell me about the sea, number %d" % i)
        blobs.append(ev.raw)
        r = c.post("/api/battles/%s/turns" % bid, {"prompt": "And the wind?"})
        assert r.status in (200, 201, 202), r
        c.wait_status(bid, ("ready", "failed"))
        blobs.append(c.get("/api/battles/%s" % bid).raw())
    tuned = chat_requests(fake, "echo-tuned-one")
    filed = chat_requests(fake, "echo-filed-two")
    plain = chat_requests(fake, "echo-plain-three")
    assert tuned and filed and plain, "every model was asked at least once"
    for body in tuned:
        assert body["messages"][0] == {"role": "system", "content": SYSTEM}
        assert [m["role"] for m in body["messages"][1:]].count("system") == 0
        assert body["messages"][1]["role"] == "user"
        assert body["top_p"] == 0.9
        assert body["stop"] == ["\n\nUser:", "###"]
        assert body["temperature"] == 0.3
    for body in filed:
        assert body["messages"][0] == {"role": "system", "content": FILE_SYSTEM}
        assert body["stop"] == ["END"]
        assert "top_p" not in body and "temperature" not in body
    for body in plain:
        assert body["messages"][0]["role"] == "user"
        assert not any(m["role"] == "system" for m in body["messages"])
        assert "top_p" not in body and "stop" not in body
    # follow-up turns carry the system prompt once, first, before the history
    assert any(len(b["messages"]) >= 3 for b in tuned)
    # never shown: not in the battle's events or JSON, not in the log
    assert_no_leak(blobs, ["Secret-7f3a", "Secret-91bc", "ship's log"], "battle output")
    agon.stop()
    assert_no_leak([agon.all_stderr()], ["Secret-7f3a", "Secret-91bc"], "agon's log")


def test_voted_battle_and_export_do_not_show_the_system_prompt(agon_factory, fake, tmp_path):
    agon = agon_factory(params_models(tmp_path))
    c = agon.client()
    bid, _ = c.battle("Hello")
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert r.status == 200, r
    after = c.get("/api/battles/%s" % bid).raw()
    agon.stop()
    r = agon.run("export", "--db", agon.db, "--format", "fastchat")
    assert r.returncode == 0, r
    assert bid in r.stdout
    assert_no_leak([after, r.stdout], ["Secret-7f3a", "Secret-91bc"],
                   "the revealed battle and the export")


BASE = """[server]
listen = 127.0.0.1:0
database = {db}

[model m1]
base_url = http://127.0.0.1:9/v1
{line}
"""


def check_config(agon_bin, tmp_path, line):
    p = tmp_path / "agon.ini"
    p.write_text(BASE.format(db=tmp_path / "x.db", line=line))
    return run_agon(agon_bin, "check-config", str(p)), str(p)


def test_bad_values_name_file_and_line(agon_bin, tmp_path):
    bad = [
        ("top_p = 0", "top_p: expected a number above 0, at most 1, got '0'"),
        ("top_p = 1.5", "top_p: expected a number above 0, at most 1, got '1.5'"),
        ("stop = []", "stop: expected a JSON array of 1 to 4 strings"),
        ('stop = ["a", "b", "c", "d", "e"]', "stop: expected a JSON array of 1 to 4 strings"),
        ("stop = [1]", "stop: item 1 must be a non-empty string of at most 256 bytes"),
        ('stop = ["ok", ""]', "stop: item 2 must be a non-empty string"),
        ("stop = [\"%s\"]" % ("x" * 257), "stop: item 1 must be a non-empty string"),
        ("stop = [unclosed", "stop: expected a JSON array"),
        ("system_prompt_file = /nonexistent/agon-system.txt",
         "system_prompt_file: cannot open '/nonexistent/agon-system.txt'"),
    ]
    for line, want in bad:
        r, path = check_config(agon_bin, tmp_path, line)
        assert r.returncode != 0, line
        msg = r.stdout + r.stderr
        assert "%s:7: " % path in msg and want in msg, (line, msg)


def test_system_prompt_is_only_a_model_key(agon_bin, tmp_path):
    p = tmp_path / "agon.ini"
    p.write_text(BASE.format(db=tmp_path / "x.db", line="") +
                 "\n[judge j1]\nbase_url = http://127.0.0.1:9/v1\nsystem_prompt = hi\n")
    r = run_agon(agon_bin, "check-config", str(p))
    assert r.returncode != 0
    assert "unknown key 'system_prompt' in [judge j1]" in r.stdout + r.stderr


def test_good_values_are_accepted(agon_bin, tmp_path):
    for line in ("top_p = 1", "top_p = 0.05", "stop = ###", 'stop = ["\\u00e9t\\u00e9", "\\n"]',
                 "system_prompt = Réponds en français."):
        r, _ = check_config(agon_bin, tmp_path, line)
        assert r.returncode == 0, (line, r)
