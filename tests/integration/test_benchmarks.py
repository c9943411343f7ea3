"""Benchmark scores beside the human ratings (issue 7): the columns, and
the Spearman correlation of each benchmark with the human BT ratings."""
import time

from conftest import Model
from fake_backend import answer_tag


def test_benchmark_columns_and_spearman(agon_factory):
    # true strength order: W > X > Y > Z. "agrees" ranks them the same way,
    # "disagrees" the other way, "partial" only exists for three models.
    models = [
        Model("W-model", "echo-w", extra={"benchmarks": "agrees:90 disagrees:10 partial:3"}),
        Model("X-model", "echo-x", extra={"benchmarks": "agrees:80, disagrees:20 partial:2"}),
        Model("Y-model", "echo-y", extra={"benchmarks": "agrees:70 disagrees:30 partial:1"}),
        Model("Z-model", "echo-z", extra={"benchmarks": "agrees:60 disagrees:40"}),
    ]
    agon = agon_factory(models)
    strength = {"W-model": 4, "X-model": 3, "Y-model": 2, "Z-model": 1}
    tag_to_name = {answer_tag(m.upstream): m.name for m in models}
    c = agon.client()
    votes = 0
    deadline = time.monotonic() + 60
    # the stronger model always wins: whatever the random pairings, the
    # ratings come out in the true order (a strict order has no core of
    # two, so every model gets the tiny prior, which keeps the order)
    while votes < 40 and time.monotonic() < deadline:
        bid, es = c.battle("benchmarks %d" % votes)
        a = tag_to_name[es.text("a")[:12]]
        b = tag_to_name[es.text("b")[:12]]
        winner = "a" if strength[a] > strength[b] else "b"
        assert c.post("/api/battles/%s/vote" % bid, {"winner": winner}).status == 200
        votes += 1

    def board():
        return c.get("/api/leaderboard").json()
    deadline = time.monotonic() + 20
    lb = board()
    while lb["votes"] < votes or any(m["bt"] is None for m in lb["models"]):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        lb = board()
    # the fit that follows the last vote is debounced: wait for it
    want = ["W-model", "X-model", "Y-model", "Z-model"]
    while True:
        rows = {m["model"]: m for m in lb["models"]}
        order = sorted(rows, key=lambda m: -rows[m]["bt"])
        if order == want or time.monotonic() > deadline:
            break
        time.sleep(0.1)
        lb = board()
    assert rows["W-model"]["benchmarks"] == {"agrees": 90, "disagrees": 10, "partial": 3}
    assert rows["Z-model"]["benchmarks"] == {"agrees": 60, "disagrees": 40}
    order = sorted(rows, key=lambda m: -rows[m]["bt"])
    assert order == ["W-model", "X-model", "Y-model", "Z-model"], [(m, rows[m]["bt"]) for m in order]
    corr = {(x["signal"], x["name"]): x for x in lb["correlations"]}
    assert corr[("benchmark", "agrees")]["spearman"] == 1.0
    assert corr[("benchmark", "agrees")]["models"] == 4
    assert corr[("benchmark", "disagrees")]["spearman"] == -1.0
    assert corr[("benchmark", "partial")]["models"] == 3
    assert abs(corr[("benchmark", "partial")]["spearman"] - 1.0) < 1e-12


def test_bad_benchmarks_value_names_the_line(agon_factory, tmp_path):
    agon = agon_factory([Model("Only", "echo-only", extra={"benchmarks": "mmlu=66"}),
                         Model("Other", "echo-other")], start=False)
    r = agon.run("check-config", agon.config)
    assert r.returncode == 1
    assert "agon.ini:" in r.stderr and "benchmarks" in r.stderr
