"""The command line: --version, --help, check-config, serve with a bad config."""

import re

import pytest

from conftest import run_agon

GOOD = """\
[server]
listen = 127.0.0.1:0
database = {db}

[ratings]
k = 4

[model alpha]
base_url = http://127.0.0.1:9/v1
model = echo-alpha
timeout = 5
temperature = 0.7
max_tokens = 256
enabled = true

[model beta]            ; a comment
base_url = http://127.0.0.1:9/v1
"""


def test_version(agon_bin):
    r = run_agon(agon_bin, "--version")
    assert r.returncode == 0, r
    assert re.search(r"\d+\.\d+", r.stdout), r.stdout
    assert "agon" in (r.stdout + r.stderr).lower()


def test_help(agon_bin):
    r = run_agon(agon_bin, "--help")
    assert r.returncode == 0, r
    out = r.stdout
    for word in ("serve", "check-config", "recompute", "--config", "--listen", "--demo",
                 "--db", "--version"):
        assert word in out, "--help does not mention %s:\n%s" % (word, out)


@pytest.mark.parametrize("args", [("--help",), ("serve", "--help"), ("ratings", "--help")])
def test_help_texts_are_printed_as_written(agon_bin, args):
    """Usage texts go out with fputs, so a printf escape such as %% shows."""
    r = run_agon(agon_bin, *args)
    assert r.returncode == 0, r
    assert "%%" not in r.stdout, r.stdout
    assert "95% " in r.stdout, r.stdout


def test_unknown_command_fails(agon_bin):
    r = run_agon(agon_bin, "frobnicate")
    assert r.returncode != 0
    assert (r.stdout + r.stderr).strip()


def test_check_config_good(agon_bin, tmp_path):
    p = tmp_path / "good.ini"
    p.write_text(GOOD.format(db=tmp_path / "x.db"))
    r = run_agon(agon_bin, "check-config", str(p))
    assert r.returncode == 0, r


@pytest.mark.parametrize("value", ["0", "1", "268435456", "1099511627776"])
def test_check_config_accepts_cached_battle_bytes(agon_bin, tmp_path, value):
    """[limits] max_cached_battle_bytes: 0 (no bound) to 1 TiB."""
    text = GOOD.format(db=tmp_path / "x.db") + "\n[limits]\nmax_cached_battle_bytes = %s\n" % value
    r = run_agon(agon_bin, "check-config", _bad(tmp_path, text, "good.ini"))
    assert r.returncode == 0, r


