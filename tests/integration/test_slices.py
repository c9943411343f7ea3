"""Leaderboard slices (issue "Leaderboards for the question a user actually
has"), through HTTP and the command line only.

- Every stored turn tags its battle: the language of the visitor's prompts
  (CLD2), and the heuristic categories (coding, multi_turn, long_query,
  no_short, no_refusal).
- A counted vote adds its outcome to every slice its battle is in, in the
  vote's own transaction; GET /api/leaderboard/slices lists them with their
  votes; GET /api/leaderboard?language=L&category=C is the slice's
  Bradley-Terry board, equal to an independent fit of the same battles, with
  each model's rank change against the whole board.
- After a restart the slices are loaded as stored; `agon recompute` replays
  them from the votes and the stored tags.
- Blindness: nothing about slices moves before a battle is voted.

The echo fake answers "[TAG] turn N (M messages): you said: PROMPT", so the
test knows which model is on which side before it votes.
"""

import json

from conftest import Model, wait_for
from test_live_ratings import bt_mle, mle_exists, model_of_answer, start_arena

# Real sentences, as visitors write them: eight languages, coding and not.
PROMPTS = {
    "ko": ["오늘 저녁에 친구들과 함께 먹을 만한 간단한 한국 요리를 추천해 주세요.",
           "서울에서 부산까지 기차로 가면 시간이 얼마나 걸리는지 알려 주시겠어요?",
           "파이썬에서 리스트를 정렬하는 함수를 작성해 주세요. 코드와 함께 설명해 주세요."],
    "ja": ["週末に京都を観光するなら、どのお寺を訪れるのがおすすめですか？",
           "日本語の敬語の使い方について、初心者にも分かるように説明してください。",
           "Pythonで辞書をキーの順に並べ替える関数を書いて、コードを説明してください。"],
    "zh": ["请帮我写一封感谢信，感谢老师这一年来对我的耐心指导。",
           "北京和上海的冬天气候有什么不同？去旅游应该带什么衣服？",
           "请用Python写一个函数，计算列表中所有偶数的和，并解释代码。"],
    "en": ["What are some good habits for getting better sleep during a busy week?",
           "Can you explain why the sky looks blue during the day and red at sunset?",
           "Write a Python function that reverses a linked list and explain its complexity."],
    "es": ["¿Cuáles son los mejores lugares para visitar en Andalucía durante la primavera?",
           "Explícame de manera sencilla cómo funciona la fotosíntesis en las plantas.",
           "Escribe una función en Python que cuente las palabras de un texto y explica el código."],
    "de": ["Welche Bücher sollte man gelesen haben, um die deutsche Literatur besser zu verstehen?",
           "Kannst du mir erklären, wie eine Wärmepumpe im Winter das Haus heizt?",
           "Schreibe eine Funktion in Python, die prüft, ob eine Zahl eine Primzahl ist, und erkläre den Code."],
    "fr": ["Quels sont les plats traditionnels qu'il faut absolument goûter en Provence ?",
           "Peux-tu m'expliquer pourquoi les feuilles des arbres changent de couleur en automne ?",
           "Écris une fonction en Python qui trie une liste de nombres et explique le code."],
    "ru": ["Какие достопримечательности стоит посетить в Санкт-Петербурге летом?",
           "Объясни, пожалуйста, простыми словами, как работает иммунная система человека.",
           "Напиши, пожалуйста, функцию на языке Python, которая находит самый большой элемент в списке чисел, и подробно объясни, как работает этот код."],
}
CODING = {p for ps in PROMPTS.values() for p in ps[2:]}

MODELS = [Model("Aurora-9B", "echo-aurora-up-11"),
          Model("Basalt-70B", "echo-basalt-up-22"),
          Model("Cinder-3B", "echo-cinder-up-33")]
# the model that wins every battle it is in, in each language (but for a tie
# every fifth battle); other battles go to the first in name order, with an
# upset every fourth
FAVOURITE = {"ko": "Cinder-3B", "ja": "Cinder-3B", "zh": "Basalt-70B"}


def decide(i, lang, a, b):
    fav = FAVOURITE.get(lang, "Aurora-9B")
    if i % 5 == 4:
        return "tie"
    if fav in (a, b):
        w = fav
    else:
        w = max(a, b)
        if i % 4 == 3:
            w = b if w == a else a
    return "a" if w == a else "b"


def slices_of(c):
    r = c.get("/api/leaderboard/slices")
    assert r.status == 200, r
    return r.json()


def board(c, query):
    r = c.get("/api/leaderboard?" + query)
    assert r.status == 200, (query, r)
    return r.json()


