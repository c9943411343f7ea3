"""A throwaway PostgreSQL cluster for the tests of the PostgreSQL engine's
import and export, until the shared helper (pg_cluster.py) is there.

initdb and pg_ctl from Debian's postgresql-15 in a temporary directory,
Unix socket only (listen_addresses = ''), trust authentication for the
cluster's own user; run as the `postgres` user when the tests run as
root. Stopped and removed by stop(). Tests skip with a clear message when
the binaries are missing.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("AGON_PG_BIN", "/usr/lib/postgresql/15/bin"))


def missing():
    """Why no cluster can be started here, or None."""
    for tool in ("initdb", "pg_ctl", "postgres", "psql"):
        if not (PG_BIN / tool).exists() and not shutil.which(tool):
            return "PostgreSQL 15 binaries not found in %s (apt-get install " \
                   "postgresql-15)" % PG_BIN
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the cluster"
    return None


def _tool(name):
    p = PG_BIN / name
    return str(p) if p.exists() else shutil.which(name)


class Cluster:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="agon-pg-"))
        self.data = self.dir / "data"
        self.root = os.geteuid() == 0
        self.user = "postgres" if self.root else pwd.getpwuid(os.geteuid()).pw_name
        self.n = 0
        if self.root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)

    def _run(self, *cmd, timeout=60):
        cmd = [str(c) for c in cmd]
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout, cwd=str(self.dir))

    def start(self):
        r = self._run(_tool("initdb"), "-D", self.data, "-E", "UTF8",
                      "--locale=C.UTF-8", "-A", "trust", "-U", self.user)
        if r.returncode:
            raise RuntimeError("initdb failed: " + r.stderr[-2000:])
        opts = "-c listen_addresses='' -k %s -c fsync=off" % self.dir
        r = self._run(_tool("pg_ctl"), "-D", self.data, "-o", opts, "-l",
                      self.dir / "log", "-w", "start")
        if r.returncode:
            raise RuntimeError("pg_ctl start failed: " + r.stderr[-2000:]
                               + self.log())
        return self

    def log(self):
        try:
            return (self.dir / "log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def psql(self, sql, db="postgres"):
        r = self._run(_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                      "-h", self.dir, "-U", self.user, "-d", db, "-At",
                      "-c", sql)
        if r.returncode:
            raise RuntimeError("psql failed: " + r.stderr[-2000:])
        return r.stdout

    def url(self, db):
        return "postgresql:///%s?host=%s&user=%s" % (db, self.dir, self.user)

    def new_database(self, prefix="agon"):
        """A new empty database: its libpq URL."""
        self.n += 1
        name = "%s_%d" % (prefix, self.n)
        self.psql("CREATE DATABASE %s" % name)
        return self.url(name)

    def stop(self):
        if self.data.exists():
            self._run(_tool("pg_ctl"), "-D", self.data, "-m", "immediate",
                      "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
