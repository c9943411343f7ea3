"""Fixtures and helpers for Agon's integration tests.

The tests run the real `agon` binary (env AGON_BIN, default build/agon under the
repository root) against tests/fake_backend.py, and talk to it over HTTP with the
standard library only.

The storage engine: a SQLite file per agon by default; with
AGON_TEST_ENGINE=postgres every agon the fixtures make gets a fresh database
of its own in one throwaway PostgreSQL cluster for the session
(pg_cluster.py), and the tests marked `sqlite_only` (they open the SQLite file
themselves, fill a small disk, corrupt pages, change file permissions) are
skipped with their reason.
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import fake_backend  # noqa: E402
import pg_cluster as pg_cluster_mod  # noqa: E402

# The engine every Agon the fixtures make stores with: "sqlite" or
# "postgres".
ENGINE = os.environ.get("AGON_TEST_ENGINE", "sqlite").strip().lower() or "sqlite"
if ENGINE not in ("sqlite", "postgres"):
    raise SystemExit("AGON_TEST_ENGINE must be sqlite or postgres, not %r" % ENGINE)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test is about the SQLite file itself; "
        "skipped when AGON_TEST_ENGINE=postgres")


def pytest_runtest_setup(item):
    m = item.get_closest_marker("sqlite_only")
    if m and ENGINE == "postgres":
        reason = m.args[0] if m.args else m.kwargs.get("reason", "SQLite-specific")
        pytest.skip("SQLite only: %s" % reason)


def sqlite_only(reason):
    """Marks a test (or, as pytestmark, a file) as SQLite-specific."""
    return pytest.mark.sqlite_only(reason)

# [limits] written into every test config (a later change such as a minimum
# time before a vote counts can be switched off for all tests here).
# Tests vote as soon as answers are done; the anti-scripting delay
# (min_vote_seconds, default 1) is tested on its own. Every test client
# comes from 127.0.0.1, so the per-client defaults that make a bare config
# safe on the internet (battles, votes, connections and event streams per
# client) are lifted here too; test_flood.py runs the real defaults.
DEFAULT_LIMITS = {"min_vote_seconds": 0, "battles_per_minute": 0,
                  "votes_per_minute": 0, "max_connections_per_client": 0,
                  "max_streams_per_client": 0}

LISTEN_RE = re.compile(r"^agon: listening on http://127\.0\.0\.1:(\d+)/$")
# ...and agon's own: an HTTP worker that reached the database
# (server/util/nowait.h), a bug every test looks for
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     ": runtime error:", "WARNING: ThreadSanitizer",
                     "an HTTP worker waits on storage")


def agon_path():
    p = os.environ.get("AGON_BIN") or str(REPO / "build" / "agon")
    p = Path(p)
    if not p.is_absolute():
        p = REPO / p
    return p


@pytest.fixture(scope="session")
def agon_bin():
    p = agon_path()
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail("agon binary not found at %s (build it, or set AGON_BIN)" % p)
    return str(p)


def run_agon(agon_bin, *args, env=None, timeout=30, cwd=None):
    """Run a short agon command; returns CompletedProcess (text)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run([agon_bin, *args], capture_output=True, text=True,
                       timeout=timeout, env=e, cwd=cwd)
    check_sanitizers(r.stderr)
    return r


def check_sanitizers(stderr_text):
    found = [m for m in SANITIZER_MARKERS if m in stderr_text]
    assert not found, "sanitizer report from agon:\n" + stderr_text[-4000:]


# ---------------------------------------------------------------------------
# Elo, FastChat's online formula.

def elo_update(ra, rb, winner, k=4.0, scale=400.0, base=10.0):
    ea = 1.0 / (1.0 + base ** ((rb - ra) / scale))
    eb = 1.0 / (1.0 + base ** ((ra - rb) / scale))
    sa = {"a": 1.0, "b": 0.0, "tie": 0.5, "bothbad": 0.5}[winner]
    return ra + k * (sa - ea), rb + k * (1.0 - sa - eb)


def expected_ratings(votes, k=4.0, models=()):
    """votes: list of (model_a, model_b, winner) in commit order."""
    r = {m: 1000.0 for m in models}
    for a, b, w in votes:
        ra, rb = r.get(a, 1000.0), r.get(b, 1000.0)
        r[a], r[b] = elo_update(ra, rb, w, k)
    return r