def play_all(c, agon, rounds):
    """Every prompt `rounds` times, voted by decide(): the votes as
    (language, coding, model_a, model_b, winner)."""
    votes = []
    i = 0
    for rnd in range(rounds):
        for lang, prompts in PROMPTS.items():
            for p in prompts:
                bid, es = c.battle(p if rnd == 0 else "%s (%d)" % (p, rnd))
                assert es.end == {"turn": 1, "status": "ready"}, es.raw[-300:]
                a = model_of_answer(agon, es.text("a"))
                b = model_of_answer(agon, es.text("b"))
                w = decide(i, lang, a, b)
                i += 1
                r = c.post("/api/battles/%s/vote" % bid, {"winner": w})
                assert r.status == 200 and r.json()["counted"] is True, r
                votes.append((lang, p in CODING, a, b, w))
    return votes


def expected_counts(votes):
    """{slice key: votes} as the server must list them."""
    out = {}

    def add(k):
        out[k] = out.get(k, 0) + 1
    for lang, coding, _a, _b, _w in votes:
        cats = ["no_short", "no_refusal"] + (["coding"] if coding else [])
        add("language=" + lang)
        for cat in cats:
            add("category=" + cat)
            add("language=%s&category=%s" % (lang, cat))
    return out


def fitted(c, query, votes):
    """The slice board once its fit covers exactly `votes` votes."""
    got = {}

    def ready():
        got["lb"] = board(c, query)
        return got["lb"]["bt_votes"] == votes
    wait_for(ready, 20, "the fit of %s" % query)
    return got["lb"]


def test_slices_live_restart_and_recompute(agon_factory):
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1,
                                                      "bootstrap_rounds": 20})
    c = agon.client()
    # no slice before a vote
    s0 = slices_of(c)
    assert s0["slices"] == [] and s0["languages"] == [], s0
    names = [x["name"] for x in s0["categories"]]
    assert names[:5] == ["coding", "multi_turn", "long_query", "no_short", "no_refusal"], names
    assert {"hard_prompt", "math", "creative_writing", "instruction_following"} <= set(names)

    votes = play_all(c, agon, 2)
    want = expected_counts(votes)
    got = {s["key"]: s["votes"] for s in slices_of(c)["slices"]}
    assert got == want, json.dumps({"got": got, "want": want}, indent=1)
    langs = {x["code"]: x["votes"] for x in slices_of(c)["languages"]}
    assert langs == {lang: 2 * len(ps) for lang, ps in PROMPTS.items()}, langs

    # each slice's board is the BT fit of exactly its battles
    for query, keep in [
            ("language=ko", lambda v: v[0] == "ko"),
            ("language=en", lambda v: v[0] == "en"),
            ("category=coding", lambda v: v[1]),
            ("language=zh&category=no_short", lambda v: v[0] == "zh")]:
        mine = [(a, b, w) for v in votes if keep(v) for (a, b, w) in [v[2:]]]
        lb = fitted(c, query, len(mine))
        assert lb["slice"]["votes"] == len(mine), lb["slice"]
        assert lb["slice"]["ranked"] is True
        rows = {m["model"]: m for m in lb["models"] + lb["provisional"]}
        for m in rows.values():
            n = sum(1 for a, b, _ in mine if m["model"] in (a, b))
            assert m["battles"] == n, (query, m)
            assert m["wins"] + m["losses"] + m["ties"] == n
        if mle_exists(mine):
            exp = bt_mle(mine)
            for name, r in exp.items():
                assert abs(rows[name]["bt"] - r) < 0.01, (query, name, rows[name], r)
        # the slice's ranks against the whole board's
        overall = board(c, "sort=bt")
        orank = {m["model"]: m["rank"] for m in overall["models"]}
        for m in lb["models"]:
            assert m["overall_rank"] == orank[m["model"]], (m, orank)
            assert m["rank_change"] == orank[m["model"]] - m["rank"], m
        assert "elo" not in lb["models"][0]

    # the Korean and English boards have their own winners: at most one of
    # them leads the whole board, so the other shows a rank change
    # (when the favourite met both others there and won every battle it
    # was in: else, with a tie (every fifth battle) or a model it never
    # met, two models may share the top by the fit's prior, and either may
    # lead: the pairing is random)
    def won(v, fav):
        return (v[4] == "a" and v[2] == fav) or (v[4] == "b" and v[3] == fav)

    def met_all(lang, fav):
        mine = [v for v in votes if v[0] == lang and fav in v[2:4]]
        return ({m for v in mine for m in v[2:4]} == {m.name for m in MODELS}
                and all(won(v, fav) for v in mine))
    ko = fitted(c, "language=ko", sum(1 for v in votes if v[0] == "ko"))
    en = fitted(c, "language=en", sum(1 for v in votes if v[0] == "en"))
    if met_all("ko", "Cinder-3B"):
        assert ko["models"][0]["model"] == "Cinder-3B", ko["models"]
    if met_all("en", "Aurora-9B"):
        assert en["models"][0]["model"] == "Aurora-9B", en["models"]
    if met_all("ko", "Cinder-3B") and met_all("en", "Aurora-9B"):
        assert max(ko["models"][0]["rank_change"],
                   en["models"][0]["rank_change"]) > 0

    # a slice without votes says so; an unknown language is an empty slice
    empty = board(c, "category=multi_turn")
    assert empty["slice"]["ranked"] is False and empty["slice"]["votes"] == 0
    assert empty["models"] == [] and "too few battles" in empty["slice"]["message"]
    assert board(c, "language=sw")["slice"]["votes"] == 0

    # restart: the slices come back as stored, and the replay agrees
    agon.stop()
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["slice_counts_match"] is True and rec["slices"] == len(want), rec
    agon.start()
    c = agon.client()
    got = {s["key"]: s["votes"] for s in slices_of(c)["slices"]}
    assert got == want
    fitted(c, "language=ko", sum(1 for v in votes if v[0] == "ko"))


