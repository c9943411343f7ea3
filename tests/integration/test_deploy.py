"""docs/deploy.md as written: a real nginx (Debian's) with the configuration
block of the page, its three upstream addresses and its listen port
replaced by those of three nodes on one database, in front of them, with no
stickiness. Battles started, streamed, followed up and voted through it land
on every node and are forwarded between them; nginx's own per-client limit
answers in Agon's error format. Skipped, saying why, where nginx is not
installed (apt-get install nginx)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import REPO, Client, wait_for
from test_nodes import Cluster, echo_models, slow_models

MARKER = "test_deploy.py reads the nginx block below"


def nginx_binary():
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)),
        None)


def deploy_snippet():
    """The nginx block of docs/deploy.md that follows MARKER."""
    text = (REPO / "docs" / "deploy.md").read_text()
    at = text.index(MARKER)
    m = re.compile(r"^```nginx\n(.*?)^```$", re.S | re.M).search(text, at)
    assert m, "no ```nginx block after the marker in docs/deploy.md"
    return m.group(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    def __init__(self, workdir, snippet, upstreams):
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        conf, n = re.subn(r"server 10\.0\.0\.1[123]:8080", lambda m: "server %s" % upstreams.pop(0),
                          snippet)
        assert n == 3, "the snippet's upstream names three nodes (10.0.0.11-13:8080)"
        conf, n = re.subn(r"^(\s*)listen 80;$", r"\1listen 127.0.0.1:%d;" % self.port, conf,
                          flags=re.M)
        assert n == 1, "the snippet listens on port 80 once"
        (self.dir / "agon.conf").write_text(conf)
        d = str(self.dir)
        main = ["worker_processes 1;", "pid %s/nginx.pid;" % d,
                "error_log %s/error.log warn;" % d]
        if os.geteuid() == 0:
            main.append("user root root;")  # its temp files under the test's directory
        main += ["events { worker_connections 512; }", "http {",
                 "  access_log %s/access.log;" % d]
        for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            main.append("  %s_temp_path %s/%s_temp;" % (t, d, t))
        main += ["  include %s/agon.conf;" % d, "}"]
        (self.dir / "nginx.conf").write_text("\n".join(main) + "\n")
        self.proc = None

    def start(self, binary):
        d = str(self.dir)
        argv = [binary, "-e", d + "/error.log", "-p", d + "/", "-c", d + "/nginx.conf",
                "-g", "daemon off;"]
        t = subprocess.run(argv[:-2] + ["-t"], capture_output=True, text=True, timeout=30)
        assert t.returncode == 0, "nginx -t refuses the configuration: " + t.stderr
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited: %s" % self.proc.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not listen on %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@pytest.fixture
def behind_nginx(agon_bin, fake, tmp_path, engine_db):
    binary = nginx_binary()
    if not binary:
        pytest.skip("nginx is not installed (apt-get install nginx): docs/deploy.md's "
                    "configuration cannot be run")
    made = []

    def make(models):
        c = Cluster(agon_bin, tmp_path / "nodes", fake, models, 3,
                    extra={i: "trusted_proxies = 127.0.0.1" for i in (1, 2, 3)},
                    engine_db=engine_db)
        made.append(c)
        c.start()
        ng = Nginx(tmp_path / "nginx", deploy_snippet(),
                   ["127.0.0.1:%d" % a.port for a in c.nodes])
        made.append(ng)
        ng.start(binary)
        return c, ng

    yield make
    for m in reversed(made):
        m.stop()
    reports = [r for m in made if isinstance(m, Cluster) for r in m.sanitizer_reports()]
    if reports:
        pytest.fail("sanitizer reports in agon's stderr:\n%s" % reports)


def test_three_nodes_behind_nginx(behind_nginx):
    c, ng = behind_nginx(slow_models())
    web = Client("http://127.0.0.1:%d" % ng.port)
    owners, voted = set(), []
    for i in range(6):
        r = web.new_battle("Through nginx, round %d" % i)
        bid = r.json()["id"]
        owners.add(bid.split("-")[0])
        assert web.get("/api/battles/" + bid).status == 200
        es = web.events(r.json()["events"], timeout=30)
        assert es.status == 200 and es.closed, es.raw[-300:]
        assert es.end == {"turn": 1, "status": "ready"}, es.raw[-300:]
        assert "you said: Through nginx, round %d" % i in es.text("a", 1)
        if i == 0:
            f = web.post("/api/battles/%s/turns" % bid, {"prompt": "and a follow-up"})
            assert f.status == 202, f
            es = web.events(r.json()["events"], timeout=30)
            assert es.end == {"turn": 2, "status": "ready"}, es.raw[-300:]
        v = web.post("/api/battles/%s/vote" % bid, {"winner": "ab"[i % 2]})
        assert v.status == 200, v
        voted.append(bid)
    # round robin put battles on every node, and their streams went through
    # the others (forwarded: no stickiness needed)
    assert owners == {"n1", "n2", "n3"}, owners
    forwarded = 0
    for bid in voted:
        owner = bid.split("-")[0]
        for a in c.nodes:
            if a is not c[int(owner[1:])] and ("/api/battles/%s/events" % bid) in a.stderr():
                forwarded += 1
    assert forwarded >= 1, "no event stream was answered through another node"
    wait_for(lambda: web.get("/api/leaderboard").json()["votes"] == 6, 10,
             "the leaderboard through nginx to count every vote")
    # a client's own X-Agon-Forwarded never reaches a node
    assert web.get("/api/models", headers={"X-Agon-Forwarded": "v1 n1 1.2.3.4 0 " + "0" * 64}
                   ).status == 200


def test_nginx_limits_prompts_across_nodes(behind_nginx):
    c, ng = behind_nginx(echo_models())
    web = Client("http://127.0.0.1:%d" % ng.port)
    replies = [web.post("/api/battles", {"prompt": "flood %d" % i}) for i in range(16)]
    ok = [r for r in replies if r.status == 201]
    limited = [r for r in replies if r.status == 429]
    # the burst (10) and about one more: the rest are refused by nginx, in
    # Agon's error format, whichever node would have answered
    assert 10 <= len(ok) <= 12 and len(ok) + len(limited) == 16, [r.status for r in replies]
    r = limited[0]
    assert r.header("Content-Type") == "application/json"
    assert r.header("Retry-After") == "3"
    assert r.json() == {"error": {"code": "rate_limited",
                                  "message": "too many requests from this client; try "
                                             "again later"}}
    assert len({r.json()["id"].split("-")[0] for r in ok}) == 3