# ---------------------------------------------------------------------------
# HTTP client.

class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except Exception as e:  # pragma: no cover - message for the test log
            raise AssertionError("response is not JSON (%s %s): %r" % (
                self.status, e, self.body[:500]))

    def raw(self):
        head = "HTTP/1.1 %d %s\r\n" % (self.status, self.reason)
        head += "".join("%s: %s\r\n" % kv for kv in self.headers)
        return head.encode("utf-8", "replace") + b"\r\n" + self.body

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


@dataclass
class Event:
    name: str
    data: object
    raw: str = ""


@dataclass
class EventStream:
    status: int
    headers: list
    events: list
    raw: bytes
    closed: bool  # the server closed the stream (vs. our deadline)
    elapsed: float

    def of(self, name):
        return [e for e in self.events if e.name == name]

    def text(self, side, turn=None):
        return "".join(e.data["text"] for e in self.events
                       if e.name == "delta" and e.data.get("side") == side
                       and (turn is None or e.data.get("turn") == turn))

    @property
    def end(self):
        ends = self.of("end")
        return ends[-1].data if ends else None


def parse_sse(raw):
    """Parse a complete text/event-stream body into Events (WHATWG rules)."""
    text = raw.decode("utf-8")  # must be valid UTF-8
    lines = re.split(r"\r\n|\r|\n", text)
    events, name, data, rawlines = [], "", [], []
    for line in lines:
        if line == "":
            if data:
                payload = "\n".join(data)
                try:
                    obj = json.loads(payload)
                except ValueError:
                    raise AssertionError("event data is not JSON: %r" % payload[:300])
                events.append(Event(name or "message", obj, "\n".join(rawlines)))
            name, data, rawlines = "", [], []
            continue
        rawlines.append(line)
        if line.startswith(":"):
            continue
        f, _, v = line.partition(":")
        if v.startswith(" "):
            v = v[1:]
        if f == "event":
            name = v
        elif f == "data":
            data.append(v)
    return events


