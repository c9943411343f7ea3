"""Style control on the live boards (issue "Leaderboards for the question a
user actually has"): GET /api/leaderboard?style=control, alone and with a
slice, fitted in the background from the stored style counts of each
battle; equal to an independent minimiser of FastChat's loss on the same
battles (exported), finding a planted preference for length.

Needs numpy and scipy (Debian: python3-numpy, python3-scipy).
"""

import json
import math
import random

from conftest import Model, wait_for
from test_live_ratings import model_of_answer, start_arena
from test_style_control import reference

# Two pairs of twins whose answers vary in length from battle to battle
# (padNNNvarMMM: NNN to NNN+MMM characters of filler); in each pair the
# twins are equally good and one writes ~120 characters more. The A twins
# are better than the B twins; voters also prefer the longer answer (a
# planted length bias that style control must remove).
MODELS = [Model("A-Long", "pad120var200-a-long-up-41"),
          Model("A-Short", "pad0var200-a-short-up-42"),
          Model("B-Long", "pad120var200-b-long-up-43"),
          Model("B-Short", "pad0var200-b-short-up-44")]
PROMPTS = ["What should I pack for a week of hiking in the mountains in autumn?",
           "Can you suggest a simple recipe for dinner with rice and vegetables?",
           "How do airplanes stay in the air, explained for a curious child?",
           "What are good ways to practise a new language every day?"]


def decide(i, a, b, len_a, len_b):
    """The vote of battle i, drawn (seeded by i) from the model style control
    fits: logit P(a wins) = quality(a) - quality(b) + 8 * the length ratio."""
    quality = {"A": 0.7, "B": 0.0}
    d = (len_a - len_b) / (len_a + len_b + 1.0)
    z = quality[a[0]] - quality[b[0]] + 8.0 * d
    u = random.Random(i).random()
    if i % 7 == 6:
        return "tie"
    return "a" if u < 1.0 / (1.0 + math.exp(-z)) else "b"


def board(c, query):
    r = c.get("/api/leaderboard?" + query)
    assert r.status == 200, (query, r)
    return r.json()


def fitted(c, query, votes):
    got = {}

    def ready():
        got["lb"] = board(c, query)
        return (got["lb"]["bt_votes"] == votes and
                not got["lb"].get("style", {}).get("pending"))
    try:
        wait_for(ready, 60, "the fit of %s" % query)
    except AssertionError:
        raise AssertionError("no fit of %d votes for %s: %s" % (
            votes, query, json.dumps(got.get("lb"))[:3000]))
    return got["lb"]


def rows(lb):
    return {m["model"]: m for m in lb["models"] + lb["provisional"]}


def test_style_control_live(agon_factory):
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1,
                                                      "bootstrap_rounds": 20})
    c = agon.client()
    # the first request starts the board's fit: pending, or a board of 0
    first = board(c, "style=control")
    assert first["style_control"] is True and first["slice"] is None
    if first["style"]["pending"]:
        assert first["models"] == [] and first["bt_votes"] == 0
    n = 0
    i = 0
    while n < 80:
        bid, es = c.battle("%s (%d)" % (PROMPTS[i % len(PROMPTS)], i))
        assert es.end == {"turn": 1, "status": "ready"}, es.raw[-300:]
        a = model_of_answer(agon, es.text("a"))
        b = model_of_answer(agon, es.text("b"))
        w = decide(i, a, b, len(es.text("a")), len(es.text("b")))
        r = c.post("/api/battles/%s/vote" % bid, {"winner": w})
        assert r.status == 200 and r.json()["counted"] is True, r
        i += 1
        n += 1

    lb = fitted(c, "style=control", n)
    st = lb["style"]
    assert st["pending"] is False and st["battles"] == n and st["skipped"] == 0, st
    # the same battles, exported, minimised independently
    r = agon.run("export", "--db", agon.db, "--format", "fastchat")
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)
    assert len(recs) == n
    want, beta, used = reference(recs)
    assert used == n
    got = rows(lb)
    for m, x in want.items():
        assert abs(got[m]["bt"] - x) < 0.01, (m, got[m], x)
        assert got[m]["ci_low"] < got[m]["ci_high"], got[m]
    for f, x in beta.items():
        assert abs(st["coefficients"][f]["beta"] - x) < 1e-4, (f, st, beta)
    # the planted preference for length is found: voters' logit moves by
    # 8 per unit of the length ratio, a coefficient of ~0.5-2.5 per
    # standard deviation of the (token) ratio
    assert st["coefficients"]["length"]["beta"] > 0.2, st
    # and agon ratings, offline, on the same battles gives the same figures
    log = agon.dir / "export.json"
    log.write_text(r.stdout)
    off = agon.run("ratings", "--json", "--style-control", "--bootstrap", "0",
                   str(log))
    assert off.returncode == 0, off.stderr
    offline = json.loads(off.stdout)
    for m in offline["models"]:
        assert abs(m["style"]["rating"] - got[m["model"]]["bt"]) < 0.01, (m, got)
    for f, x in offline["style"]["coefficients"].items():
        assert abs(st["coefficients"][f]["beta"] - x) < 1e-6, (f, x, st)

    # (that style control removes most of a planted length bias, on enough
    # battles for the twins' gap to be measured, is test_style_control.py's
    # test_removes_length_bias, offline: 80 battles paired at random leave
    # the gap between twins too noisy to test here)
    # rank change against the whole board
    for m in lb["models"]:
        assert m["rank_change"] == m["overall_rank"] - m["rank"], m

    # combined with a slice: every prompt is English
    en = fitted(c, "style=control&language=en", n)
    assert en["slice"]["key"] == "language=en" and en["slice"]["votes"] == n
    for m, x in want.items():
        assert abs(rows(en)[m]["bt"] - x) < 0.01
    # a slice without battles fits an empty board
    none = fitted(c, "style=control&category=multi_turn", 0)
    assert none["models"] == [] and none["style"]["battles"] == 0


def test_style_boards_of_empty_slices_cost_nothing(agon_factory):
    """Asking for the style board of slices without votes fits nothing in the
    background and keeps nothing: each answers at once, empty and not
    pending, and the boards with votes stay fitted (at most 32 are kept, so
    40 empty ones would otherwise have pushed them out)."""
    agon = start_arena(agon_factory, MODELS, ratings={"bootstrap_rounds": 5})
    c = agon.client()
    bid, es = c.battle(PROMPTS[0])
    assert es.end["status"] == "ready"
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    fitted(c, "style=control", 1)
    codes = [a + b for a in "bcdfg" for b in "aeiouyhk"][:40]
    for code in codes:
        lb = board(c, "style=control&language=" + code)
        assert lb["style"]["pending"] is False and lb["style"]["battles"] == 0, lb
        assert lb["bt_votes"] == 0 and all(m["bt"] is None for m in lb["models"])
    assert board(c, "style=control")["style"]["pending"] is False
