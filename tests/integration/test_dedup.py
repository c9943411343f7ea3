"""De-duplication on the live boards (issue "Leaderboards for the question a
user actually has": prompts repeated more often than the 99.99th percentile
of prompt frequencies are down-sampled to it, on by default, shown in the
board's metadata), through HTTP and the command line.

Live, the decision is made once, in the vote's transaction: a counted vote
whose prompt has then been voted on more than floor(cutoff) times and more
than [ratings] dedup_min_count times counts in the Elo but is left out of
the Bradley-Terry boards (the whole board's pair counts and every slice's).
"""

import json

from conftest import Model, wait_for
from test_live_ratings import start_arena

MODELS = [Model("Heron-7B", "echo-heron-up-51"),
          Model("Ibis-13B", "echo-ibis-up-52")]
REPEATED = "What is a good name for a small grey cat that likes to sleep?"


def cutoff(counts, q=0.9999):
    """pandas' linear quantile of the prompt counts."""
    v = sorted(counts)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def play(c, prompt):
    bid, es = c.battle(prompt)
    assert es.end["status"] == "ready", es.raw[-300:]
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert r.status == 200 and r.json()["counted"] is True, r


def lb(c, query=""):
    r = c.get("/api/leaderboard" + query)
    assert r.status == 200, r
    return r.json()


def test_repeated_prompt_left_out_of_the_bt_boards(agon_factory):
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1,
                                                      "dedup_min_count": 2,
                                                      "bootstrap_rounds": 10})
    c = agon.client()
    first = lb(c)["dedup"]
    assert first == {"enabled": True, "percentile": 0.9999, "min_count": 2,
                     "left_out": 0}, first
    singles = ["Tell me one fact about the city of %s, please." % city
               for city in ("Lisbon", "Oslo", "Lima", "Hanoi", "Quito", "Accra",
                            "Porto", "Riga", "Turin", "Perth", "Cusco",
                            "Dakar", "Nairobi", "Bergen", "Malmo", "Graz",
                            "Sucre", "Kyoto", "Busan", "Leeds")]
    for p in singles:
        play(c, p)
    # the independent count: when the repeated prompt's n-th vote arrives,
    # it is left out when n > floor(cutoff) and n > dedup_min_count
    left = 0
    for n in range(1, 11):
        play(c, REPEATED)
        if n > int(cutoff([1] * len(singles) + [n])) and n > 2:
            left += 1
    assert left == 8
    votes = len(singles) + 10
    got = {}

    def settled():
        got["lb"] = lb(c)
        return got["lb"]["bt_votes"] == votes - left
    wait_for(settled, 20, "the fit of the votes kept")
    board = got["lb"]
    assert board["votes"] == votes, board
    assert board["dedup"]["left_out"] == left, board["dedup"]
    # the Elo counts every counted vote
    assert sum(m["battles"] for m in board["models"]) == 2 * votes
    # and every slice leaves them out too
    en = lb(c, "?language=en")
    assert en["slice"]["votes"] == votes - left, en["slice"]
    assert en["dedup"]["left_out"] == left

    # stored: a restart and the replay agree
    agon.stop()
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["matches"] and rec["pair_counts_match"] and rec["slice_counts_match"], rec
    agon.start()
    c = agon.client()
    wait_for(lambda: lb(c)["bt_votes"] == votes - left, 20, "the fit after a restart")
    assert lb(c)["dedup"]["left_out"] == left


def test_off_with_zero(agon_factory):
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1,
                                                      "dedup_min_count": 0,
                                                      "bootstrap_rounds": 10})
    c = agon.client()
    for i in range(3):
        play(c, "A different question, number %d, about rivers." % i)
    for _ in range(6):
        play(c, REPEATED)
    wait_for(lambda: lb(c)["bt_votes"] == 9, 20, "every vote in the fit")
    d = lb(c)["dedup"]
    assert d["enabled"] is False and d["left_out"] == 0, d