class Client:
    """A browser-like client: keeps the agon_session cookie, records bytes."""

    def __init__(self, base_url, capture=None):
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port
        self.base_url = base_url
        self.cookies = {}
        self.capture = capture  # a list to append every received byte to
        self.sent = []

    def _conn(self, timeout):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def _cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())

    def _take_cookies(self, headers):
        for k, v in headers:
            if k.lower() == "set-cookie":
                nv = v.split(";", 1)[0]
                n, _, val = nv.partition("=")
                self.cookies[n.strip()] = val.strip()

    def request(self, method, path, body=None, json_body=None, headers=None,
                content_type="application/json", timeout=10, chunked=False):
        hdrs = {}
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and content_type:
            hdrs["Content-Type"] = content_type
        if self.cookies:
            hdrs["Cookie"] = self._cookie_header()
        if headers:
            hdrs.update(headers)
        c = self._conn(timeout)
        try:
            if chunked:
                def gen(b=body):
                    for i in range(0, len(b), 8192):
                        yield b[i:i + 8192]
                c.request(method, path, body=gen(), headers=hdrs, encode_chunked=True)
            else:
                c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            resp = Response(r.status, r.reason, r.getheaders(), data)
        finally:
            c.close()
        self._take_cookies(resp.headers)
        self.sent.append((method, path, body))
        if self.capture is not None:
            self.capture.append(resp.raw())
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, obj, **kw):
        return self.request("POST", path, json_body=obj, **kw)

    def events(self, path, timeout=15.0, stop=None):
        """Read an event stream until the server closes it (or timeout)."""
        hdrs = {"Accept": "text/event-stream"}
        if self.cookies:
            hdrs["Cookie"] = self._cookie_header()
        t0 = time.monotonic()
        deadline = t0 + timeout
        c = self._conn(timeout)
        buf = bytearray()
        closed = False
        try:
            c.request("GET", path, headers=hdrs)
            sock = c.sock  # getresponse() may drop c.sock on Connection: close
            r = c.getresponse()
            status, headers = r.status, r.getheaders()
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                try:
                    chunk = r.read1(65536)
                except (socket.timeout, TimeoutError):
                    break
                except (http.client.IncompleteRead, ConnectionError) as e:
                    buf += getattr(e, "partial", b"") or b""
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                buf += chunk
                if stop is not None and stop(bytes(buf)):
                    break
        finally:
            c.close()
        self._take_cookies(headers)
        if self.capture is not None:
            self.capture.append(Response(status, r.reason, headers, bytes(buf)).raw())
        evs = parse_sse(bytes(buf)) if status == 200 else []
        return EventStream(status, headers, evs, bytes(buf), closed,
                           time.monotonic() - t0)

    # --- arena helpers ---------------------------------------------------

    def new_battle(self, prompt="Hello there", expect=201):
        r = self.post("/api/battles", {"prompt": prompt})
        assert r.status == expect, r
        return r

    def battle(self, prompt="Hello there", timeout=15.0):
        """Create a battle and read its events to the end: (id, EventStream)."""
        r = self.new_battle(prompt)
        j = r.json()
        es = self.events(j["events"], timeout=timeout)
        assert es.status == 200, es
        assert es.closed, "event stream did not close within %ss: %r" % (timeout, es.raw[-500:])
        return j["id"], es

    def wait_status(self, bid, statuses, timeout=15.0):
        """Poll GET /api/battles/ID until its status is in statuses."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.get("/api/battles/" + bid)
            assert r.status == 200, r
            st = r.json()["status"]
            if st in statuses:
                return r.json()
            if time.monotonic() > deadline:
                raise AssertionError("battle %s still %s after %ss" % (bid, st, timeout))
            time.sleep(0.05)


def assert_error(resp, status):
    """Check an error response: the status and {"error": {"code", "message"}}."""
    assert resp.status == status, "expected %d, got %r" % (status, resp)
    ct = resp.header("Content-Type") or ""
    assert ct.startswith("application/json"), "error Content-Type is %r" % ct
    j = resp.json()
    assert isinstance(j, dict) and isinstance(j.get("error"), dict), j
    assert isinstance(j["error"].get("code"), str) and j["error"]["code"], j
    assert isinstance(j["error"].get("message"), str) and j["error"]["message"], j
    return j["error"]


# ---------------------------------------------------------------------------
# Config and server process.

@dataclass
class Model:
    name: str
    upstream: str = None
    base_url: str = None          # default: the fake's /v1
    api_key_env: str = None
    timeout: int = 3
    enabled: bool = True
    extra: dict = field(default_factory=dict)


class Agon:
    def __init__(self, agon_bin, workdir, fake):
        self.bin = agon_bin
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fake = fake
        self.db = str(self.dir / "agon.db")
        self.engine = "sqlite"   # what self.db names: a file, or a PostgreSQL URL
        self.pg = None           # the PostgreSQL cluster, for "postgres"
        self.env = dict(os.environ)
        home = self.dir / "home"
        home.mkdir(exist_ok=True)
        self.env.update({"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share"),
                         "XDG_STATE_HOME": str(home / ".local" / "state")})
        self.proc = None
        self.wrap = []       # a command to run agon under (say, prlimit)
        self.port = None
        self.url = None
        self.config = None
        self.models = []
        self._stdout_lines = []
        self._listening = threading.Event()
        self._reader = None
        self._stderr_path = None
        self._stderr_f = None
        self.runs = 0

    # config
    def write_config(self, models, k=4, limits=None, server_extra="", name="agon.ini",
                     bare=False):
        """bare: only [server] and the models (and `limits` if given): the
        defaults a new admin gets."""
        self.models = list(models)
        lines = ["[server]", "listen = 127.0.0.1:0", "database = %s" % self.db]
        if server_extra:
            lines.append(server_extra)
        if not bare:
            lines += ["", "[ratings]", "k = %s" % k, ""]
        limits = dict({} if bare else DEFAULT_LIMITS, **(limits or {}))
        if limits:
            lines.append("[limits]")
            lines += ["%s = %s" % kv for kv in limits.items()]
            lines.append("")
        for m in models:
            lines.append("[model %s]" % m.name)
            lines.append("base_url = %s" % (m.base_url or self.fake.api_base))
            if m.upstream:
                lines.append("model = %s" % m.upstream)
            if m.api_key_env:
                lines.append("api_key_env = %s" % m.api_key_env)
            lines.append("timeout = %d" % m.timeout)
            if not m.enabled:
                lines.append("enabled = false")
            for kk, vv in m.extra.items():
                lines.append("%s = %s" % (kk, vv))
            lines.append("")
        p = self.dir / name
        p.write_text("\n".join(lines))
        self.config = str(p)
        return self.config

    def upstream_of(self, name):
        for m in self.models:
            if m.name == name:
                return m.upstream or m.name
        raise KeyError(name)

    # process
    def start(self, args=None, timeout=15.0):
        assert self.proc is None
        if args is None:
            args = ["serve", "--config", self.config, "--listen", "127.0.0.1:0"]
        self.runs += 1
        self.port = None
        self._stderr_path = self.dir / ("stderr.%d.log" % self.runs)
        self._stderr_f = open(self._stderr_path, "wb")
        self._stdout_lines = []
        self._listening = threading.Event()
        self.proc = subprocess.Popen([*self.wrap, self.bin, *args], stdout=subprocess.PIPE,
                                     stderr=self._stderr_f, env=self.env,
                                     cwd=str(self.dir), text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read_stdout, args=(self.proc,),
                                        daemon=True)
        self._reader.start()
        if not self._listening.wait(timeout) or self.port is None:
            rc = self.proc.poll()
            self.stop()
            raise AssertionError("agon did not print its listening line within %ss "
                                 "(exit %r); stdout=%r stderr=%r" % (
                                     timeout, rc, self._stdout_lines, self.stderr()[-2000:]))
        self.url = "http://127.0.0.1:%d" % self.port
        return self

    def _read_stdout(self, proc):
        for line in proc.stdout:
            line = line.rstrip("\n")
            self._stdout_lines.append(line)
            m = LISTEN_RE.match(line)
            if m and not self._listening.is_set():
                self.port = int(m.group(1))
                self._listening.set()
        # EOF: the process is gone; wake a waiting start().
        self._listening.set()

    def stdout_lines(self):
        return list(self._stdout_lines)

    def stderr(self):
        if self._stderr_path and self._stderr_path.exists():
            return self._stderr_path.read_bytes().decode("utf-8", "replace")
        return ""

    def all_stderr(self):
        out = []
        for i in range(1, self.runs + 1):
            p = self.dir / ("stderr.%d.log" % i)
            if p.exists():
                out.append(p.read_bytes().decode("utf-8", "replace"))
        return "\n".join(out)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _finish(self):
        if self._reader:
            self._reader.join(5)
        if self._stderr_f:
            self._stderr_f.close()
            self._stderr_f = None
        rc = self.proc.returncode
        self.proc = None
        return rc

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL if needed. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self._finish()

    def kill9(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        return self._finish()

    def restart(self):
        self.stop()
        return self.start()

    def client(self, capture=None):
        return Client(self.url, capture=capture)

    def run(self, *args, timeout=30):
        r = subprocess.run([self.bin, *args], capture_output=True, text=True,
                           timeout=timeout, env=self.env, cwd=str(self.dir))
        check_sanitizers(r.stderr)
        return r

    def new_db(self, name):
        """Another database of this agon's engine, for an import or a copy:
        a SQLite file `name` in its directory, or a new PostgreSQL
        database. Its value for --db."""
        if self.engine == "postgres":
            return self.pg.new_database()
        return str(self.dir / name)

    def sql(self, query, params=(), db=None, names=False):
        """Run one SQL statement on this agon's database (or db, one of
        new_db's), whichever the engine (`?` placeholders): its rows as
        tuples (ints, floats, str, None), or with names as dicts by column
        name. For tests that look at or change what is stored the same way
        on both engines; the statement must mean the same in both."""
        db = db or self.db
        if self.engine == "postgres":
            return self.pg.query(self.pg.dbname(db), query, params, names=names)
        import sqlite3
        con = sqlite3.connect(db, timeout=10)
        if names:
            con.row_factory = sqlite3.Row
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
        finally:
            con.close()
        return [dict(r) if names else tuple(r) for r in rows]

    @contextlib.contextmanager
    def writes_held(self):
        """Another process holds the database's write lock while the block
        runs (SQLite: BEGIN IMMEDIATE; PostgreSQL: the battles table locked
        against every write, reads still served), so the writer thread
        cannot commit until it ends."""
        if self.engine == "postgres":
            with self.pg.holding(self.pg.dbname(self.db),
                                 "LOCK TABLE battles IN EXCLUSIVE MODE"):
                yield
            return
        import sqlite3
        holder = sqlite3.connect(self.db, timeout=10, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    def dump(self):
        """Everything this agon's database holds, as SQL text (SQLite's
        iterdump, pg_dump), for tests that look for what must never be
        stored."""
        if self.engine == "postgres":
            return self.pg.dump(self.pg.dbname(self.db))
        import sqlite3
        con = sqlite3.connect(self.db)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()

    def stored_bytes(self):
        """Every byte the database holds, for tests that look for what must
        never be stored: SQLite's file with its WAL (freed pages too), or
        PostgreSQL's dump of the database."""
        if self.engine == "postgres":
            return self.dump().encode("utf-8")
        return b"".join(f.read_bytes() for f in Path(self.db).parent.glob(Path(self.db).name + "*"))

    def sanitizer_reports(self):
        err = self.all_stderr()
        return [m for m in SANITIZER_MARKERS if m in err]


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the session (pg_cluster.py);
    skips the test with the reason where none can be started."""
    try:
        c = pg_cluster_mod.PgCluster.start()
    except RuntimeError as e:
        pytest.skip("no PostgreSQL cluster: %s" % e)
    yield c
    c.stop()


@pytest.fixture
def engine_db(request):
    """A function giving the database value for a new Agon and its cluster:
    (None, None) for the SQLite file in its directory, else a fresh
    PostgreSQL database's URL and the session's cluster."""
    if ENGINE != "postgres":
        return lambda: (None, None)
    cluster = request.getfixturevalue("pg_cluster")
    return lambda: (cluster.new_database(), cluster)


@pytest.fixture
def fake():
    srv, _ = fake_backend.start_fake()
    yield srv
    srv.stop()


@pytest.fixture
def agon_factory(agon_bin, fake, tmp_path, engine_db):
    made = []

    def make(models=None, sub=None, start=True, **cfg):
        a = Agon(agon_bin, tmp_path / (sub or ("agon%d" % len(made))), fake)
        db, cluster = engine_db()
        if db:
            a.db = db
            a.engine = "postgres"
            a.pg = cluster
        made.append(a)
        if models is not None:
            a.write_config(models, **cfg)
            if start:
                a.start()
        return a

    yield make
    reports = []
    for a in made:
        a.stop()
        if a.sanitizer_reports():
            reports.append(a.all_stderr()[-4000:])
    if reports:
        pytest.fail("sanitizer reports in agon's stderr:\n" + "\n----\n".join(reports))


def two_echo_models():
    return [Model("Nimbus-Delta-7B", "echo-nimbus-up-31"),
            Model("Cobalt-Quill-13B", "echo-cobalt-up-77")]


@pytest.fixture
def arena(agon_factory):
    """A running agon with two echo models."""
    return agon_factory(two_echo_models())


def closed_port():
    """A loopback port with nothing listening on it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def forbidden_strings(agon, fake=None, extra=()):
    """Strings that must not appear in anything sent before a vote."""
    out = []
    for m in agon.models:
        out.append(m.name)
        out.append(m.upstream or m.name)
        if m.base_url:
            out.append(m.base_url)
    if fake is not None:
        out += [fake.api_base, "127.0.0.1:%d" % fake.port]
    out.append(fake_backend.PROVIDER_SECRET)
    out += list(extra)
    return [s for s in out if s]


