"""Model cards (issue 14): per [model] organization, license, url,
open_weights, context and price; shown on /api/models and the leaderboard
rows, and beside a battle's names only once it is voted (blind before);
config errors name the file and line. And the open-weights board:
GET /api/leaderboard?open_weights=true is the Bradley-Terry fit over the
votes between two open-weights models only, equal to an independent MLE of
those pairs, live after more votes, combinable with language=."""

import re
import signal
from pathlib import Path

from conftest import Model, wait_for
from test_live_ratings import bt_mle, mle_exists, model_of_answer, start_arena

CARDS = {
    "Aurora-9B": {"organization": "Aurora Labs", "license": "Apache-2.0",
                  "url": "https://example.org/aurora", "open_weights": "true",
                  "context": "32768", "price": "free"},
    "Basalt-70B": {"organization": "Basalt Inc.", "license": "Llama 3 Community",
                   "url": "http://example.org/basalt?x=1", "open_weights": "yes"},
    "Cinder-3B": {"organization": "Cinder AI", "license": "proprietary",
                  "url": "https://example.org/cinder", "open_weights": "false",
                  "price": "$0.25 in / $1.25 out per 1M tokens"},
}
OPEN = {"Aurora-9B", "Basalt-70B"}


def models():
    return [Model(n, "echo-%s-up" % n.lower(), extra=dict(CARDS[n])) for n in sorted(CARDS)]


def want_card(name):
    c = CARDS[name]
    return {"organization": c["organization"], "license": c["license"], "url": c["url"],
            "open_weights": name in OPEN,
            "context": int(c["context"]) if "context" in c else None,
            "price": c.get("price")}


def card_of(obj):
    return {k: obj[k] for k in ("organization", "license", "url", "open_weights",
                                "context", "price")}


def play(c, agon, prompt, pick):
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, es.raw[-300:]
    a = model_of_answer(agon, es.text("a"))
    b = model_of_answer(agon, es.text("b"))
    return bid, a, b, pick(a, b)


def test_cards_on_models_and_leaderboard_and_after_the_vote_only(agon_factory):
    agon = start_arena(agon_factory, models())
    c = agon.client()
    r = c.get("/api/models")
    assert r.status == 200
    got = {m["name"]: card_of(m) for m in r.json()["models"]}
    assert got == {n: want_card(n) for n in CARDS}, got
    lb = c.get("/api/leaderboard").json()
    for row in lb["models"] + lb["provisional"]:
        assert card_of(row) == want_card(row["model"]), row
    bid, a, b, _ = play(c, agon, "Hello cards", lambda a, b: None)
    before = c.get("/api/battles/" + bid).json()
    assert before["cards"] is None and before["models"] is None, before
    text = c.get("/api/battles/" + bid).body.decode()
    for n in CARDS:
        for v in (CARDS[n]["organization"], CARDS[n]["url"]):
            assert v not in text, (v, text[:500])
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert r.status == 200
    assert [x["name"] for x in r.json()["cards"]] == [a, b]
    assert [card_of(x) for x in r.json()["cards"]] == [want_card(a), want_card(b)]
    after = c.get("/api/battles/" + bid).json()
    assert [x["name"] for x in after["cards"]] == [a, b], after
    assert [card_of(x) for x in after["cards"]] == [want_card(a), want_card(b)]


def test_cards_are_optional(agon_factory):
    agon = agon_factory([Model("Plain-A", "echo-a"), Model("Plain-B", "echo-b")])
    for m in agon.client().get("/api/models").json()["models"]:
        assert card_of(m) == {"organization": None, "license": None, "url": None,
                              "open_weights": False, "context": None, "price": None}, m


BAD = [
    ("url", "javascript:alert(1)", "url: expected an http:// or https:// URL"),
    ("url", "ftp://example.org/x", "url: expected an http:// or https:// URL"),
    ("url", "https://user:pw@example.org/", "url: no user or password"),
    ("url", "https://exa mple.org/", "url: a URL has no blank"),
    ("url", "https://", "url: not a valid"),
    ("open_weights", "maybe", "open_weights: expected true or false, got 'maybe'"),
    ("context", "0", "context: expected a number of tokens"),
    ("context", "lots", "context: expected a number of tokens"),
    ("organization", "x" * 201, "organization: longer than 200 bytes"),
    ("price", "p" * 201, "price: longer than 200 bytes"),
]


def test_config_errors_name_file_and_line(agon_factory):
    for key, value, msg in BAD:
        agon = agon_factory([Model("Only", "echo-only", extra={key: value}),
                             Model("Other", "echo-other")], start=False)
        lines = open(agon.config).read().splitlines()
        line = 1 + next(i for i, t in enumerate(lines) if t.startswith(key + " ="))
        r = agon.run("check-config", agon.config)
        assert r.returncode == 1, (key, value, r.stdout)
        assert re.search(r"agon\.ini:%d: " % line, r.stderr), (key, line, r.stderr)
        assert msg in r.stderr, (key, value, r.stderr)


def open_board(c, query=""):
    r = c.get("/api/leaderboard?open_weights=true" + query)
    assert r.status == 200, r
    return r.json()


