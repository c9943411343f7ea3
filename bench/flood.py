#!/usr/bin/env python3
"""Figures for floods, shutdown under load and slow readers (issue "Trust").

Python 3 standard library only. Starts agon with a config that has only
[server] and two models (the defaults a new admin gets) on
tests/fake_backend.py, under `prlimit --nofile=N:N` (default 1024), and
measures, in three phases, each with a fresh agon and database:

  flood   POST /api/battles from many connections (--connections, default
          220: 100 from 127.0.0.1, past its 64, and 2 each from 60 other
          addresses 127.0.1.x, as tests/integration/test_flood.py; 600 go
          past the 480 connections 1024 descriptors allow) for
          --duration seconds, the flooders in their own processes. Meanwhile,
          from 127.0.0.2, a new connection every 50 ms for GET /healthz:
          its latency (connect to the end of the response) p50 / p99 / max
          and its failures, beside 2 s of the same before the flood. Responses by status and error code; agon's peak
          RSS (VmHWM, reset before the flood when the kernel allows it);
          then the time from the end of the flood until a whole battle
          (create, then its events read to `end` with status ready) works
          again, beside the time the same whole battle takes before the flood.
  term    50 battles with long answers, their 50 event streams open (from 10
          addresses), the same flood; SIGTERM after --term-after seconds of
          it: the time until the process exits, its exit code, and whether
          every stream got its `end` event (and which status).
  memory  100 battles with answers of --big-bytes per side (default
          1,000,000, under the default max_answer_bytes of 1 MiB), finished;
          then 400 event streams on them (4 per battle, from 25 addresses,
          16 each: the default caps), with a 4 KiB receive buffer, never
          read: agon's RSS once the answers are done (before any stream) and
          its peak until then, agon_battles_cached_bytes and
          agon_battles_evicted_total then, the peak while the streams are
          open (and the evictions by then), and how many were answered 200. At the end one of them is
          read to `end`.

  python3 bench/flood.py [--agon build-bench/agon] [--runs 3]
                         [--phases flood,term,memory] [--duration 10]
                         [--connections 220]
                         [--nofile 1024] [--work /tmp/agon-flood] [--json FILE]

Prints one key=value line per phase and run, and a summary (median, min,
max over the runs). The load average is printed before and after.
"""

import argparse
import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


# ------------------------------------------------------------ processes

