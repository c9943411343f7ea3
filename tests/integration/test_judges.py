"""LLM judges (issue 7): the real agon binary with [judge NAME] sections pointing
at the fake backend's scripted judges (tests/fake_backend.py, judge-* model ids).

- swap logic and position-bias inconsistency (judge-first with swap: every
  verdict is a tie and inconsistent; judge-longer: consistent);
- agreement with the humans on hand-made cases (GET /api/judges);
- single mode: score parsing and per-model averages;
- few-shot prompt assembly from human votes;
- garbage replies and failed requests stored as errors, not counted;
- judge verdicts never touch human ratings (leaderboard, agon recompute);
- auto judging never delays battles or votes (a slow judge);
- agon judge over live and imported battles, with a progress line on a tty;
- GET /api/leaderboard?source=judge&judge=NAME;
- agon export carries judge verdicts, agon import skips them;
- prompt_file, temperature/max_tokens in the request, concurrency, SIGHUP
  adding a judge, config errors.

Verdicts and prompts are read back from the judgments table (Agon.sql) and from
the requests the fake recorded.
"""

import csv
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import fake_backend
from conftest import Model, check_sanitizers, expected_ratings, run_agon, wait_for

LONG = Model("Long-Lynx-70B", "pad120-lynx")      # always the longer answer
SHORT = Model("Short-Shrew-7B", "echo-shrew")

ROW_KEYS = ("model", "elo", "bt", "ci_low", "ci_high", "rank_ub", "battles", "wins",
            "losses", "ties")


# ---------------------------------------------------------------------------
# Config with judges.

def judge_lines(name, upstream, base_url, **keys):
    lines = ["[judge %s]" % name, "base_url = %s" % base_url, "model = %s" % upstream]
    keys.setdefault("timeout", 20)
    for k, v in keys.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        lines.append("%s = %s" % (k, v))
    return "\n".join(lines) + "\n"


def add_judges(agon, judges):
    """Append [judge NAME] sections to agon's written config.
    judges: list of (name, upstream model id, {key: value})."""
    text = Path(agon.config).read_text()
    if not text.endswith("\n"):
        text += "\n"
    for name, upstream, keys in judges:
        text += "\n" + judge_lines(name, upstream, agon.fake.api_base, **keys)
    Path(agon.config).write_text(text)
    agon.judges = {name: upstream for name, upstream, _ in judges}
    return agon.config


def start_arena(agon_factory, judges, models=None, start=True, **cfg):
    agon = agon_factory(models or [LONG, SHORT], start=False, **cfg)
    add_judges(agon, judges)
    if start:
        agon.start()
    return agon


# ---------------------------------------------------------------------------
# Playing battles.

@dataclass
class Played:
    bid: str
    prompts: list
    texts: dict        # side -> [answer per turn]
    long_side: str     # the side whose last answer is longer
    winner: str = None  # the human vote ("a", "b", "tie", "bothbad") or None
    counted: bool = None
    models: dict = None  # side -> model, once voted


def side_of(p, what):
    """A vote in terms of the long/short model, as a side."""
    if what == "long":
        return p.long_side
    if what == "short":
        return "b" if p.long_side == "a" else "a"
    return what


def play(c, prompt, vote=None, turns=(), expect_counted=True):
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, (es.end, es.raw[-300:])
    prompts = [prompt]
    texts = {"a": [es.text("a")], "b": [es.text("b")]}
    for k, more in enumerate(turns):
        r = c.post("/api/battles/%s/turns" % bid, {"prompt": more})
        assert r.status == 202, r
        es = c.events("/api/battles/%s/events" % bid)
        assert es.closed and es.end == {"turn": k + 2, "status": "ready"}, es.end
        prompts.append(more)
        texts["a"].append(es.text("a"))
        texts["b"].append(es.text("b"))
    la, lb = len(texts["a"][-1]), len(texts["b"][-1])
    assert la != lb
    p = Played(bid, prompts, texts, "a" if la > lb else "b")
    if vote is not None:
        vote_on(c, p, vote, expect_counted)
    return p


def vote_on(c, p, vote, expect_counted=True):
    w = side_of(p, vote)
    r = c.post("/api/battles/%s/vote" % p.bid, {"winner": w})
    assert r.status == 200, r
    j = r.json()
    if expect_counted is not None:
        assert j["counted"] is expect_counted, j
    p.winner, p.counted, p.models = w, j["counted"], j["models"]
    assert p.models[p.long_side] == LONG.name, (p, j)
    return j


def models_of(c, p):
    """side -> model of a battle (after the vote the battle shows them)."""
    if p.models is None:
        b = c.get("/api/battles/" + p.bid).json()
        p.models = b.get("models")
    return p.models


# ---------------------------------------------------------------------------
# Reading the results.

def judges_api(c):
    r = c.get("/api/judges")
    assert r.status == 200, r
    assert (r.header("Content-Type") or "").startswith("application/json")
    return {j["name"]: j for j in r.json()["judges"]}


def wait_judged(c, counts, timeout=30.0):
    """Poll /api/judges until each judge has judged+errors >= counts[name]."""
    deadline = time.monotonic() + timeout
    while True:
        js = judges_api(c)
        if all(js[n]["judged"] + js[n]["errors"] + js[n]["pending"] >= k for n, k in counts.items()):
            return js
        if time.monotonic() > deadline:
            raise AssertionError("judges did not finish within %ss: want %r, have %s"
                                 % (timeout, counts, json.dumps(js, indent=1)))
        time.sleep(0.05)


def db_rows(agon, sql, *args):
    return agon.sql(sql, args, names=True)


def judgments(agon, judge):
    """battle_id -> judgments row (raw and scores parsed)."""
    out = {}
    for r in db_rows(agon, "SELECT * FROM judgments WHERE judge = ? ORDER BY id", judge):
        r["raw"] = json.loads(r["raw"]) if r["raw"] else None
        r["scores"] = json.loads(r["scores"]) if r["scores"] else None
        out[r["battle_id"]] = r
    return out


def judge_requests(fake, upstream):
    return [q for q in fake.requests()
            if isinstance(q["body"], dict) and q["body"].get("model") == upstream]


def user_msg(req):
    msgs = req["body"]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user"], msgs
    return msgs[1]["content"]


def pairwise_text(prompts, first, second):
    out = ""
    for t, prompt in enumerate(prompts):
        out += "### Turn %d\n[User]\n%s\n\n[Assistant A]\n%s\n\n[Assistant B]\n%s\n\n" % (
            t + 1, prompt, first[t], second[t])
    return out


PAIR_TAIL = "Which assistant is better? End with [[A]], [[B]] or [[C]]."


def requests_about(reqs, p):
    """The judge requests whose judged conversation (the part after any
    examples) is battle p's."""
    key = "### Turn 1\n[User]\n%s\n\n" % p.prompts[0]
    out = []
    for q in reqs:
        text = user_msg(q)
        tail = text.split("## Now judge this conversation\n\n")[-1]
        if tail.startswith(key):
            out.append(q)
    return out


def agreement(played, verdicts):
    """Zheng et al.'s agreement, from the definition: over battles with a counted
    human vote and a judge verdict (bothbad is a tie); without ties, over those
    where both chose a side. Returns (compared, agree, compared_nt, agree_nt)."""
    n = a = nn = an = 0
    for p in played:
        v = verdicts.get(p.bid)
        if p.winner is None or not p.counted or v is None:
            continue
        h = "tie" if p.winner == "bothbad" else p.winner
        n += 1
        a += h == v
        if h in ("a", "b") and v in ("a", "b"):
            nn += 1
            an += h == v
    return n, a, nn, an


