#!/usr/bin/env python3
"""The CPU cost of tagging a battle (docs/performance.md, "Tagging cost").

Imports BATTLES FastChat battles (prompts from bench/langid/prompts.tsv, in
12 languages; Markdown answers) into a fresh database, then runs `agon tag`
on it twice, against bench/fake_upstream as the tagger (a C server that
streams one verdict every category reads as "in it" at once, so what is
measured is Agon's own work):

  1. without a [tagger]: the heuristic tags only (language by CLD2,
     categories, style counts), computed on agon tag's main thread and
     stored by the writer;
  2. with one [tagger] over the 4 built-in categories and one [category]:
     5 requests per battle, through the runner, an upstream loop and the
     writer.

For each run: the whole process's CPU time (user + system, from wait4), and
the runner thread's alone (the thread named agon-tagger: its time on a CPU
from /proc/PID/task/*/schedstat, sampled every 10 ms, the last sample before
it ends), each per battle. Everything runs on the same machine; the fake's own CPU is not
counted.

  meson setup build-bench -Dbench=true && ninja -C build-bench
  python3 bench/tag_cost.py [--build build-bench] [--battles 3000] [--runs 3]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the tagger's reply: a yes/no, a criteria list and a score, all "in it"
VERDICT = "<decision>yes</decision> [1, 2, 3, 4, 5, 6, 7] <score>5</score>"

ANSWER = ("## A short answer\n\nHere are the points, in order:\n\n1. **First**, the main idea.\n"
          "2. Then a detail that matters.\n3. And a last remark.\n\n- one more list item\n"
          "- and another one, to be complete.\n\nThat is all; ask again for more. ")


def prompts():
    out = []
    for line in (REPO / "bench/langid/prompts.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            out.append(line.split("\t", 1)[1])
    return out


def write_log(path, n):
    rnd = random.Random(1)
    ps = prompts()
    models = ["Model-%02d" % i for i in range(10)]
    recs = []
    for i in range(n):
        a, b = rnd.sample(models, 2)
        p = ps[i % len(ps)] + ("" if i < len(ps) else " (%d)" % i)
        recs.append({
            "question_id": "q%06d" % i, "model_a": a, "model_b": b,
            "winner": rnd.choice(["model_a", "model_b", "tie"]), "judge": "bench",
            "turn": 1, "anony": True, "tstamp": 1700000000 + i,
            "conversation_a": [{"role": "user", "content": p},
                               {"role": "assistant", "content": ANSWER * 2}],
            "conversation_b": [{"role": "user", "content": p},
                               {"role": "assistant", "content": ANSWER}]})
    path.write_text(json.dumps(recs))


def thread_cpu(pid, name):
    """CPU seconds of the thread of pid named name (schedstat: its time on
    a CPU, in ns), or None."""
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            base = "/proc/%d/task/%s/" % (pid, tid)
            with open(base + "comm") as f:
                if f.read().strip() != name:
                    continue
            with open(base + "schedstat") as f:
                return int(f.read().split()[0]) / 1e9
    except OSError:
        pass
    return None


def run_tag(agon, db, config):
    """Run agon tag; (process CPU s, runner thread CPU s or None, wall s, stdout)."""
    t0 = time.monotonic()
    p = subprocess.Popen([agon, "tag", "--db", db, "--config", config],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    last = [None]
    done = threading.Event()

    def sample():
        while not done.is_set():
            v = thread_cpu(p.pid, "agon-tagger")
            if v is not None:
                last[0] = v
            done.wait(0.01)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    done.set()
    th.join()
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("agon tag failed: %s" % out)
    return ru.ru_utime + ru.ru_stime, last[0], wall, out


def start_fake(build):
    p = subprocess.Popen([str(Path(build) / "bench" / "fake_upstream"), "--chunks", "1",
                          "--text", VERDICT], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("fake_upstream: listening on "), line
    return p, "http://127.0.0.1:%d/v1" % int(line.split()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(REPO / "build-bench"))
    ap.add_argument("--battles", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    args.agon = str(Path(args.build) / "agon")
    fake, api_base = start_fake(args.build)
    rows = []
    try:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory() as d:
                d = Path(d)
                db = str(d / "agon.db")
                write_log(d / "log.json", args.battles)
                r = subprocess.run([args.agon, "import", "--db", db, str(d / "log.json")],
                                   capture_output=True, text=True)
                assert r.returncode == 0, r.stderr
                base = "[server]\ndatabase = %s\n" % db
                (d / "none.ini").write_text(base)
                (d / "one.ini").write_text(
                    base + "\n[category cooking]\nquestion = Is it about cooking?\n\n"
                    "[tagger bench]\nbase_url = %s\nmodel = bench\n"
                    "concurrency = 8\n" % api_base)
                cpu1, _, wall1, out1 = run_tag(args.agon, db, str(d / "none.ini"))
                cpu2, thr2, wall2, out2 = run_tag(args.agon, db, str(d / "one.ini"))
                n = args.battles
                rows.append((cpu1 / n * 1e6, wall1, cpu2 / n * 1e6,
                             (thr2 or 0) / n * 1e6, wall2))
                print("run %d: %s / %s" % (run + 1, out1.strip(), out2.strip().splitlines()[-1]),
                      file=sys.stderr)
    finally:
        fake.terminate()
        fake.wait()
    print("| run | heuristic tags: CPU/battle | wall | LLM tags (5 requests): CPU/battle "
          "| of which the runner thread | wall |")
    print("|---|---|---|---|---|---|")
    for i, (a, w1, b, t, w2) in enumerate(rows):
        print("| %d | %.0f µs | %.2f s | %.0f µs | %.0f µs | %.2f s |" % (i + 1, a, w1, b, t, w2))


if __name__ == "__main__":
    main()