def test_slices_stay_blind_until_the_vote(agon_factory):
    """A battle's tags come partly from its answers (no_refusal): nothing
    about slices may move before the vote."""
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1})
    c = agon.client()
    before = c.get("/api/leaderboard/slices").body
    bid, es = c.battle(PROMPTS["ko"][0])
    assert es.end["status"] == "ready"
    assert c.get("/api/leaderboard/slices").body == before
    lb = board(c, "language=ko")
    assert lb["slice"]["votes"] == 0 and lb["models"] == []
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
    assert r.status == 200
    wait_for(lambda: board(c, "language=ko")["slice"]["votes"] == 1, 10,
             "the vote in the Korean slice")


def test_slice_matrix(agon_factory):
    """GET /api/leaderboard/matrix?language=&category= gives the matrices of
    the slice: its own battle counts and win fractions, and the predictions of
    its own fit, the one its board shows."""
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1,
                                                      "bootstrap_rounds": 20})
    c = agon.client()
    votes = play_all(c, agon, 1)
    for query, keep in [
            ("language=ko", lambda v: v[0] == "ko"),
            ("category=coding", lambda v: v[1]),
            ("language=zh&category=no_short", lambda v: v[0] == "zh"),
            ("", lambda v: True)]:
        mine = [v[2:] for v in votes if keep(v)]
        lb = fitted(c, query or "sort=bt", len(mine))
        r = c.get("/api/leaderboard/matrix" + ("?" + query if query else ""))
        assert r.status == 200, (query, r)
        mx = r.json()
        assert mx["bt_fit"] == lb["bt_fit"], (query, mx["bt_fit"], lb["bt_fit"])
        if query:
            want = dict(kv.split("=") for kv in query.split("&"))
            assert mx["slice"] == {"key": query,
                                   "language": want.get("language"),
                                   "category": want.get("category")}, mx
        else:
            assert "slice" not in mx
        names = mx["models"]
        assert sorted(names) == sorted(m.name for m in MODELS)
        bt = {m["model"]: m["bt"] for m in lb["models"] + lb["provisional"]}
        for i, x in enumerate(names):
            for j, y in enumerate(names):
                games = [w for a, b, w in mine if {a, b} == {x, y} and x != y]
                won = sum(1.0 if (w == "a") == (a == x) else 0.0
                          for a, b, w in mine
                          if {a, b} == {x, y} and x != y and w in ("a", "b"))
                won += 0.5 * sum(1 for w in games if w == "tie")
                assert mx["battles"][i][j] == len(games), (query, x, y, mx)
                if games:
                    assert abs(mx["win_fraction"][i][j] - won / len(games)) < 1e-12
                else:
                    assert mx["win_fraction"][i][j] is None
                if i != j and bt[x] is not None and bt[y] is not None:
                    p = 1 / (1 + 10 ** ((bt[y] - bt[x]) / 400))
                    assert abs(mx["predicted"][i][j] - p) < 1e-9, (query, x, y)
                else:
                    assert mx["predicted"][i][j] is None, (query, x, y)
        assert sum(map(sum, mx["battles"])) == 2 * len(mine)

    # a slice without votes: nothing to show, and nothing predicted
    mx = c.get("/api/leaderboard/matrix?category=multi_turn").json()
    n = len(MODELS)
    assert mx["battles"] == [[0] * n for _ in range(n)], mx
    assert mx["win_fraction"] == [[None] * n for _ in range(n)]
    assert mx["predicted"] == [[None] * n for _ in range(n)]
    # the slice's arguments are checked as the board checks them
    for query, code in [("language=KO", "invalid_language"),
                        ("language=x1", "invalid_language"),
                        ("category=bogus", "invalid_category"),
                        ("language=ko&style=bold", "invalid_style")]:
        r = c.get("/api/leaderboard/matrix?" + query)
        assert r.status == 400 and r.json()["error"]["code"] == code, (query, r)