def assert_no_leak(blobs, forbidden, what="output"):
    if isinstance(blobs, (bytes, str)):
        blobs = [blobs]
    for b in blobs:
        text = b.decode("utf-8", "replace") if isinstance(b, bytes) else b
        low = text.lower()
        for s in forbidden:
            i = low.find(s.lower())
            assert i < 0, "%s leaks %r: ...%s..." % (what, s, text[max(0, i - 150):i + 150])


def wait_for(pred, timeout=10.0, what="condition"):
    """Poll pred until it returns something true (returned), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def send_raw(port, data, until=None, timeout=10.0):
    """Send raw bytes on a connection of their own and read what comes back
    until the server closes the connection, until(raw) holds, or timeout
    seconds pass without a byte: (raw, closed), closed when the server
    closed or reset it. A server that answers and closes before it has read
    all of data is no error."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    raw, closed = b"", False
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, TimeoutError):
                break
            except ConnectionError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            raw += chunk
            if until is not None and until(raw):
                break
    finally:
        s.close()
    return raw, closed


def expected_answers(prompt, models, history=None):
    """The echo answers models (whose upstreams answer like echo) give to
    prompt after history, as a set: the sides of a battle are random."""
    msgs = (history or []) + [{"role": "user", "content": prompt}]
    return {fake_backend.echo_answer(m.upstream, msgs) for m in models}


