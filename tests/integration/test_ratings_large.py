"""A large log is read by two threads (split at a line after the middle):
the result must be exactly the one-thread result, malformed records
reported with their true indices, whether or not the split point is a
record boundary."""
import json
import random
import subprocess


def make_log(path, n, bad, array, pretty=False):
    rnd = random.Random(7)
    recs = []
    for i in range(n):
        if i in bad:
            recs.append('{"model_a": "m1", "winner": "model_a", "tstamp": %d}' % i)
            continue
        a, b = rnd.sample(["m%d" % k for k in range(12)], 2)
        rec = {"model_a": a, "model_b": b, "anony": True, "tstamp": i,
               "winner": rnd.choice(["model_a", "model_b", "tie", "tie (bothbad)"]),
               "conversation_a": [{"role": "user", "content": "q%d" % i}]}
        recs.append(json.dumps(rec, indent=2 if pretty else None))
    text = ("[\n" + ",\n".join(recs) + "\n]\n") if array else "\n".join(recs) + "\n"
    path.write_text(text)
    return path


def run(agon_bin, *args):
    r = subprocess.run([agon_bin, *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def test_two_readers_give_the_one_reader_result(agon_bin, tmp_path):
    bad = {10, 45000, 61000, 89999}
    for array, pretty in ((False, False), (True, False), (True, True)):
        log = make_log(tmp_path / "big.json", 90000, bad, array, pretty)
        assert log.stat().st_size > 9 << 20
        r = run(agon_bin, "ratings", "--json", "--anony-only", "--bootstrap", "0", str(log))
        out = json.loads(r.stdout)
        reported = sorted(int(l.split("record ")[1].split(":")[0])
                          for l in r.stderr.splitlines() if "record " in l)
        assert reported == sorted(bad), (array, pretty, r.stderr[:500])
        assert out["malformed"] == len(bad) and out["battles"] == 90000 - len(bad)
        # the import path reads with one thread: same Elo through a replay
        db = tmp_path / ("x%d%d.db" % (array, pretty))
        run(agon_bin, "import", "--db", str(db), str(log))
        rec = json.loads(run(agon_bin, "recompute", "--db", str(db)).stdout)
        live = {m["model"]: m["elo"] for m in rec["models"]}
        for m in out["models"]:
            assert abs(m["elo"] - live[m["model"]]) < 1e-5, (m, live[m["model"]])