def check_agreement(stats, played, verdicts):
    n, a, nn, an = agreement(played, verdicts)
    assert stats["compared"] == n, (stats, n)
    assert stats["compared_no_ties"] == nn, (stats, nn)
    if n:
        assert stats["agreement"] == pytest.approx(a / n, abs=1e-12), (stats, a, n)
    else:
        assert stats["agreement"] is None, stats
    if nn:
        assert stats["agreement_no_ties"] == pytest.approx(an / nn, abs=1e-12), (stats, an, nn)
    else:
        assert stats["agreement_no_ties"] is None, stats


def leaderboard(c, query=""):
    r = c.get("/api/leaderboard" + query)
    assert r.status == 200, r
    return r.json()


def fitted(lb):
    """The board's Bradley-Terry fit, which runs in the background
    (debounced), covers every vote it counts (bt_votes), and every model
    with battles has its points."""
    rows = lb["models"] + lb.get("provisional", [])
    return (lb.get("bt_votes", 0) == lb["votes"] and
            all(m["bt"] is not None for m in rows if m["battles"]))


def settled_leaderboard(c, timeout=30.0):
    """The leaderboard once its fit has caught up with the votes."""
    return wait_for(lambda: (lambda lb: fitted(lb) and lb)(leaderboard(c)), timeout,
                    "the fit of every vote")


def rows_of(lb):
    return {m["model"]: m for m in lb["models"] + lb.get("provisional", [])}


def human_view(lb):
    """What judge verdicts must not change in a human leaderboard."""
    return {"votes": lb["votes"],
            "rows": {m: {k: r.get(k) for k in ROW_KEYS} for m, r in rows_of(lb).items()}}


def recompute(agon, db=None):
    r = agon.run("recompute", "--db", db or agon.db)
    assert r.returncode == 0, "recompute: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout)


def agon_judge(agon, *args, timeout=30):
    r = agon.run("judge", "--db", agon.db, "--config", agon.config, *args, timeout=timeout)
    return r


JUDGE_OUT = re.compile(r"^judged (\d+) battles: (\d+) verdicts, (\d+) errors \((\d+) had "
                       r"nothing to judge\)$", re.M)