def _bad(tmp_path, text, name="bad.ini"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def line_of(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise KeyError(needle)


BAD_CASES = {
    # name: (config text, the text of the line the error must name)
    "unknown_key_model": (GOOD + "colour = blue\n", "colour = blue"),
    "unknown_key_server": (GOOD.replace("listen = 127.0.0.1:0", "listen = 127.0.0.1:0\nthreads = 4"),
                           "threads = 4"),
    "bad_timeout": (GOOD.replace("timeout = 5", "timeout = five"), "timeout = five"),
    "negative_timeout": (GOOD.replace("timeout = 5", "timeout = -3"), "timeout = -3"),
    "bad_temperature": (GOOD.replace("temperature = 0.7", "temperature = hot"), "temperature = hot"),
    "bad_max_tokens": (GOOD.replace("max_tokens = 256", "max_tokens = 12x"), "max_tokens = 12x"),
    "bad_bool": (GOOD.replace("enabled = true", "enabled = maybe"), "enabled = maybe"),
    "bad_k": (GOOD.replace("k = 4", "k = banana"), "k = banana"),
    "missing_base_url": (GOOD + "\n[model gamma]\nmodel = echo-gamma\ntimeout = 3\n", "[model gamma]"),
    "unknown_section": (GOOD + "\n[modle delta]\nbase_url = http://127.0.0.1:9/v1\n", "[modle delta]"),
    "duplicate_model": (GOOD + "\n[model alpha]\nbase_url = http://127.0.0.1:9/v1\n",
                        "[model alpha]\nbase_url = http://127.0.0.1:9/v1\n"),
    "unset_key_env": (GOOD + "api_key_env = AGON_TEST_SURELY_UNSET_VAR\n",
                      "api_key_env = AGON_TEST_SURELY_UNSET_VAR"),
    "listen_not_a_port": (GOOD.replace("listen = 127.0.0.1:0", "listen = abc:def"),
                          "listen = abc:def"),
    "listen_port_over_65535": (GOOD.replace("listen = 127.0.0.1:0", "listen = 127.0.0.1:70000"),
                               "listen = 127.0.0.1:70000"),
    "base_url_no_host": (GOOD + "base_url = http://   ; no host\n", "; no host"),
    "base_url_ftp": (GOOD + "base_url = ftp://x\n", "base_url = ftp://x"),
    "base_url_port_over_65535": (GOOD + "base_url = http://127.0.0.1:70000/v1\n",
                                 "base_url = http://127.0.0.1:70000/v1"),
    "listen_v6_without_brackets": (GOOD.replace("listen = 127.0.0.1:0", "listen = ::1:8080"),
                                   "listen = ::1:8080"),
    "cached_battle_bytes_negative": (GOOD + "\n[limits]\nmax_cached_battle_bytes = -1\n",
                                     "max_cached_battle_bytes = -1"),
    "cached_battle_bytes_not_a_number": (GOOD + "\n[limits]\nmax_cached_battle_bytes = 256M\n",
                                         "max_cached_battle_bytes = 256M"),
    "cached_battle_bytes_over_1_tib": (
        GOOD + "\n[limits]\nmax_cached_battle_bytes = 1099511627777\n",
        "max_cached_battle_bytes = 1099511627777"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_check_config_bad(agon_bin, tmp_path, case):
    text, needle = BAD_CASES[case]
    text = text.format(db=tmp_path / "x.db")
    if case == "duplicate_model":
        # the second [model alpha] header
        line = [i for i, l in enumerate(text.splitlines(), 1) if l == "[model alpha]"][1]
    else:
        line = line_of(text, needle)
    p = _bad(tmp_path, text)
    r = run_agon(agon_bin, "check-config", p, env={"AGON_TEST_SURELY_UNSET_VAR": ""})
    out = r.stdout + r.stderr
    assert r.returncode != 0, "check-config accepted %s:\n%s" % (case, out)
    assert "%s:%d" % (p, line) in out, "message does not name %s:%d:\n%s" % (p, line, out)


def test_check_config_empty_model_section(agon_bin, tmp_path):
    """A model section with no keys at all still lacks its base_url."""
    text = GOOD.format(db=tmp_path / "x.db") + "\n[model ghost]\n"
    p = _bad(tmp_path, text)
    r = run_agon(agon_bin, "check-config", p)
    out = r.stdout + r.stderr
    assert r.returncode != 0, "an empty [model ghost] section was accepted:\n%s" % out
    assert "%s:%d" % (p, line_of(text, "[model ghost]")) in out, out


def test_check_config_missing_file(agon_bin, tmp_path):
    p = str(tmp_path / "nope.ini")
    r = run_agon(agon_bin, "check-config", p)
    assert r.returncode != 0
    assert p in r.stdout + r.stderr


def test_check_config_does_not_print_key(agon_bin, tmp_path):
    secret = "sk-check-config-SECRET-4471"
    text = GOOD.format(db=tmp_path / "x.db").replace(
        "model = echo-alpha", "model = echo-alpha\napi_key_env = AGON_TEST_KEY") + "oops = 1\n"
    p = _bad(tmp_path, text)
    r = run_agon(agon_bin, "check-config", p, env={"AGON_TEST_KEY": secret})
    assert r.returncode != 0
    assert secret not in r.stdout + r.stderr


def test_serve_refuses_bad_config(agon_bin, tmp_path):
    text = GOOD.format(db=tmp_path / "x.db") + "colour = blue\n"
    p = _bad(tmp_path, text)
    r = run_agon(agon_bin, "serve", "--config", p, "--listen", "127.0.0.1:0", timeout=15)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "listening" not in r.stdout
    assert "%s:%d" % (p, line_of(text, "colour = blue")) in out, out


@pytest.mark.parametrize("listen", ["[::1]:8080", "localhost:0", "0.0.0.0:65535"])
def test_check_config_accepts_listen(agon_bin, tmp_path, listen):
    text = GOOD.format(db=tmp_path / "x.db").replace("listen = 127.0.0.1:0", "listen = " + listen)
    r = run_agon(agon_bin, "check-config", _bad(tmp_path, text, "good.ini"))
    assert r.returncode == 0, r


@pytest.mark.parametrize("listen", ["abc:def", "127.0.0.1:70000", "::1:8080", "127.0.0.1: 80"])
def test_serve_reads_listen_as_check_config_does(agon_bin, tmp_path, listen):
    """What check-config rejects in the file, serve rejects on its command line."""
    text = GOOD.format(db=tmp_path / "x.db")
    good = _bad(tmp_path, text, "good.ini")
    bad = _bad(tmp_path, text.replace("listen = 127.0.0.1:0", "listen = " + listen))
    assert run_agon(agon_bin, "check-config", bad).returncode == 1
    r = run_agon(agon_bin, "serve", "--config", good, "--listen", listen, timeout=15)
    assert r.returncode != 0, r
    assert "listening" not in r.stdout
    assert "listen address '%s' is not HOST:PORT" % listen in r.stderr, r.stderr


@pytest.mark.parametrize("url", ["https://api.openai.com/v1", "http://[::1]:8000/v1/",
                                 "http://localhost:65535", "HTTPS://Example.org/openai/v1"])
def test_check_config_accepts_base_url(agon_bin, tmp_path, url):
    text = GOOD.format(db=tmp_path / "x.db") + "base_url = %s\n" % url
    r = run_agon(agon_bin, "check-config", _bad(tmp_path, text, "good.ini"))
    assert r.returncode == 0, r


MAX_LINE = 4096   # bytes of a config line (AGON_CONFIG_MAX_LINE)


def words_line(length):
    """An identity_words line of exactly length bytes."""
    head = "identity_words = "
    words, n = [], len(head)
    while n < length:
        w = "w%d" % len(words)
        words.append(w)
        n += len(w) + (1 if len(words) > 1 else 0)
    line = head + ",".join(words)
    return line[:length]


@pytest.mark.parametrize("length", [300, MAX_LINE])
def test_check_config_accepts_long_lines(agon_bin, tmp_path, length):
    line = words_line(length)
    assert len(line) == length
    text = GOOD.format(db=tmp_path / "x.db").replace("k = 4", "k = 4\n" + line)
    r = run_agon(agon_bin, "check-config", _bad(tmp_path, text, "good.ini"))
    assert r.returncode == 0, r


@pytest.mark.parametrize("length", [MAX_LINE + 1, 3 * MAX_LINE])
def test_check_config_reports_a_long_line_at_its_line(agon_bin, tmp_path, length):
    line = words_line(length)
    # a long comment before it must not shift the line numbers
    text = GOOD.format(db=tmp_path / "x.db").replace(
        "k = 4", "; " + "c" * 3000 + "\nk = 4\n" + line) + "colour = blue\n"
    p = _bad(tmp_path, text)
    r = run_agon(agon_bin, "check-config", p)
    assert r.returncode == 1, r
    want = "%s:%d: line is longer than %d bytes" % (p, line_of(text, "identity_words"), MAX_LINE)
    assert want in r.stderr, r.stderr


@pytest.mark.parametrize("length", [44, 60, 99, 100])
def test_check_config_accepts_long_model_names(agon_bin, tmp_path, length):
    name = ("model-%d-" % length + "x" * length)[:length]
    twin = name[:-1] + "y"   # the same first 49 bytes and more
    text = GOOD.format(db=tmp_path / "x.db") + (
        "\n[model %s]\nbase_url = http://127.0.0.1:9/v1\n"
        "[model %s]\nbase_url = http://127.0.0.1:9/v1\n" % (name, twin))
    r = run_agon(agon_bin, "check-config", _bad(tmp_path, text, "good.ini"))
    assert r.returncode == 0, r
    assert "(4 models, 4 enabled)" in r.stdout, r.stdout


@pytest.mark.parametrize("section", ["model", "judge"])
@pytest.mark.parametrize("length", [101, 300])
def test_check_config_rejects_a_long_name_at_its_line(agon_bin, tmp_path, section, length):
    header = "[%s %s]" % (section, "n" * length)
    text = GOOD.format(db=tmp_path / "x.db") + "\n%s\nbase_url = http://127.0.0.1:9/v1\n" % header
    p = _bad(tmp_path, text)
    r = run_agon(agon_bin, "check-config", p)
    assert r.returncode == 1, r
    want = "%s:%d: the %s name is longer than 100 bytes" % (p, line_of(text, header), section)
    assert want in r.stderr, r.stderr


UTF8_CASES = {
    # name: (bytes to add to GOOD, the bytes of the line the error must name)
    "model_name": (b"\n[model caf\xe9]\nbase_url = http://127.0.0.1:9/v1\n", b"[model caf\xe9]"),
    "judge_name": (b"\n[judge j\xc3]\nbase_url = http://127.0.0.1:9/v1\n", b"[judge j\xc3]"),
    "alias": (b"aliases = beta, b\xeata\n", b"aliases = "),
    "value": (b"model = \xed\xa0\x80\n", b"model = \xed"),
}


@pytest.mark.parametrize("case", sorted(UTF8_CASES))
def test_check_config_rejects_invalid_utf8_at_its_line(agon_bin, tmp_path, case):
    extra, needle = UTF8_CASES[case]
    data = GOOD.format(db=tmp_path / "x.db").encode() + extra
    line = [i for i, l in enumerate(data.split(b"\n"), 1) if needle in l][0]
    p = tmp_path / "bad.ini"
    p.write_bytes(data)
    r = run_agon(agon_bin, "check-config", str(p))
    assert r.returncode == 1, r
    assert "%s:%d: " % (p, line) in r.stderr, r.stderr
    assert "not valid UTF-8" in r.stderr, r.stderr


def test_check_config_accepts_utf8_names_and_latin1_comments(agon_bin, tmp_path):
    data = GOOD.format(db=tmp_path / "x.db").encode() + (
        "\n[model café-模型]   ; ünïcode\nbase_url = http://127.0.0.1:9/v1\n"
        "aliases = crème, 🤖\n".encode() + b"; caf\xe9 (Latin-1, in a comment)\n")
    p = tmp_path / "good.ini"
    p.write_bytes(data)
    r = run_agon(agon_bin, "check-config", str(p))
    assert r.returncode == 0, r