class Backend:
    def __init__(self, work):
        self.log = open(work / "backend.err", "ab")
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fake_backend.py"),
                                      "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            raise SystemExit("flood.py: the fake backend did not start: %r" % line)
        self.api = "http://127.0.0.1:%s/v1" % m.group(1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class Agon:
    def __init__(self, args, work, name, upstream_a, upstream_b, api):
        self.dir = work / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        cfg = self.dir / "agon.ini"
        # only [server] and two models: the defaults a new admin gets
        cfg.write_text("[server]\nlisten = 127.0.0.1:0\ndatabase = %s\n\n"
                       "[model Flood-A]\nbase_url = %s\nmodel = %s\ntimeout = 120\n\n"
                       "[model Flood-B]\nbase_url = %s\nmodel = %s\ntimeout = 120\n"
                       % (self.dir / "agon.db", api, upstream_a, api, upstream_b))
        self.err = open(self.dir / "agon.err", "wb")
        cmd = [shutil.which("prlimit"), "--nofile=%d:%d" % (args.nofile, args.nofile),
               str(args.agon), "serve", "--config", str(cfg)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise SystemExit("flood.py: agon did not start: %r, see %s" % (line, self.dir))
        self.port = int(m.group(1))
        self.pid = self.proc.pid   # prlimit execs agon: the same process
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def status(self, key):
        for line in open("/proc/%d/status" % self.pid):
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def reset_hwm(self):
        """Reset VmHWM to the current RSS (Linux clear_refs 5); False if not."""
        try:
            with open("/proc/%d/clear_refs" % self.pid, "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


# ------------------------------------------------------------ HTTP

def connect(port, src, timeout=10.0):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                    source_address=(src, 0))


def read_response(s):
    """One response with a Content-Length body from a keep-alive socket:
    (status, headers, body), or None when the server closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n]


def post_battle_bytes(prompt):
    body = json.dumps({"prompt": prompt}).encode()
    return (b"POST /api/battles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def dechunk(body):
    out, pos = bytearray(), 0
    while True:
        nl = body.find(b"\r\n", pos)
        if nl < 0:
            break
        size = int(body[pos:nl].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += body[nl + 2:nl + 2 + size]
        pos = nl + 2 + size + 2
    return bytes(out)


def sse_events(raw):
    """[(name, data)] of a raw HTTP response carrying an event stream."""
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    events = []
    for block in re.split(rb"\r?\n\r?\n", body):
        name, data = b"message", []
        for line in block.splitlines():
            if line.startswith(b"event:"):
                name = line[6:].strip()
            elif line.startswith(b"data:"):
                data.append(line[5:].lstrip(b" "))
        if data:
            events.append((name.decode(), b"\n".join(data)))
    return events


def end_status(raw):
    ends = [d for n, d in sse_events(raw) if n == "end"]
    if not ends:
        return None
    try:
        return json.loads(ends[-1]).get("status")
    except ValueError:
        return "unparsable"


def create_battle(port, src, prompt, timeout=15):
    """POST /api/battles from src: (status, id, cookie, events path)."""
    s = connect(port, src, timeout)
    try:
        s.sendall(post_battle_bytes(prompt))
        r = read_response(s)
    finally:
        s.close()
    if r is None:
        return None, None, None, None
    if r[0] != 201:
        return r[0], None, None, None
    body = json.loads(r[2])
    return 201, body["id"], r[1].get("set-cookie", "").split(";")[0], body["events"]


def open_stream(port, src, path, cookie="", rcvbuf=None, timeout=30):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
               % (path, "Cookie: %s\r\n" % cookie if cookie else "")).encode())
    return s


def read_all(s):
    raw = b""
    while True:
        try:
            chunk = s.recv(1 << 20)
        except OSError:
            break
        if not chunk:
            break
        raw += chunk
    s.close()
    return raw


def whole_battle(port, src, prompt):
    """Create a battle and read its events to the end: the end's status, or
    the create's HTTP status when it was refused."""
    st, _, cookie, events = create_battle(port, src, prompt)
    if st != 201:
        return st
    return end_status(read_all(open_stream(port, src, events, cookie)))


def metric(port, name):
    """One unlabelled value from /metrics (from 127.0.0.2), or None."""
    s = connect(port, "127.0.0.2")
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = read_response(s)
    finally:
        s.close()
    for line in (r[2].decode() if r else "").splitlines():
        k, _, v = line.partition(" ")
        if k == name:
            return float(v)
    return None


def healthz_once(port, src="127.0.0.2", timeout=5.0):
    t0 = time.perf_counter()
    s = connect(port, src, timeout)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = read_response(s)
    finally:
        s.close()
    return (time.perf_counter() - t0) * 1e3, (r[0] if r else None)


def probe_healthz(port, seconds):
    """GET /healthz on a new connection from 127.0.0.2 every 50 ms for
    seconds: ([latency ms of each 200], {failure: count})."""
    lat, fails = [], {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            ms, st = healthz_once(port)
            if st == 200:
                lat.append(ms)
            else:
                fails[str(st)] = fails.get(str(st), 0) + 1
        except OSError as e:
            fails[type(e).__name__] = fails.get(type(e).__name__, 0) + 1
        time.sleep(max(0.0, 0.05 - (time.monotonic() - t)))
    return lat, fails


# ------------------------------------------------------------ the flood

def flood_conn(port, src, stop, counts, lock):
    """One connection posting battles until stop is set (reconnecting when
    the server closes it)."""
    s = None
    req = post_battle_bytes("flood")
    while not stop.is_set():
        try:
            if s is None:
                s = connect(port, src, 10)
            s.sendall(req)
            r = read_response(s)
            if r is None:
                raise ConnectionError("closed")
            key = str(r[0])
            if r[0] != 201:
                try:
                    key += " " + json.loads(r[2])["error"]["code"]
                except (ValueError, KeyError, TypeError):
                    key += " (not JSON)"
            with lock:
                counts[key] = counts.get(key, 0) + 1
            if r[1].get("connection", "").lower() == "close":
                s.close()
                s = None
        except (OSError, ConnectionError) as e:
            key = "connection " + (type(e).__name__)
            with lock:
                counts[key] = counts.get(key, 0) + 1
            if s is not None:
                s.close()
            s = None
            time.sleep(0.01)
    if s is not None:
        s.close()


def flood_process(port, sources, stop, out):
    counts, lock = {}, threading.Lock()
    ts = [threading.Thread(target=flood_conn, args=(port, src, stop, counts, lock))
          for src in sources]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(counts)


class Flood:
    """n connections: 100 from 127.0.0.1 (past its 64) and the others 2 from
    each of the addresses 127.0.1.1, 127.0.1.2, ... (127.0.1.60 for the
    default 220; on into 127.0.6.x, 127.0.7.x... for more), over PROCS
    processes (so that the GIL of the flooders does not slow the prober in
    this one)."""
    PROCS = 2

    def __init__(self, port, n=220):
        def addr(k):   # the k-th other address, k from 0
            net = (1, 6, 7, 8)[k // 250]
            return "127.0.%d.%d" % (net, k % 250 + 1)
        sources = ["127.0.0.1"] * 100 + [addr(i // 2) for i in range(max(0, n - 100))]
        self.n = len(sources)
        self.stop_ev = mp.Event()
        self.q = mp.Queue()
        self.procs = [mp.Process(target=flood_process,
                                 args=(port, sources[i::self.PROCS], self.stop_ev, self.q))
                      for i in range(self.PROCS)]
        for p in self.procs:
            p.start()
        self.t_start = time.monotonic()

    def stop(self):
        self.stop_ev.set()
        self.t_stop = time.monotonic()

    def counts(self):
        total = {}
        for _ in self.procs:
            for k, v in self.q.get(timeout=60).items():
                total[k] = total.get(k, 0) + v
        for p in self.procs:
            p.join(30)
        return total


def counts_str(c):
    return ",".join("%s:%d" % (k.replace(" ", "_"), v) for k, v in sorted(c.items()))


# ------------------------------------------------------------ phases

def phase_flood(args, work, backend, run):
    agon = Agon(args, work, "flood-%d" % run, "slow100-flood-a", "slow100-flood-b", backend.api)
    try:
        t0 = time.monotonic()
        base = whole_battle(agon.port, "127.0.0.3", "before the flood")
        base_s = time.monotonic() - t0
        rss0 = agon.status("VmRSS")
        # /healthz without the flood first, 2 s, for a baseline at this load
        quiet, _ = probe_healthz(agon.port, 2.0)
        hwm_reset = agon.reset_hwm()
        fl = Flood(agon.port, args.connections)
        lat, fails = probe_healthz(agon.port, args.duration)
        hwm = agon.status("VmHWM")
        fl.stop()
        # the time until a whole battle works again, from a fresh address
        # each attempt (the per-client limits of one do not decide it)
        attempts, got = 0, None
        while True:
            attempts += 1
            try:
                got = whole_battle(agon.port, "127.0.9.%d" % (attempts % 250 + 1),
                                   "after the flood")
            except OSError as e:
                got = type(e).__name__
            if got == "ready":
                break
            if time.monotonic() - fl.t_stop > 120:
                break
            time.sleep(0.05)
        recovery = time.monotonic() - fl.t_stop
        counts = fl.counts()
        alive = agon.proc.poll() is None
        errlog = (agon.dir / "agon.err").stat().st_size
        return {
            "phase": "flood", "run": run, "seconds": args.duration, "connections": fl.n,
            "quiet_healthz_p50_ms": pct(quiet, 0.5), "quiet_healthz_p99_ms": pct(quiet, 0.99),
            "healthz_n": len(lat), "healthz_p50_ms": pct(lat, 0.5),
            "healthz_p99_ms": pct(lat, 0.99), "healthz_max_ms": max(lat) if lat else None,
            "healthz_failures": counts_str(fails) or "0",
            "responses": sum(counts.values()), "by_status": counts_str(counts),
            "rss_before_kib": rss0, "peak_rss_kib": hwm, "hwm_reset": int(hwm_reset),
            "whole_battle_before_s": round(base_s, 3), "whole_battle_before": base,
            "recovery_s": round(recovery, 3), "recovery_attempts": attempts,
            "recovered": got, "alive": int(alive), "stderr_bytes": errlog,
        }
    finally:
        agon.stop()


def phase_term(args, work, backend, run):
    agon = Agon(args, work, "term-%d" % run, "slow1000-term-a", "slow1000-term-b", backend.api)
    try:
        streams = []
        for i in range(50):
            src = "127.0.2.%d" % (i // 5 + 1)
            st, _, cookie, events = create_battle(agon.port, src, "term %d" % i)
            if st != 201:
                raise SystemExit("flood.py: term: battle %d got %s" % (i, st))
            streams.append(open_stream(agon.port, src, events, cookie))
        fl = Flood(agon.port, args.connections)
        time.sleep(args.term_after)
        hwm = agon.status("VmHWM")
        t0 = time.monotonic()
        agon.proc.send_signal(signal.SIGTERM)
        try:
            rc = agon.proc.wait(60)
        except subprocess.TimeoutExpired:
            rc = "timeout"
        exit_s = time.monotonic() - t0
        fl.stop()
        counts = fl.counts()
        ends = {}
        for s in streams:
            e = end_status(read_all(s))
            ends[str(e)] = ends.get(str(e), 0) + 1
        return {
            "phase": "term", "run": run, "connections": fl.n, "streams": len(streams),
            "flood_before_sigterm_s": args.term_after, "exit_s": round(exit_s, 3),
            "exit_code": rc, "streams_with_end": sum(v for k, v in ends.items() if k != "None"),
            "end_status": counts_str(ends), "peak_rss_kib": hwm,
            "flood_responses": sum(counts.values()), "by_status": counts_str(counts),
        }
    finally:
        agon.stop()


def phase_memory(args, work, backend, run):
    up = "big-%d" % args.big_bytes
    agon = Agon(args, work, "memory-%d" % run, up + "-a", up + "-b", backend.api)
    try:
        bids = []
        for i in range(100):
            src = "127.0.4.%d" % (i // 10 + 1)   # 10 each: under 20 a minute
            st, bid, cookie, events = create_battle(agon.port, src, "big %d" % i)
            if st != 201:
                raise SystemExit("flood.py: memory: battle %d got %s" % (i, st))
            bids.append((bid, cookie, src, events))
        # wait for the answers (without reading them)
        deadline = time.monotonic() + 300
        while metric(agon.port, "agon_battles_streaming") != 0:
            if time.monotonic() > deadline:
                raise SystemExit("flood.py: memory: the answers did not finish")
            time.sleep(0.2)
        time.sleep(1.0)
        rss0 = agon.status("VmRSS")
        hwm_all = agon.status("VmHWM")
        # what the registry holds for them (max_cached_battle_bytes), and
        # how many it evicted; None from an agon before these metrics
        cached0 = metric(agon.port, "agon_battles_cached_bytes")
        evicted0 = metric(agon.port, "agon_battles_evicted_total")
        hwm_reset = agon.reset_hwm()
        socks, answered = [], {}
        for i, (bid, _, _, events) in enumerate(bids):
            for j in range(4):
                n = 4 * i + j
                src = "127.0.5.%d" % (n // 16 + 1)
                socks.append(open_stream(agon.port, src, events, rcvbuf=4096))
        # what each got first (without reading the body: the head only)
        time.sleep(1.0)
        peak = 0
        for _ in range(int(args.hold / 0.2)):
            peak = max(peak, agon.status("VmRSS"))
            time.sleep(0.2)
        for s in socks:
            try:
                s.settimeout(5)
                head = s.recv(16)
                key = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "none"
            except (OSError, IndexError):
                key = "none"
            answered[key] = answered.get(key, 0) + 1
        rss1 = agon.status("VmRSS")
        hwm = agon.status("VmHWM")
        evicted1 = metric(agon.port, "agon_battles_evicted_total")
        # one reader reads at last: it gets the whole stream and its end
        socks[0].settimeout(60)
        raw = read_all(socks[0])
        last = end_status(raw)
        for s in socks[1:]:
            s.close()
        # how the battles ended (from their state, one GET each)
        statuses = {}
        for bid, cookie, src, _ in bids[:10]:
            s = connect(agon.port, src)
            s.sendall(("GET /api/battles/%s HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
                       "Connection: close\r\n\r\n" % (bid, cookie)).encode())
            r = read_response(s)
            s.close()
            st = json.loads(r[2])["status"] if r and r[0] == 200 else "HTTP %s" % (r and r[0])
            statuses[st] = statuses.get(st, 0) + 1
        return {
            "phase": "memory", "run": run, "battles": len(bids),
            "answer_bytes_per_side": args.big_bytes, "first_10_battles": counts_str(statuses),
            "streams": len(socks), "stream_status": counts_str(answered),
            "rss_before_kib": rss0, "peak_rss_before_kib": hwm_all,
            "cached_bytes_before": cached0, "evicted_before": evicted0,
            "rss_sampled_max_kib": peak, "rss_after_kib": rss1, "evicted_after": evicted1,
            "peak_rss_kib": hwm, "hwm_reset": int(hwm_reset),
            "peak_rss_since_start_kib": max(hwm, hwm_all),
            "late_reader_bytes": len(raw), "late_reader_end": last,
            "alive": int(agon.proc.poll() is None),
        }
    finally:
        agon.stop()


PHASES = {"flood": phase_flood, "term": phase_term, "memory": phase_memory}

SUMMARY = {
    "flood": ["quiet_healthz_p50_ms", "quiet_healthz_p99_ms",
              "healthz_p50_ms", "healthz_p99_ms", "healthz_max_ms", "responses",
              "peak_rss_kib", "recovery_s", "whole_battle_before_s"],
    "term": ["exit_s", "streams_with_end", "peak_rss_kib"],
    "memory": ["rss_before_kib", "peak_rss_before_kib", "cached_bytes_before", "peak_rss_kib",
               "rss_after_kib"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agon", default=str(ROOT / "build-bench" / "agon"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--phases", default="flood,term,memory")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of flood")
    ap.add_argument("--connections", type=int, default=220,
                    help="flooding connections (100 of them from 127.0.0.1); at most 2100")
    ap.add_argument("--term-after", type=float, default=2.0,
                    help="seconds of flood before the SIGTERM")
    ap.add_argument("--nofile", type=int, default=1024)
    ap.add_argument("--big-bytes", type=int, default=1000000)
    ap.add_argument("--hold", type=float, default=3.0,
                    help="seconds the 400 unread streams stay open")
    ap.add_argument("--work", default="/tmp/agon-flood")
    ap.add_argument("--json", help="write every result here")
    args = ap.parse_args()
    if not shutil.which("prlimit"):
        raise SystemExit("flood.py: needs prlimit (util-linux)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rev = subprocess.run(["git", "-C", str(Path(args.agon).resolve().parent), "rev-parse",
                          "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print("flood.py: agon %s (%s), nofile %d, load average %s"
          % (args.agon, rev or "?", args.nofile, loadavg()), flush=True)
    backend = Backend(work)
    results = []
    try:
        for run in range(1, args.runs + 1):
            for ph in args.phases.split(","):
                r = PHASES[ph](args, work, backend, run)
                r["load"] = loadavg()
                results.append(r)
                print(" ".join("%s=%s" % (k, ("%.2f" % v) if isinstance(v, float) else v)
                               for k, v in r.items()), flush=True)
    finally:
        backend.stop()
    print("summary (median [min-max] over %d runs), load average %s" % (args.runs, loadavg()))
    for ph in args.phases.split(","):
        rs = [r for r in results if r["phase"] == ph]
        for k in SUMMARY[ph]:
            vs = [r[k] for r in rs if isinstance(r.get(k), (int, float))]
            if vs:
                print("  %s %s: %.2f [%.2f-%.2f]" % (ph, k, statistics.median(vs), min(vs), max(vs)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