def judge_summary(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    m = JUDGE_OUT.search(r.stdout)
    assert m, r.stdout
    return tuple(int(x) for x in m.groups())


# ---------------------------------------------------------------------------
# The fake judges themselves.

def test_fake_judges_reply_as_scripted():
    pa, pb = "short", "a longer answer"
    u = pairwise_text(["hi"], ["one"], ["two"]) + pairwise_text(["hi"], [pa], [pb]) + PAIR_TAIL
    msgs = [{"role": "system", "content": "judge"}, {"role": "user", "content": u}]
    assert fake_backend.last_turn_answers(u) == (pa, pb)
    r = fake_backend.reply_text
    assert r("judge-first-x", msgs).endswith("[[A]]") and "[[B]]" in r("judge-first", msgs)
    assert r("judge-second", msgs).endswith("[[B]]")
    assert r("judge-tie", msgs).endswith("[[C]]")
    assert r("judge-longer", msgs).endswith("[[B]]")
    assert r("judge-slow", msgs).endswith("[[A]]")
    assert not re.search(r"\[\[[ABC]\]\]", r("judge-garbage", msgs))
    swapped = u.replace(pa, "@@").replace(pb, pa).replace("@@", pb)
    assert r("judge-longer", [{"role": "user", "content": swapped}]).endswith("[[A]]")
    same = pairwise_text(["hi"], ["abc"], ["xyz"]) + PAIR_TAIL
    assert r("judge-longer", [{"role": "user", "content": same}]).endswith("[[C]]")
    single = "### Turn 1\n[User]\nhi\n\n[Assistant]\n%s\n\nRate the assistant's answers." % ("x" * 73)
    reply = r("judge-single", [{"role": "user", "content": single}])
    assert fake_backend.single_scores("x" * 73) == [7, 8, 9, 10]
    assert "Grammaticality: 7\ncohesiveness: 8\nLIKABILITY: 9\nRelevance: 10" in reply
    assert fake_backend.single_scores("") == [1, 2, 3, 4]
    assert fake_backend.single_scores("x" * 5000) == [17, 18, 19, 20]
    one = [{"role": "user", "content": "hi"}]
    assert r("pad30-z", one) == fake_backend.echo_answer("pad30-z", one) + " " + \
        ("and some more words " * 2)[:30]
    assert fake_backend.behaviour_of("echo-judge-first") == "echo"


def test_fake_judge_streams_and_slow_judge_sleeps(fake):
    """Both forms of a judge's reply, and a slow judge that is slow: asked
    first, it has sent nothing yet when a quick judge asked after it is
    done."""
    import http.client
    u = pairwise_text(["q"], ["a"], ["bb"]) + PAIR_TAIL
    msgs = [{"role": "user", "content": u}]

    def ask(model, stream):
        c = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        c.request("POST", "/v1/chat/completions", json.dumps(
            {"model": model, "stream": stream, "messages": msgs}),
            {"Content-Type": "application/json"})
        return c

    def check_reply(c, model, stream):
        resp = c.getresponse()
        body = resp.read()
        c.close()
        assert resp.status == 200, (model, resp.status)
        if stream:
            assert resp.getheader("Content-Type").startswith("text/event-stream")
            text = ""
            for line in body.decode().replace("\r\n", "\n").split("\n"):
                if line.startswith("data: ") and line != "data: [DONE]":
                    for ch in json.loads(line[6:]).get("choices", []):
                        text += ch.get("delta", {}).get("content") or ""
            assert body.rstrip().endswith(b"data: [DONE]")
        else:
            text = json.loads(body)["choices"][0]["message"]["content"]
        assert text == fake_backend.reply_text(model, msgs)

    for stream in (True, False):
        slow = ask("judge-slow1000", stream)
        quick = ask("judge-longer", stream)
        check_reply(quick, "judge-longer", stream)
        assert not select.select([slow.sock], [], [], 0)[0], \
            "the slow judge answered before a quick one asked after it"
        check_reply(slow, "judge-slow1000", stream)


# ---------------------------------------------------------------------------
# Swap logic and position bias.

def test_swap_and_inconsistency(agon_factory, fake):
    agon = start_arena(agon_factory, [
        ("first", "judge-first-1", {"auto": True}),
        ("first-noswap", "judge-first-2", {"auto": True, "swap": False}),
        ("second", "judge-second-1", {"auto": True}),
        ("longer", "judge-longer-1", {"auto": True, "temperature": 0.25, "max_tokens": 300}),
    ])
    c = agon.client()
    played = [play(c, "swap question %d" % i) for i in range(4)]
    js = wait_judged(c, {"first": 4, "first-noswap": 4, "second": 4, "longer": 4})
    # Held back while the battles are blind (issue 11): stored, not published.
    for name in ("first", "first-noswap", "second", "longer"):
        j = js[name]
        assert (j["judged"], j["errors"], j["inconsistent"], j["pending"]) == (0, 0, 0, 4), j
    for p in played:
        vote_on(c, p, "bothbad")
    js = judges_api(c)

    # /api/judges: the counts and the settings
    assert js["first"]["judged"] == 4 and js["first"]["errors"] == 0
    assert js["first"]["inconsistent"] == 4
    assert js["second"]["inconsistent"] == 4
    assert js["first-noswap"]["inconsistent"] == 0
    assert js["longer"]["inconsistent"] == 0 and js["longer"]["judged"] == 4
    for name, swap in (("first", True), ("first-noswap", False), ("longer", True)):
        j = js[name]
        assert (j["mode"], j["swap"], j["auto"], j["few_shot"]) == ("pairwise", swap, True, 0), j
        assert j["scores"] == {}, j
        assert j["pending"] == 0, j
        # the humans said "both bad" (a tie) every time: no decisive pair
        assert j["compared"] == 4 and j["agreement_no_ties"] is None
    assert js["first"]["agreement"] == 1.0 and js["longer"]["agreement"] == 0.0

    first, noswap = judgments(agon, "first"), judgments(agon, "first-noswap")
    second, longer = judgments(agon, "second"), judgments(agon, "longer")
    for p in played:
        # always "A": a for side a shown first, b once swapped -> disagree -> tie
        r = first[p.bid]
        assert (r["verdict"], r["verdict_ab"], r["verdict_ba"], r["inconsistent"]) == \
            ("tie", "a", "b", 1), r
        assert r["mode"] == "pairwise" and r["error"] is None
        assert len(r["raw"]) == 2 and all(x.endswith("[[A]]") for x in r["raw"]), r["raw"]
        r = second[p.bid]
        assert (r["verdict"], r["verdict_ab"], r["verdict_ba"], r["inconsistent"]) == \
            ("tie", "b", "a", 1), r
        r = noswap[p.bid]
        assert (r["verdict"], r["verdict_ab"], r["verdict_ba"], r["inconsistent"]) == \
            ("a", "a", None, 0), r
        assert len(r["raw"]) == 1
        # the longer answer wins in both orders: consistent
        r = longer[p.bid]
        assert (r["verdict"], r["verdict_ab"], r["verdict_ba"], r["inconsistent"]) == \
            (p.long_side, p.long_side, p.long_side, 0), (r, p)

    # What the judges were sent: one order, then (with swap) the other.
    for name, upstream, n in (("first", "judge-first-1", 2), ("first-noswap", "judge-first-2", 1),
                              ("longer", "judge-longer-1", 2)):
        reqs = judge_requests(fake, upstream)
        assert len(reqs) == 4 * n, (name, len(reqs))
        systems = {q["body"]["messages"][0]["content"] for q in reqs}
        assert len(systems) == 1 and "[[A]]" in systems.pop()
        for p in played:
            mine = requests_about(reqs, p)
            assert len(mine) == n, (name, p.bid, len(mine))
            texts = sorted(user_msg(q) for q in mine)
            ab = pairwise_text(p.prompts, p.texts["a"], p.texts["b"]) + PAIR_TAIL
            ba = pairwise_text(p.prompts, p.texts["b"], p.texts["a"]) + PAIR_TAIL
            assert texts == sorted([ab, ba][:n]), (name, texts)
            for q in mine:
                b = q["body"]
                assert b["stream"] is True and q["path"] == "/v1/chat/completions"
                assert "Example" not in user_msg(q)
    for q in judge_requests(fake, "judge-longer-1"):
        assert q["body"]["temperature"] == pytest.approx(0.25)
        assert q["body"]["max_tokens"] == 300
    for q in judge_requests(fake, "judge-first-1"):
        assert q["body"]["temperature"] == 0  # a judge's default temperature
        assert "max_tokens" not in q["body"]

    # The answering models never saw a judge prompt.
    for m in (LONG, SHORT):
        for q in judge_requests(fake, m.upstream):
            for msg in q["body"]["messages"]:
                assert "[Assistant A]" not in msg["content"]


def test_judging_follows_the_last_turn(agon_factory, fake):
    """A later turn replaces the verdict; the judge sees every turn."""
    agon = start_arena(agon_factory, [("longer", "judge-longer-9", {"auto": True})])
    c = agon.client()
    p = play(c, "multi first")
    wait_judged(c, {"longer": 1})
    first = judgments(agon, "longer")[p.bid]
    assert first["raw"][0].startswith("Answer A has %d characters, answer B has %d;" % (
        len(p.texts["a"][0]), len(p.texts["b"][0])))
    r = c.post("/api/battles/%s/turns" % p.bid, {"prompt": "multi second"})
    assert r.status == 202
    es = c.events("/api/battles/%s/events" % p.bid)
    assert es.end == {"turn": 2, "status": "ready"}
    p.prompts.append("multi second")
    p.texts["a"].append(es.text("a"))
    p.texts["b"].append(es.text("b"))
    want = "Answer A has %d characters, answer B has %d;" % (
        len(p.texts["a"][1]), len(p.texts["b"][1]))
    deadline = time.monotonic() + 20
    while True:
        row = judgments(agon, "longer")[p.bid]
        if row["raw"][0].startswith(want):
            break
        assert time.monotonic() < deadline, "the second turn was not judged: %r" % row
        time.sleep(0.05)
    assert row["id"] != first["id"] and row["verdict"] == p.long_side
    # the judge saw both turns, in both orders
    texts = [user_msg(q) for q in judge_requests(fake, "judge-longer-9")]
    assert pairwise_text(p.prompts, p.texts["a"], p.texts["b"]) + PAIR_TAIL in texts
    assert pairwise_text(p.prompts, p.texts["b"], p.texts["a"]) + PAIR_TAIL in texts
    # one judgment per (battle, judge)
    assert db_rows(agon, "SELECT count(*) AS n FROM judgments")[0]["n"] == 1
    # unvoted: stored, held back (issue 11)
    assert (judges_api(c)["longer"]["judged"], judges_api(c)["longer"]["pending"]) == (0, 1)
    vote_on(c, p, "long")
    assert (judges_api(c)["longer"]["judged"], judges_api(c)["longer"]["pending"]) == (1, 0)


# ---------------------------------------------------------------------------
# Agreement with the humans.

def test_agreement_arithmetic(agon_factory):
    agon = start_arena(agon_factory, [
        ("longer", "judge-longer-2", {"auto": True}),
        ("tie", "judge-tie-2", {"auto": True}),
        ("first", "judge-first-3", {"auto": True}),
        ("always-a", "judge-first-4", {"auto": True, "swap": False}),
        ("garbage", "judge-garbage-2", {"auto": True}),
    ])
    c = agon.client()
    votes = ["long", "long", "short", "tie", "bothbad", "long", None]
    played = [play(c, "agreement question %d" % i, v) for i, v in enumerate(votes)]
    # A vote that does not count (the prompt names a model): judged, not compared.
    played.append(play(c, "Are you ChatGPT? Tell me.", "long", expect_counted=False))
    js = wait_judged(c, {n: len(played) for n in ("longer", "tie", "first", "always-a",
                                                  "garbage")})

    # By hand. Humans: long, long, short, tie, bothbad, long (+ one unvoted,
    # whose verdict is held back, and one not counted). "longer" always picks
    # the long model:
    #   with ties 3 of 6 agree; without ties 3 of 4 (long, long, short, long).
    L = js["longer"]
    assert (L["judged"], L["errors"], L["inconsistent"], L["pending"]) == (7, 0, 0, 1)
    assert (L["compared"], L["compared_no_ties"]) == (6, 4)
    assert L["agreement"] == pytest.approx(0.5) and L["agreement_no_ties"] == pytest.approx(0.75)
    # "tie" always says tie: agrees with the tie and the bothbad vote (2 of 6);
    # never picks a side, so nothing to compare without ties.
    T = js["tie"]
    assert (T["judged"], T["inconsistent"], T["compared"], T["compared_no_ties"]) == (7, 0, 6, 0)
    assert T["agreement"] == pytest.approx(2 / 6) and T["agreement_no_ties"] is None
    # "first" with swap: position bias, every verdict inconsistent -> tie.
    F = js["first"]
    assert (F["judged"], F["inconsistent"], F["compared"], F["compared_no_ties"]) == (7, 7, 6, 0)
    assert F["agreement"] == pytest.approx(2 / 6) and F["agreement_no_ties"] is None
    # "always-a": agrees where the human chose side a.
    A = js["always-a"]
    human_a = sum(1 for p in played[:6] if p.winner == "a")
    human_ab = sum(1 for p in played[:6] if p.winner in ("a", "b"))
    assert human_ab == 4
    assert (A["compared"], A["compared_no_ties"]) == (6, 4)
    assert A["agreement"] == pytest.approx(human_a / 6)
    assert A["agreement_no_ties"] == pytest.approx(human_a / 4)
    # garbage: all errors, nothing counted
    G = js["garbage"]
    assert (G["judged"], G["errors"], G["compared"], G["compared_no_ties"]) == (0, 7, 0, 0)
    assert G["pending"] == 1
    assert G["agreement"] is None and G["agreement_no_ties"] is None

    # The same numbers from the definition, with the stored verdicts.
    for name in ("longer", "tie", "first", "always-a", "garbage"):
        verdicts = {b: r["verdict"] for b, r in judgments(agon, name).items()}
        check_agreement(js[name], played, verdicts)
    assert all(js[n]["pending"] == 1 for n in js), js

    # Votes cast after the judgments count as soon as they are cast.
    vote_on(c, played[6], "short")
    L2 = judges_api(c)["longer"]
    assert (L2["judged"], L2["pending"]) == (8, 0)
    assert (L2["compared"], L2["compared_no_ties"]) == (7, 5)
    assert L2["agreement"] == pytest.approx(3 / 7) and L2["agreement_no_ties"] == pytest.approx(3 / 5)


# ---------------------------------------------------------------------------
# Single mode.

def test_single_mode_scores_and_averages(agon_factory, fake):
    agon = start_arena(agon_factory, [
        ("rater", "judge-single-1", {"auto": True, "mode": "single"}),
        ("rater-bad", "judge-first-5", {"auto": True, "mode": "single"}),
    ])
    c = agon.client()
    prompts = ["s", "single question two", "a somewhat longer single-mode question, three"]
    played = [play(c, q, v) for q, v in zip(prompts, ["long", "short", None])]
    js = wait_judged(c, {"rater": 3, "rater-bad": 3})
    R = js["rater"]
    # the unvoted battle's scores are held back (issue 11)
    assert (R["mode"], R["judged"], R["errors"], R["inconsistent"]) == ("single", 2, 0, 0), R
    assert R["pending"] == 1
    rows = judgments(agon, "rater")
    sums = {}
    for p in played:
        r = rows[p.bid]
        exp = {s: fake_backend.single_scores(p.texts[s][-1]) for s in ("a", "b")}
        assert r["scores"] == exp, (r["scores"], exp)
        assert r["mode"] == "single" and r["error"] is None
        assert r["verdict"] == p.long_side  # the longer answer scores higher
        assert r["verdict_ab"] is None and r["verdict_ba"] is None and r["inconsistent"] == 0
        assert len(r["raw"]) == 2
        models = models_of(c, p) or {}
        if not models:  # unvoted: not in the published scores
            continue
        for s in ("a", "b"):
            sums.setdefault(models[s], []).append(sum(exp[s]) / 4.0)
    assert set(R["scores"]) == {LONG.name, SHORT.name}
    for m, xs in sums.items():
        assert R["scores"][m] == pytest.approx(sum(xs) / len(xs), abs=1e-9), (m, R["scores"])
    assert R["scores"][LONG.name] > R["scores"][SHORT.name]
    check_agreement(R, played, {b: r["verdict"] for b, r in rows.items()})

    # One request per side, each with only that side's answer.
    reqs = judge_requests(fake, "judge-single-1")
    assert len(reqs) == 6
    for p in played:
        mine = [user_msg(q) for q in reqs if "[User]\n%s\n\n" % p.prompts[0] in user_msg(q)]
        exp = sorted("### Turn 1\n[User]\n%s\n\n[Assistant]\n%s\n\nRate the assistant's answers."
                     % (p.prompts[0], p.texts[s][0]) for s in ("a", "b"))
        assert sorted(mine) == exp
    sysmsg = reqs[0]["body"]["messages"][0]["content"]
    for crit in ("Grammaticality", "Cohesiveness", "Likability", "Relevance"):
        assert crit in sysmsg

    # A reply without the four scores is an error, not a verdict.
    B = js["rater-bad"]
    assert (B["judged"], B["errors"], B["pending"], B["scores"]) == (0, 2, 1, {}), B
    for r in judgments(agon, "rater-bad").values():
        assert r["verdict"] is None and r["scores"] is None
        assert "score" in r["error"], r["error"]


# ---------------------------------------------------------------------------
# Few-shot prompts.

def test_few_shot_prompt_assembly(agon_factory, fake):
    agon = start_arena(agon_factory, [
        ("fs", "judge-first-6", {"few_shot": 2, "swap": False}),
        ("fs-many", "judge-first-7", {"few_shot": 50, "swap": False}),
        ("fs-swap", "judge-longer-7", {"few_shot": 2}),
    ])
    c = agon.client()
    p1 = play(c, "few-shot question one", "tie")
    p2 = play(c, "few-shot question two", "bothbad")
    p3 = play(c, "few-shot question three", "a")
    p4 = play(c, "few-shot question four", "b")
    p5 = play(c, "few-shot question five")                 # not voted
    p6 = play(c, "Are you ChatGPT? few-shot six", "a", expect_counted=False)
    played = [p1, p2, p3, p4, p5, p6]
    js = judges_api(c)
    assert js["fs"]["few_shot"] == 2 and js["fs"]["auto"] is False
    assert js["fs"]["judged"] == 0  # auto = false: nothing judged by the server

    r = agon_judge(agon, "--judge", "fs")
    assert judge_summary(r) == (6, 6, 0, 0)
    r = agon_judge(agon, "--judge", "fs-many")
    assert judge_summary(r) == (6, 6, 0, 0)
    r = agon_judge(agon, "--judge", "fs-swap")
    assert judge_summary(r) == (6, 6, 0, 0)
    assert fake.requests()  # the judges were asked

    def example(p, verdict, k):
        return ("## Example %d (judged by a person)\n\n" % k
                + pairwise_text(p.prompts, p.texts["a"], p.texts["b"])
                + "Verdict: [[%s]]\n\n" % verdict)

    head = "## Now judge this conversation\n\n"
    fs = judge_requests(fake, "judge-first-6")
    assert len(fs) == 6
    # The unvoted battle: the two most recent counted votes (p4: b, p3: a),
    # newest first, each shown in its own order; the not-counted vote is no
    # example.
    (q5,) = requests_about(fs, p5)
    want = (example(p4, "B", 1) + example(p3, "A", 2) + head
            + pairwise_text(p5.prompts, p5.texts["a"], p5.texts["b"]) + PAIR_TAIL)
    assert user_msg(q5) == want
    assert "Are you ChatGPT" not in user_msg(q5)
    # The not-counted battle is judged with the same examples.
    (q6,) = requests_about(fs, p6)
    assert user_msg(q6).startswith(example(p4, "B", 1) + example(p3, "A", 2) + head)
    # An older battle: the same two examples.
    (q1,) = requests_about(fs, p1)
    assert user_msg(q1).startswith(example(p4, "B", 1) + example(p3, "A", 2) + head)
    for q in fs:
        text = user_msg(q)
        assert text.count("## Example ") <= 2 and text.count("Verdict: [[") <= 2
        assert text.count(head) == 1 and text.endswith(PAIR_TAIL)

    # fs-many (50): every counted vote there is, newest first; the bothbad
    # and tie votes are shown as [[C]].
    many = judge_requests(fake, "judge-first-7")
    (q5,) = requests_about(many, p5)
    want = (example(p4, "B", 1) + example(p3, "A", 2) + example(p2, "C", 3)
            + example(p1, "C", 4) + head
            + pairwise_text(p5.prompts, p5.texts["a"], p5.texts["b"]) + PAIR_TAIL)
    assert user_msg(q5) == want

    # With swap, the judged battle is shown both ways, the examples never are.
    sw = judge_requests(fake, "judge-longer-7")
    mine = requests_about(sw, p5)
    assert len(mine) == 2
    got = sorted(user_msg(q) for q in mine)
    ex = example(p4, "B", 1) + example(p3, "A", 2) + head
    assert got == sorted([
        ex + pairwise_text(p5.prompts, p5.texts["a"], p5.texts["b"]) + PAIR_TAIL,
        ex + pairwise_text(p5.prompts, p5.texts["b"], p5.texts["a"]) + PAIR_TAIL])
    # judge-longer reads the LAST turn, not an example: still consistent
    rows = judgments(agon, "fs-swap")
    for p in played:
        assert rows[p.bid]["verdict"] == p.long_side and rows[p.bid]["inconsistent"] == 0


def test_few_shot_voted_battle_gets_n_other_examples(agon_factory, fake):
    agon = start_arena(agon_factory, [("fs", "judge-first-8", {"few_shot": 2, "swap": False})])
    c = agon.client()
    play(c, "fsv one", "a")
    play(c, "fsv two", "b")
    p3 = play(c, "fsv three", "tie")
    assert judge_summary(agon_judge(agon)) == (3, 3, 0, 0)
    (q3,) = requests_about(judge_requests(fake, "judge-first-8"), p3)
    # p3 is the newest vote; its examples should be the two before it.
    assert user_msg(q3).count("## Example ") == 2, user_msg(q3)[:2000]
    assert "Verdict: [[B]]" in user_msg(q3) and "Verdict: [[A]]" in user_msg(q3)


def test_prompt_file_replaces_the_system_prompt(agon_factory, fake, agon_bin):
    agon = agon_factory([LONG, SHORT], start=False)
    sub = Path(agon.dir) / "prompts"
    sub.mkdir()
    (sub / "strict.txt").write_text("Be strict. Reply [[A]], [[B]] or [[C]].\nÜnïcode ok.\n")
    add_judges(agon, [("strict", "judge-first-9", {"auto": True, "swap": False,
                                                   "prompt_file": "prompts/strict.txt"}),
                      ("plain", "judge-first-10", {"auto": True, "swap": False})])
    # relative to the config file, not to the working directory
    r = run_agon(agon_bin, "check-config", agon.config, cwd="/")
    assert r.returncode == 0, r.stderr
    agon.start()
    c = agon.client()
    p = play(c, "prompt file question")
    wait_judged(c, {"strict": 1, "plain": 1})
    (q,) = judge_requests(fake, "judge-first-9")
    (plain,) = judge_requests(fake, "judge-first-10")
    assert q["body"]["messages"][0]["content"] == \
        "Be strict. Reply [[A]], [[B]] or [[C]].\nÜnïcode ok.\n"
    assert user_msg(q) == user_msg(plain) == \
        pairwise_text(p.prompts, p.texts["a"], p.texts["b"]) + PAIR_TAIL
    assert plain["body"]["messages"][0]["content"] != q["body"]["messages"][0]["content"]


@pytest.mark.parametrize("keys,err", [
    ({"mode": "ranking"}, "mode"),
    ({"swap": "maybe"}, "swap"),
    ({"auto": "yes please"}, "auto"),
    ({"few_shot": 51}, "few_shot"),
    ({"few_shot": -1}, "few_shot"),
    ({"concurrency": 0}, "concurrency"),
    ({"prompt_file": "no-such-prompt.txt"}, "prompt_file"),
    ({"bogus_key": 1}, "bogus_key"),
])
def test_bad_judge_config_is_refused(agon_factory, agon_bin, keys, err):
    agon = agon_factory([LONG, SHORT], start=False)
    add_judges(agon, [("j", "judge-first", keys)])
    r = run_agon(agon_bin, "check-config", agon.config)
    assert r.returncode != 0, (keys, r.stdout)
    assert err in r.stderr and "agon.ini:" in r.stderr, r.stderr


def test_good_judge_config_is_accepted(agon_factory, agon_bin):
    agon = agon_factory([LONG, SHORT], start=False)
    add_judges(agon, [("j1", "judge-first", {"mode": "single", "swap": False, "auto": True,
                                             "concurrency": 1, "few_shot": 50}),
                      ("j2", "judge-first", {"few_shot": 0})])
    r = run_agon(agon_bin, "check-config", agon.config)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------
# Errors.

def test_garbage_and_failures_are_errors_not_counted(agon_factory, fake):
    agon = start_arena(agon_factory, [
        ("garbage", "judge-garbage-3", {"auto": True}),
        ("down", "fail500-judge", {"auto": True}),
        ("half", "judge-longer-3", {"auto": True}),
        ("huge", "big-400000", {"auto": True, "swap": False}),  # over the reply cap
    ])
    c = agon.client()
    for i, v in enumerate(["long", "tie"]):
        play(c, "garbage question %d" % i, v)
    js = wait_judged(c, {"garbage": 2, "down": 2, "half": 2, "huge": 2})
    for name, what in (("garbage", "verdict"), ("down", "request failed"),
                       ("huge", "request failed")):
        j = js[name]
        assert (j["judged"], j["errors"], j["inconsistent"], j["compared"]) == (0, 2, 0, 0), j
        assert j["agreement"] is None and j["agreement_no_ties"] is None
        for r in judgments(agon, name).values():
            assert r["verdict"] is None and r["verdict_ab"] is None and r["verdict_ba"] is None
            assert r["inconsistent"] == 0 and what in r["error"], r["error"]
            assert fake_backend.PROVIDER_SECRET not in json.dumps(judges_api(c))
        lb = leaderboard(c, "?source=judge&judge=" + name)
        assert lb["votes"] == 0 and all(r["battles"] == 0 for r in rows_of(lb).values()), lb
    for r in judgments(agon, "garbage").values():
        assert len(r["raw"]) == 2 and all("[[D]]" in x for x in r["raw"])
    assert js["half"]["judged"] == 2 and js["half"]["errors"] == 0

    # An error is judged again by agon judge (and stays an error here).
    r = agon_judge(agon, "--judge", "garbage")
    assert judge_summary(r) == (2, 0, 2, 0)
    assert agon_judge(agon, "--judge", "half").stdout.startswith("judged 0 battles")
    js = judges_api(c)
    assert (js["garbage"]["judged"], js["garbage"]["errors"]) == (0, 2)
    # Human ratings: two counted votes, nothing else.
    assert leaderboard(c)["votes"] == 2
    assert agon.alive()


# ---------------------------------------------------------------------------
# Human ratings are left alone.

def test_judge_verdicts_leave_human_ratings_untouched(agon_factory):
    agon = start_arena(agon_factory, [
        ("longer", "judge-longer-4", {}),
        ("first", "judge-first-11", {"swap": False}),
        ("rater", "judge-single-4", {"mode": "single"}),
    ])
    c = agon.client()
    votes = ["short", "short", "tie", "short", "bothbad", "long", None]
    played = [play(c, "human question %d" % i, v) for i, v in enumerate(votes)]
    human = [(p.models["a"], p.models["b"], p.winner) for p in played if p.winner]
    before = settled_leaderboard(c)
    exp = expected_ratings(human, k=4, models=[LONG.name, SHORT.name])
    assert {m: r["elo"] for m, r in rows_of(before).items()} == \
        {m: pytest.approx(e, abs=1e-9) for m, e in exp.items()}
    rec_before = recompute(agon)
    assert rec_before["matches"] is True and rec_before["votes"] == 6

    r = agon_judge(agon)  # with the server running: every judge, every battle
    assert judge_summary(r) == (21, 21, 0, 0)
    js = judges_api(c)
    # the unvoted battle is judged, held back
    assert all((js[n]["judged"], js[n]["pending"]) == (6, 1) for n in ("longer", "first", "rater"))

    after = leaderboard(c)
    assert human_view(after) == human_view(before)
    assert after.get("source", "human") == "human"
    rec_after = recompute(agon)
    assert rec_after == rec_before
    # The judge's own leaderboard disagrees with the humans (long always wins).
    jl = leaderboard(c, "?source=judge&judge=longer")
    assert rows_of(jl)[LONG.name]["elo"] > rows_of(jl)[SHORT.name]["elo"]
    assert rows_of(after)[LONG.name]["elo"] < rows_of(after)[SHORT.name]["elo"]
    # ... and after a restart too (ratings are rebuilt from human votes only).
    agon.restart()
    c = agon.client()
    again = settled_leaderboard(c)
    assert human_view(again)["votes"] == 6
    for m, row in human_view(again)["rows"].items():
        assert row["elo"] == pytest.approx(human_view(before)["rows"][m]["elo"], abs=1e-9)
        for k in ("battles", "wins", "losses", "ties"):
            assert row[k] == human_view(before)["rows"][m][k]
    assert recompute(agon) == rec_before


# ---------------------------------------------------------------------------
# auto judging does not slow the arena.

def test_auto_judging_does_not_delay_battles_or_votes(agon_factory, fake):
    """Order and outcome, not wall-clock thresholds: every battle ends and
    every vote is stored while the (slow, ~2 s a request) judges are still
    busy with earlier battles, so neither waited for them."""
    agon = start_arena(agon_factory, [
        ("slow", "judge-slow-1", {"auto": True, "concurrency": 2}),
        ("slow-single", "judge-slow-2", {"auto": True, "mode": "single", "concurrency": 1}),
    ])
    c = agon.client()
    played = []
    for i in range(5):
        p = play(c, "slow judge question %d" % i)
        vote_on(c, p, "long")
        played.append(p)
    js = judges_api(c)
    lb = leaderboard(c)
    assert lb["votes"] == 5
    assert judge_requests(fake, "judge-slow-1"), "auto judging did not start"

    js = wait_judged(c, {"slow": 5, "slow-single": 5}, timeout=60)
    assert js["slow"]["judged"] == 5 and js["slow"]["inconsistent"] == 5
    rows = judgments(agon, "slow")
    votes = {r["battle_id"]: r["created_at"]
             for r in db_rows(agon, "SELECT battle_id, created_at FROM votes")}
    last_vote = max(votes.values())
    for p in played:
        # stored once the slow judge had been asked about it, both ways ...
        asked = [q["time"] for q in judge_requests(fake, "judge-slow-1")
                 if p.prompts[0] in user_msg(q)]
        assert len(asked) == 2 and rows[p.bid]["created_at"] / 1000.0 > max(asked), \
            (rows[p.bid], asked)
        # ... and after its vote: the vote never waited for the verdict
        assert rows[p.bid]["created_at"] > votes[p.bid], (rows[p.bid], votes[p.bid])
    # the battles and votes went on while the judges worked: the last vote
    # was stored before the single judge had its fifth verdict
    singles = sorted(r["created_at"] for r in judgments(agon, "slow-single").values())
    assert last_vote < singles[-1], (last_vote, singles)
    # concurrency = 2 requests in flight: a swapped battle at a time
    reqs = judge_requests(fake, "judge-slow-1")
    assert len(reqs) == 10
    assert max_in_flight(reqs, fake_backend.JUDGE_SLOW_DEFAULT) == 2, \
        sorted(q["time"] for q in reqs)

    # A battle still streams while the single judge is busy: it ends before
    # the verdict on it (which needs two ~2 s requests one after the other).
    p = play(c, "one more while judging")
    ended = time.time() * 1000
    vote_on(c, p, "long")
    js = wait_judged(c, {"slow-single": 6}, timeout=60)
    assert judgments(agon, "slow-single")[p.bid]["created_at"] > ended
    # Stopping with judge requests in flight is clean (SIGTERM, exit 0).
    play(c, "judged when the server stops")
    assert agon.stop() == 0


def max_in_flight(reqs, duration):
    """The most requests in flight at once, from arrival times and a known
    service time."""
    ts = sorted(q["time"] for q in reqs)
    return max(sum(1 for u in ts if t <= u < t + duration * 0.9) for t in ts)


def test_concurrency_bounds_the_requests_in_flight(agon_factory, fake):
    agon = start_arena(agon_factory, [
        ("two", "judge-slow500-a", {"concurrency": 2}),
        ("four", "judge-slow500-b", {"concurrency": 4, "swap": False}),
    ])
    c = agon.client()
    for i in range(6):
        play(c, "concurrency question %d" % i)
    # agon judge queues every battle at once
    assert judge_summary(agon_judge(agon)) == (12, 12, 0, 0)
    two = judge_requests(fake, "judge-slow500-a")
    four = judge_requests(fake, "judge-slow500-b")
    assert len(two) == 12 and len(four) == 6
    assert max_in_flight(two, 0.5) == 2     # a swapped pair at a time
    assert max_in_flight(four, 0.5) == 4


def test_concurrency_one_means_one_request_at_a_time(agon_factory, fake):
    agon = start_arena(agon_factory, [("one", "judge-slow500-c", {"concurrency": 1})])
    c = agon.client()
    for i in range(2):
        play(c, "one at a time %d" % i)
    assert judge_summary(agon_judge(agon)) == (2, 2, 0, 0)
    reqs = judge_requests(fake, "judge-slow500-c")
    assert len(reqs) == 4
    assert max_in_flight(reqs, 0.5) == 1, sorted(q["time"] for q in reqs)


def test_reload_adds_an_auto_judge(agon_factory, fake):
    agon = start_arena(agon_factory, [])
    c = agon.client()
    assert judges_api(c) == {}
    play(c, "before the reload", "long")
    add_judges(agon, [("late", "judge-longer-11", {"auto": True})])
    agon.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "late" not in judges_api(c):
        assert time.monotonic() < deadline, "reload did not add the judge"
        time.sleep(0.05)
    p2 = play(c, "after the reload", "short")
    wait_judged(c, {"late": 1})  # counted from the stored rows
    rows = judgments(agon, "late")
    assert set(rows) == {p2.bid}  # auto judging starts with the next battle
    assert rows[p2.bid]["verdict"] == p2.long_side
    # the battle from before is judged by agon judge (so the server never
    # judged it, whenever it might have)
    assert judge_summary(agon_judge(agon, "--judge", "late")) == (1, 1, 0, 0)
    js = judges_api(c)
    assert js["late"]["judged"] == 2 and js["late"]["compared"] == 2
    assert js["late"]["agreement"] == pytest.approx(0.5)


# ---------------------------------------------------------------------------
# agon judge, imported battles.

def conv(turns, side):
    out = []
    for prompt, a, b in turns:
        out += [{"role": "user", "content": prompt},
                {"role": "assistant", "content": a if side == "a" else b}]
    return out


def fastchat_record(qid, ma, mb, winner, turns, t, anony=True, with_conv=True):
    rec = {"question_id": qid, "model_a": ma, "model_b": mb, "winner": winner,
           "judge": "arena_user_test", "turn": len(turns), "anony": anony,
           "language": "English", "tstamp": t}
    if with_conv:
        rec["conversation_a"] = conv(turns, "a")
        rec["conversation_b"] = conv(turns, "b")
    return rec


IMPORTED = [
    # one turn, side b longer, human says model_b
    ("imp-one", "Old-Owl-1", "Old-Elk-2", "model_b",
     [("imported question one", "short", "a much longer imported answer")]),
    # two turns: a longer in the first, b longer in the last -> b
    ("imp-two", "Old-Owl-1", "Old-Elk-2", "model_a",
     [("imported two, first", "a long first answer here", "tiny"),
      ("imported two, second", "no", "the longer second answer")]),
    # side a longer, human tie
    ("imp-three", "Old-Elk-2", "Old-Owl-1", "tie",
     [("imported question three", "the longer answer of the two", "shorter")]),
]


def test_agon_judge_cli_live_and_imported(agon_factory, fake, tmp_path):
    agon = start_arena(agon_factory, [("longer", "judge-longer-5", {}),
                                      ("tie", "judge-tie-5", {"swap": False})], start=False)
    recs = [fastchat_record(q, a, b, w, t, 1700000000 + i)
            for i, (q, a, b, w, t) in enumerate(IMPORTED)]
    recs.append(fastchat_record("imp-noconv", "Old-Owl-1", "Old-Elk-2", "model_a",
                                [("x", "y", "z")], 1700000100, with_conv=False))
    log = tmp_path / "fastchat.json"
    log.write_text(json.dumps(recs))
    r = agon.run("import", "--db", agon.db, str(log))
    assert r.returncode == 0, r.stderr
    assert re.search(r"imported 4 battles", r.stdout), r.stdout
    agon.start()
    c = agon.client()
    live = [play(c, "cli question %d" % i, v) for i, v in enumerate(["long", "short"])]
    live.append(play(c, "cli question unvoted"))
    assert judges_api(c)["longer"]["judged"] == 0  # auto = false

    # --limit: the oldest battles first (the imported ones are older)
    imp_id = {}
    for qid, *_ in IMPORTED:
        imp = db_rows(agon, "SELECT id FROM battles WHERE record LIKE ?", '%"' + qid + '"%')
        assert len(imp) == 1, qid
        imp_id[qid] = imp[0]["id"]
    r = agon_judge(agon, "--judge", "longer", "--limit", "2")
    assert judge_summary(r) == (2, 2, 0, 0)
    assert set(judgments(agon, "longer")) == {imp_id["imp-one"], imp_id["imp-two"]}
    # the rest; the record without conversations has nothing to judge
    r = agon_judge(agon, "--judge", "longer")
    assert judge_summary(r) == (5, 4, 0, 1), r.stdout
    # not a terminal: no progress line
    assert "\r" not in r.stderr and "judged" not in r.stderr, r.stderr
    rows = judgments(agon, "longer")
    assert len(rows) == 7 - 1
    for qid, ma, mb, w, turns in IMPORTED:
        bid = imp_id[qid]
        last = turns[-1]
        want = "a" if len(last[1]) > len(last[2]) else "b"
        assert rows[bid]["verdict"] == want and rows[bid]["inconsistent"] == 0, (qid, rows[bid])
        # the judge saw every turn of the imported conversation
        reqs = [q for q in judge_requests(fake, "judge-longer-5")
                if "[User]\n%s\n\n" % turns[0][0] in user_msg(q)]
        assert len(reqs) == 2
        want_text = pairwise_text([t[0] for t in turns], [t[1] for t in turns],
                                  [t[2] for t in turns]) + PAIR_TAIL
        assert want_text in [user_msg(q) for q in reqs]
    for p in live:
        assert rows[p.bid]["verdict"] == p.long_side
    # again: only the battle with nothing to judge is left
    r = agon_judge(agon, "--judge", "longer")
    assert judge_summary(r) == (1, 0, 0, 1)

    # Agreement counts the imported battles' human votes too.
    js = judges_api(c)
    L = js["longer"]
    # imported: b/b agree, model_a vs b disagree, tie vs a disagree;
    # live: long agrees, short disagrees -> 2 of 5; no ties: 2 of 4
    # (the unvoted live battle is held back)
    assert (L["judged"], L["pending"], L["compared"], L["compared_no_ties"]) == (5, 1, 5, 4), L
    assert L["agreement"] == pytest.approx(2 / 5) and L["agreement_no_ties"] == pytest.approx(0.5)

    # Without --judge: every judge ("tie" has everything left to do).
    r = agon_judge(agon)
    assert judge_summary(r) == (7 + 1, 6, 0, 2)
    assert (judges_api(c)["tie"]["judged"], judges_api(c)["tie"]["pending"]) == (5, 1)

    # Usage errors.
    r = agon.run("judge", "--db", agon.db, "--config", agon.config, "--judge", "nobody")
    assert r.returncode != 0 and "nobody" in r.stderr
    r = agon.run("judge", "--db", agon.db)
    assert r.returncode == 2 and "usage" in r.stderr
    r = agon.run("judge", "--db", agon.db, "--config", agon.config, "--limit", "0")
    assert r.returncode == 2
    plain = agon_factory([LONG, SHORT], start=False, sub="nojudges")
    r = plain.run("judge", "--db", agon.db, "--config", plain.config)
    assert r.returncode != 0 and "judge" in r.stderr


def test_agon_judge_always_finishes(agon_factory):
    """agon judge must return once every job is done, run after run (an error
    is judged again each time, so every run has work)."""
    agon = start_arena(agon_factory, [("garbage", "judge-garbage-12", {}),
                                      ("longer", "judge-longer-12", {"swap": False})])
    c = agon.client()
    play(c, "finish question one", "long")
    play(c, "finish question two")
    hung = 0
    for i in range(10):
        try:
            r = agon.run("judge", "--db", agon.db, "--config", agon.config, timeout=10)
        except subprocess.TimeoutExpired:
            hung += 1
            continue
        want = (4, 2, 2, 0) if i == 0 else (2, 0, 2, 0)
        assert judge_summary(r) == want, (i, r.stdout)
    assert hung == 0, "agon judge hung in %d of 10 runs" % hung


def test_agon_judge_progress_line_on_a_terminal(agon_factory):
    agon = start_arena(agon_factory, [("slowish", "judge-slow400", {"swap": False,
                                                                     "concurrency": 1})])
    c = agon.client()
    for i in range(3):
        play(c, "progress question %d" % i, "long")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([agon.bin, "judge", "--db", agon.db, "--config", agon.config],
                                stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                                env=agon.env, cwd=str(agon.dir), text=True)
        os.close(slave)
        slave = None
        out = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rl, _, _ = select.select([master], [], [], 0.2)
            if rl:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        stdout, _ = proc.communicate(timeout=30)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    text = out.decode("utf-8", "replace")
    check_sanitizers(text)
    assert proc.returncode == 0, text
    assert re.search(r"\ragon: judged \d+ of 3", text), text
    assert "agon: judged 3 of 3" in text, text
    assert text.endswith("\n") or text.endswith("\r\n"), repr(text[-100:])
    assert JUDGE_OUT.search(stdout).groups() == ("3", "3", "0", "0"), stdout


# ---------------------------------------------------------------------------
# The judge's leaderboard.

def test_judge_leaderboard(agon_factory):
    agon = start_arena(agon_factory, [
        ("longer", "judge-longer-6", {"auto": True}),
        ("always-a", "judge-first-12", {"auto": True, "swap": False}),
        ("first", "judge-first-13", {"auto": True}),
    ], k=8)
    c = agon.client()
    played = [play(c, "board question %d" % i, v)
              for i, v in enumerate(["short", "short", "tie", None, "short"])]
    wait_judged(c, {"longer": 5, "always-a": 5, "first": 5})
    human = leaderboard(c)
    sides = {}
    for p in played:
        b = db_rows(agon, "SELECT model_a, model_b FROM battles WHERE id = ?", p.bid)[0]
        sides[p.bid] = (b["model_a"], b["model_b"])

    unvoted = played[3].bid  # its verdicts are held back (issue 11)
    for name in ("longer", "always-a", "first"):
        lb = leaderboard(c, "?source=judge&judge=" + name)
        assert lb["source"] == "judge" and lb["judge"] == name, lb
        assert lb["votes"] == 4
        # the same shape as the human leaderboard
        assert set(lb) >= set(human) - {"source"}, (set(human), set(lb))
        rows = rows_of(lb)
        assert set(rows) == {LONG.name, SHORT.name}
        for row in rows.values():
            assert set(row) >= set(rows_of(human)[row["model"]]), (row, rows_of(human))
        # Elo replayed from the judge's verdicts in judgment order, with k = 8
        order = db_rows(agon, "SELECT battle_id, verdict FROM judgments WHERE judge = ? "
                        "AND verdict IS NOT NULL ORDER BY id", name)
        outcomes = [(sides[r["battle_id"]][0], sides[r["battle_id"]][1], r["verdict"])
                    for r in order if r["battle_id"] != unvoted]
        exp = expected_ratings(outcomes, k=8, models=[LONG.name, SHORT.name])
        assert {m: r["elo"] for m, r in rows.items()} == \
            {m: pytest.approx(e, abs=1e-9) for m, e in exp.items()}, name
        for m, row in rows.items():
            wins = sum(1 for a, b, w in outcomes if (w == "a" and a == m) or (w == "b" and b == m))
            losses = sum(1 for a, b, w in outcomes
                         if (w == "b" and a == m) or (w == "a" and b == m))
            ties = sum(1 for a, b, w in outcomes if w == "tie" and m in (a, b))
            assert (row["wins"], row["losses"], row["ties"], row["battles"]) == \
                (wins, losses, ties, 4), (name, row)
    L = rows_of(leaderboard(c, "?source=judge&judge=longer"))
    assert L[LONG.name]["wins"] == 4 and L[LONG.name]["elo"] > L[SHORT.name]["elo"]
    F = rows_of(leaderboard(c, "?source=judge&judge=first"))
    assert F[LONG.name]["elo"] == pytest.approx(1000.0) and F[LONG.name]["ties"] == 4
    # the human board is still the humans'
    assert rows_of(leaderboard(c))[SHORT.name]["wins"] == 3

    for q in ("?source=judge", "?source=judge&judge=nobody", "?source=judge&judge=",
              "?source=robots"):
        r = c.get("/api/leaderboard" + q)
        assert r.status == 400, (q, r)
        j = r.json()
        assert isinstance(j.get("error"), dict) and j["error"].get("code"), j
    assert c.get("/api/leaderboard?source=human").status == 200


# ---------------------------------------------------------------------------
# Export and import.

def test_export_includes_judge_verdicts_and_import_skips_them(agon_factory, tmp_path):
    agon = start_arena(agon_factory, [
        ("longer", "judge-longer-8", {"auto": True}),
        ("first", "judge-first-14", {"auto": True}),
        ("garbage", "judge-garbage-8", {"auto": True}),
    ])
    c = agon.client()
    played = [play(c, "export question %d" % i, v)
              for i, v in enumerate(["long", "short", "bothbad", None])]
    wait_judged(c, {"longer": 4, "first": 4, "garbage": 4})
    human_votes = [p for p in played if p.winner]

    r = agon.run("export", "--db", agon.db, "--format", "fastchat")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    people = [x for x in recs if x.get("agon_source") != "judge"]
    robots = [x for x in recs if x.get("agon_source") == "judge"]
    assert [x["question_id"] for x in people] == [p.bid for p in human_votes]
    assert all(not x["judge"].startswith("llm_judge/") for x in people)
    # 4 verdicts from each working judge, none from the garbage one
    assert len(robots) == 8, [x["judge"] for x in robots]
    assert recs[:len(people)] == people  # judges come after the human votes
    by = {(x["judge"], x["question_id"]): x for x in robots}
    fast = {"a": "model_a", "b": "model_b", "tie": "tie"}
    for name in ("longer", "first"):
        rows = judgments(agon, name)
        for p in played:
            x = by[("llm_judge/" + name, p.bid)]
            row = rows[p.bid]
            b = db_rows(agon, "SELECT model_a, model_b FROM battles WHERE id = ?", p.bid)[0]
            assert (x["model_a"], x["model_b"]) == (b["model_a"], b["model_b"])
            assert x["winner"] == fast[row["verdict"]], (x, row)
            assert x["agon_counted"] is False and x["anony"] is True
            assert x["agon_inconsistent"] is (name == "first"), x
            assert x["turn"] == 1 and isinstance(x["tstamp"], (int, float))
    assert all(x["winner"] == "tie" for x in robots if x["judge"] == "llm_judge/first")

    r = agon.run("export", "--db", agon.db, "--format", "jsonl")
    assert r.returncode == 0
    assert [json.loads(x) for x in r.stdout.splitlines() if x.strip()] == recs
    r = agon.run("export", "--db", agon.db, "--format", "csv")
    assert r.returncode == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == len(recs)
    assert sum(1 for x in rows if x["judge"].startswith("llm_judge/")) == 8

    # Import: the judge records are skipped, the human votes come back.
    log = tmp_path / "with-judges.json"
    log.write_text(json.dumps(recs))
    new = agon.new_db("new.db")
    r = agon.run("import", "--db", new, str(log))
    assert r.returncode == 0, r.stderr
    assert re.search(r"imported 3 battles \(0 not counted\)", r.stdout), r.stdout
    assert "8 LLM judge verdicts skipped" in r.stdout, r.stdout
    rec = recompute(agon, new)
    assert rec["votes"] == 3
    live = rows_of(leaderboard(c))
    assert {m["model"]: m["elo"] for m in rec["models"]} == \
        {m: pytest.approx(live[m]["elo"], abs=1e-9) for m in live if live[m]["battles"]}
    assert agon.sql("SELECT count(*) FROM judgments", db=new) == [(0,)]
    assert agon.sql("SELECT count(*) FROM votes", db=new) == [(3,)]
    # an export of the imported database: the human records only
    r = agon.run("export", "--db", new, "--format", "fastchat")
    assert json.loads(r.stdout) == people


def test_boards_follow_agon_judge_run_beside_the_server(agon_factory):
    """Leaderboards are cached until the data changes, and `agon judge` writes
    to the database from another process: the judge's board and the
    judges' correlations must show its verdicts within a moment (the server
    looks for commits of other processes every 0.1 s)."""
    agon = start_arena(agon_factory, [("beside", "judge-longer-21", {})])
    c = agon.client()
    for i in range(3):
        play(c, "judged from outside %d" % i, "short")
    # both boards are built (and cached) before any verdict exists. The
    # server's own commits of the votes above also move the data version
    # (seen within 0.1 s), so the judge's board may be built once more
    # first; from then on it is the same bytes (its fit's bt_updated_at,
    # in milliseconds, would differ if it were built again).
    before = leaderboard(c, "?source=judge&judge=beside")
    assert before["votes"] == 0, before
    deadline = time.monotonic() + 5
    while True:
        time.sleep(0.3)
        again = leaderboard(c, "?source=judge&judge=beside")
        if again == before or time.monotonic() > deadline:
            break
        before = again
    assert again == before
    human = leaderboard(c)
    corr = {(x["signal"], x["name"]): x for x in human["correlations"]}
    assert corr[("judge", "beside")]["models"] == 0, human["correlations"]
    assert judge_summary(agon_judge(agon)) == (3, 3, 0, 0)
    deadline = time.monotonic() + 2
    while True:
        after = leaderboard(c, "?source=judge&judge=beside")
        if after["votes"] == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert after["votes"] == 3, after
    rows = rows_of(after)
    assert rows[LONG.name]["wins"] == 3 and rows[SHORT.name]["losses"] == 3, rows
    # the human board's correlation with the judge now covers both models;
    # the human ratings themselves did not move (their BT fit may still have
    # been catching up with the last vote above, so Elo and counts only)
    human2 = leaderboard(c)
    corr = {(x["signal"], x["name"]): x for x in human2["correlations"]}
    assert corr[("judge", "beside")]["models"] == 2, human2["correlations"]
    counts = lambda lb: {m: (r["elo"], r["wins"], r["losses"], r["ties"])
                         for m, r in rows_of(lb).items()}
    assert human2["votes"] == 3 and counts(human2) == counts(human)
