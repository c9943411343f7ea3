"""A throwaway PostgreSQL cluster for the tests: Debian's postgresql-15
binaries (initdb, pg_ctl, postgres, psql in /usr/lib/postgresql/15/bin, or
AGON_PG_BIN), a temporary directory, a Unix socket in it and no TCP
(listen_addresses = ''), run as the `postgres` user when the tests run as
root (PostgreSQL refuses to run as root). A database per test is made by
CREATE DATABASE (cheap: a copy of template1); stop() stops the server and
removes everything.

    cluster = PgCluster.start()       # or pytest.skip when unavailable
    url = cluster.new_database()      # postgresql:///agon_3?host=/tmp/...
    cluster.psql("agon_3", "SELECT count(*) FROM votes")
    cluster.stop()
"""

import contextlib
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile

PG_BIN = os.environ.get("AGON_PG_BIN", "/usr/lib/postgresql/15/bin")
NEEDED = ("initdb", "pg_ctl", "postgres", "psql")


def missing():
    """Why no cluster can be started here (a message), or None."""
    absent = [b for b in NEEDED if not os.access(os.path.join(PG_BIN, b), os.X_OK)]
    if absent:
        return ("PostgreSQL binaries not found in %s (%s): install postgresql-15, "
                "or set AGON_PG_BIN" % (PG_BIN, ", ".join(absent)))
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no 'postgres' user to run PostgreSQL as"
        if not shutil.which("runuser"):
            return "running as root, and runuser is missing to run PostgreSQL as 'postgres'"
    return None


class PgCluster:
    def __init__(self, root):
        self.root = root                        # the temporary directory
        self.data = os.path.join(root, "data")
        self.socket_dir = root                  # where the Unix socket is
        self.log = os.path.join(root, "postgres.log")
        self.user = "postgres"
        self._names = itertools.count(1)
        self.running = False

    # -- running a binary as the cluster's owner
    def _as_owner(self, argv):
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def run(self, name, *args, check=True, timeout=60, input=None):
        argv = self._as_owner([os.path.join(PG_BIN, name), *args])
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           input=input, cwd=self.root)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (name, r.returncode, r.stdout,
                                                         r.stderr))
        return r

    @classmethod
    def start(cls, extra_settings=None):
        """A started cluster, or RuntimeError with the reason."""
        why = missing()
        if why:
            raise RuntimeError(why)
        root = tempfile.mkdtemp(prefix="agon-pg-", dir="/tmp")  # short: a socket path
        c = cls(root)
        try:
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(root, pw.pw_uid, pw.pw_gid)
            os.chmod(root, 0o700)
            c.run("initdb", "-D", c.data, "-A", "trust", "-U", c.user, "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync", timeout=120)
            settings = {
                "listen_addresses": "''",
                "unix_socket_directories": "'%s'" % root,
                "max_connections": "300",
                "fsync": "on",
                "synchronous_commit": "on",
                "shared_buffers": "32MB",
                "log_min_messages": "warning",
            }
            settings.update(extra_settings or {})
            with open(os.path.join(c.data, "postgresql.conf"), "a") as f:
                for k, v in settings.items():
                    f.write("%s = %s\n" % (k, v))
            c.run("pg_ctl", "-D", c.data, "-l", c.log, "-w", "-t", "60", "start",
                  timeout=90)
            c.running = True
        except Exception:
            c.stop()
            raise
        return c

    def stop(self):
        if self.running:
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop",
                     check=False, timeout=60)
            self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases
    def psql(self, dbname, sql, check=True):
        """Run sql on dbname: its rows as lists of strings (psql -At, tabs)."""
        r = self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t",
                     "-h", self.socket_dir, "-U", self.user, "-d", dbname, "-c", sql,
                     check=check)
        if not check and r.returncode != 0:
            raise RuntimeError(r.stderr)
        return [line.split("\t") for line in r.stdout.splitlines() if line != ""]

    def query(self, dbname, sql, params=(), names=False):
        """Run sql with `?` placeholders (filled in as SQL literals) on
        dbname: its rows as tuples of ints, floats, strings and None (as
        dicts by column name with names)."""
        parts = sql.split("?")
        if len(parts) != len(params) + 1:
            raise ValueError("%d placeholders, %d parameters" % (len(parts) - 1, len(params)))
        text = parts[0]
        for p, rest in zip(params, parts[1:]):
            text += literal(p) + rest
        r = self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-F", "\x1f",
                     "-R", "\x1e", "-P", "null=\x01", "-P", "footer=off",
                     *([] if names else ["-t"]), "-h", self.socket_dir, "-U", self.user,
                     "-d", dbname, "-c", text)
        out = r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout
        if out == "":
            return []   # (a single row of one empty text reads as none)
        lines = out.split("\x1e")
        if names:
            head = lines[0].split("\x1f")
            return [dict(zip(head, (value(v) for v in line.split("\x1f"))))
                    for line in lines[1:]]
        return [tuple(value(v) for v in line.split("\x1f")) for line in lines]

    @contextlib.contextmanager
    def holding(self, dbname, lock_sql):
        """A transaction of another process (psql) that ran lock_sql (say,
        LOCK TABLE battles IN EXCLUSIVE MODE) and holds its locks until
        the block ends, then rolls back."""
        argv = self._as_owner([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v",
                               "ON_ERROR_STOP=1", "-h", self.socket_dir, "-U", self.user,
                               "-d", dbname])
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=self.root)
        try:
            p.stdin.write("BEGIN;\n%s;\nSELECT 'held';\n" % lock_sql)
            p.stdin.flush()
            line = p.stdout.readline()
            if line.strip() != "held":
                raise RuntimeError("cannot hold %r: %s %s" % (lock_sql, line, p.stderr.read()))
            yield
        finally:
            try:
                p.stdin.write("ROLLBACK;\n")
                p.stdin.close()
            except OSError:
                pass
            p.wait(30)

    def dump(self, dbname):
        """pg_dump's SQL text of dbname."""
        return self.run("pg_dump", "-h", self.socket_dir, "-U", self.user, dbname).stdout

    def conninfo(self, dbname):
        """The libpq URL agon is given for dbname."""
        return "postgresql:///%s?host=%s&user=%s" % (dbname, self.socket_dir, self.user)

    def new_database(self, prefix="agon"):
        """A new empty database's URL."""
        name = "%s_%d" % (prefix, next(self._names))
        self.psql("postgres", "CREATE DATABASE %s" % name)
        return self.conninfo(name)

    @staticmethod
    def dbname(conninfo):
        return conninfo.split("///", 1)[1].split("?", 1)[0]


def literal(p):
    """p as an SQL literal."""
    if p is None:
        return "NULL"
    if isinstance(p, bool):
        return "1" if p else "0"
    if isinstance(p, (int, float)):
        return repr(p)
    return "'" + str(p).replace("'", "''") + "'"


def value(v):
    """A psql -A field back as a Python value: NULL, a whole number, a
    number with a point, else the text."""
    if v == "\x01":
        return None
    if re.fullmatch(r"-?\d{1,18}", v):
        return int(v)
    if re.fullmatch(r"-?\d+\.\d*(e[-+]?\d+)?", v):
        return float(v)
    return v