def metric(client, name):
    """The value of an unlabelled series (agon_streams_open, say) on
    /metrics, or None when it is not there."""
    m = re.search(r"^%s (\S+)$" % re.escape(name), client.get("/metrics").body.decode(), re.M)
    return float(m.group(1)) if m else None


@contextlib.contextmanager
def agon_on_a_small_disk(agon_factory, tmp_path, size="3m", on_skip=None):
    """A started agon (two echo models) whose database is on a tmpfs of
    size, with the tmpfs's path: (agon, mnt); unmounted at the end. Where
    no tmpfs can be mounted (it needs root) on_skip is called and the test
    skipped."""
    mnt = str(tmp_path / "small")
    why = None
    if ENGINE == "postgres":
        why = "SQLite only: a small disk under the SQLite file"
    elif os.geteuid() != 0 or not shutil.which("mount"):
        why = "mounting a small tmpfs for a full disk needs root"
    else:
        os.makedirs(mnt, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            why = "cannot mount a tmpfs here: %s" % r.stderr.strip()
    if why:
        if on_skip:
            on_skip()
        pytest.skip(why)
    try:
        agon = agon_factory(None)
        agon.db = os.path.join(mnt, "agon.db")
        agon.write_config(two_echo_models())
        agon.start()
        yield agon, mnt
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def battles_until_refused(c, acked, what):
    """While the storage refuses writes: battles (each voted) until the
    server has noticed, at most a few 201s whose writes then fail, then 503
    storage_unavailable with a Retry-After. Votes that got 200 are added to
    acked. Returns the statuses of the battles asked for."""
    statuses = []
    for i in range(40):
        r = c.post("/api/battles", {"prompt": "%s %d" % (what, i)})
        statuses.append(r.status)
        if r.status == 503:
            assert r.json()["error"]["code"] == "storage_unavailable", r
            assert r.header("Retry-After")
            break
        bid = r.json()["id"]
        c.events(r.json()["events"])
        v = c.post("/api/battles/%s/vote" % bid, {"winner": "b"})
        if v.status == 200:
            acked.append(bid)
        else:  # its creation could not be stored (the fault was not known yet)
            assert v.status in (404, 409, 503), v
    assert statuses[-1] == 503, statuses
    return statuses


def check_recovered(agon, c, ready, acked, what):
    """Once the storage takes writes again: /healthz recovers, a new battle
    is voted, ready (a battle from before the fault) is voted if it was not
    yet, and after a restart every acknowledged vote (acked) is stored and
    counted."""
    wait_for(lambda: c.get("/healthz").status == 200, 20, "healthz to recover")
    bid, es = c.battle(what)
    assert es.end["status"] == "ready"
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    acked.append(bid)
    if ready not in acked:
        assert c.post("/api/battles/%s/vote" % ready, {"winner": "tie"}).status == 200
        acked.append(ready)
    agon.restart()
    c = agon.client()
    for b in acked:
        got = c.get("/api/battles/" + b).json()
        assert got["status"] == "voted", got
    assert c.get("/api/leaderboard").json()["votes"] == len(acked)
    assert agon.stop() == 0


def fill_disk(path):
    """Write the file at path until its filesystem is full, to the byte."""
    with open(path, "wb", buffering=0) as f:
        for size in (65536, 512, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass


def new_id():
    return secrets.token_hex(16)