def test_open_weights_board_is_the_mle_over_open_pairs_and_is_live(agon_factory):
    agon = start_arena(agon_factory, models(), ratings={"bootstrap_rounds": 20,
                                                        "min_battles": 0})
    c = agon.client()
    order = {"Aurora-9B": 0, "Basalt-70B": 1, "Cinder-3B": 2}
    triples = []
    i = 0

    def pick(a, b):
        # Cinder (closed) beats everyone; among the open ones Aurora wins
        # two of three, Basalt the rest; a tie every fifth battle
        if i % 5 == 4:
            return "tie"
        if "Cinder-3B" in (a, b):
            return "a" if a == "Cinder-3B" else "b"
        win_first = i % 3 != 2
        w = min(a, b, key=order.get) if win_first else max(a, b, key=order.get)
        return "a" if w == a else "b"

    def play_until(n_open):
        nonlocal i
        while sum(1 for a, b, _ in triples if a in OPEN and b in OPEN) < n_open:
            bid, a, b, w = play(c, agon, "Please tell me something interesting about the history of the printing "
                            "press in Europe, part %d." % i, pick)
            i += 1
            r = c.post("/api/battles/%s/vote" % bid, {"winner": w})
            assert r.status == 200 and r.json()["counted"], r
            triples.append((a, b, w))

    def check():
        opens = [t for t in triples if t[0] in OPEN and t[1] in OPEN]
        assert mle_exists(opens), opens
        want = bt_mle(opens)

        def fitted(lb):
            return (lb["pending"] is False and lb["bt_votes"] == len(opens))
        lb = wait_for(lambda: (lambda x: x if fitted(x) else None)(open_board(c)),
                      what="the open-weights fit")
        assert lb["open_weights"] is True and lb["slice"] is None, lb
        names = [r["model"] for r in lb["models"] + lb["provisional"]]
        assert sorted(names) == sorted(OPEN), names
        rows = {r["model"]: r for r in lb["models"]}
        for m, e in want.items():
            assert abs(rows[m]["bt"] - e) < 0.01, (m, rows[m], e)
            assert rows[m]["ci_low"] <= rows[m]["bt"] <= rows[m]["ci_high"], rows[m]
            won = sum(1 for a, b, w in opens if (w == "a" and a == m) or (w == "b" and b == m))
            assert rows[m]["wins"] == won, (m, rows[m])
        ranked = sorted(want, key=lambda m: -want[m])
        assert [r["model"] for r in lb["models"]] == ranked
        top, second = (want[m] for m in ranked)
        assert [r["rank"] for r in lb["models"]] == ([1, 2] if top - second > 1e-6 else [1, 1])
        # its matrices: the open-weights models only, their battles among themselves
        mx = c.get("/api/leaderboard/matrix?open_weights=true").json()
        assert mx["open_weights"] is True and sorted(mx["models"]) == sorted(OPEN), mx
        for i, x in enumerate(mx["models"]):
            for j, y in enumerate(mx["models"]):
                n = sum(1 for a, b, _ in opens if {a, b} == {x, y})
                assert mx["battles"][i][j] == (n if i != j else mx["battles"][i][j]), (x, y, mx)
        # the whole board still has the closed model on top
        whole = c.get("/api/leaderboard?sort=bt").json()
        assert whole["models"][0]["model"] == "Cinder-3B", whole["models"]
        return lb

    play_until(8)
    first = check()
    play_until(14)
    second = check()
    assert second["bt_fit"] != first["bt_fit"]
    # combined with a language slice: the open pairs of the English battles
    # (every prompt here is English)
    lb = wait_for(lambda: (lambda x: x if x["pending"] is False and x["bt_votes"] ==
                           second["bt_votes"] else None)(open_board(c, "&language=en")),
                  what="the English open-weights fit")
    assert lb["slice"]["key"] == "language=en" and lb["open_weights"] is True
    assert {r["model"]: round(r["bt"], 6) for r in lb["models"]} == \
        {r["model"]: round(r["bt"], 6) for r in second["models"]}

    # a reload that gives Cinder open weights refits the board over all three
    p = Path(agon.config)
    text = p.read_text()
    assert text.count("open_weights = false") == 1
    p.write_text(text.replace("open_weights = false", "open_weights = true"))
    agon.proc.send_signal(signal.SIGHUP)
    lb = wait_for(lambda: (lambda x: x if x["pending"] is False and len(x["models"]) == 3
                           and x["bt_votes"] == len(triples) else None)(open_board(c)),
                  what="the open-weights board after the reload")
    whole = c.get("/api/leaderboard?sort=bt").json()
    want = {r["model"]: r["bt"] for r in whole["models"]}
    for r in lb["models"]:
        assert abs(r["bt"] - want[r["model"]]) < 1e-6, (r, want)


def test_open_weights_errors(agon_factory):
    agon = start_arena(agon_factory, models())
    c = agon.client()
    for q, code in (("open_weights=maybe", "invalid_open_weights"),
                    ("open_weights=true&style=control", "open_weights_combination")):
        r = c.get("/api/leaderboard?" + q)
        assert r.status == 400 and r.json()["error"]["code"] == code, (q, r)
    r = c.get("/api/leaderboard?open_weights=false")
    assert r.status == 200 and "open_weights" not in r.json() or \
        r.json().get("open_weights") is not True
