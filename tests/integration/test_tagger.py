"""LLM taggers and `agon tag` (issue 13, "Leaderboards for the question a user
actually has"), through the real binary and HTTP only.

- A scripted tagger on the fake backend (tag-script: the test chooses every
  reply) tags each battle once it is voted, in the background: hard_prompt,
  math and an admin [category]. A reply that says nothing readable is tried
  again `retries` times and then left untagged, never guessed; a tagger whose
  requests fail (HTTP 500) leaves its category untagged.
- The live boards ?category=math and ?category=<admin category> then hold
  exactly the battles the script put there; /metrics counts the requests,
  the verdicts, the categories left untagged and the queue.
- A blocked tagger delays no battle and no vote; at most `concurrency`
  requests of a tagger are in flight.
- Blindness: a tagger is asked nothing about a battle before its vote; a
  request holds the tagging instructions and the visitor's prompts only (no
  answer, no model); nothing public about slices moves before the vote.
- `agon tag` fills the language, heuristic tags and categories of battles
  stored without them (a FastChat log imported before imports kept them; a
  database from before tags) as the import and a turn's end compute them,
  after which the server's slices (after a restart, or a SIGHUP while
  it runs) and `agon recompute` agree with an independent count.
"""

import json
import re
import signal
import threading
from collections import Counter
from pathlib import Path

import fake_backend
from conftest import Model, assert_no_leak, forbidden_strings, metric, wait_for
from test_live_ratings import model_of_answer, start_arena

MODELS = [Model("Aurora-9B", "echo-aurora-up-11"),
          Model("Basalt-70B", "echo-basalt-up-22"),
          Model("Cinder-3B", "echo-cinder-up-33")]

COOKING = "Is the prompt about cooking, food or recipes?"

MATH = ["What is the derivative of x squared times the sine of x?",
        "Solve the equation three x plus seven equals twenty-two, step by step.",
        "How many different ways can eight people sit around a round table?"]
COOK = ["How long should I boil an egg to get a soft and runny yolk?",
        "Give me a simple recipe for a tomato and basil pasta sauce, please."]
OTHER = ["What are some good habits for getting better sleep during a busy week?",
         "Can you explain why the sky looks blue during the day and red at sunset?"]
# math: never a readable reply (left untagged); readable at the second try
GARBLED = "Tell me something interesting about the history of the bicycle."
FLAKY = "Integrate one over x from one to e, please, and explain the result."
HARD = MATH[:2]   # hard_prompt: six criteria met

YES, NO = "<decision>yes</decision>", "<decision>no</decision>"


class Script:
    """tag-script's replies, as the fake asks for them: (category, prompt)
    -> reply; counts the calls and the most in flight at once."""

    def __init__(self, pause=0.0, gate=None):
        self.calls = Counter()
        self.lock = threading.Lock()
        self.pause = pause          # seconds each reply takes
        self.gate = gate            # a threading.Event every reply waits for
        self.now = self.most = 0

    def reply(self, category, prompt, n):
        if category == "math":
            if prompt == GARBLED or (prompt == FLAKY and n == 1):
                return fake_backend.TAG_GARBAGE
            return YES if prompt in MATH or prompt == FLAKY else NO
        if category == "question: " + COOKING:
            return YES if prompt in COOK else NO
        if category == "hard_prompt":
            return "[1, 2, 3, 4, 6, 7]" if prompt in HARD else "Met: [2, 3]"
        return None

    def __call__(self, category, prompt):
        with self.lock:
            self.calls[(category, prompt)] += 1
            n = self.calls[(category, prompt)]
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if self.gate is not None:
                self.gate.wait(30)
            if self.pause:
                threading.Event().wait(self.pause)
            return self.reply(category, prompt, n)
        finally:
            with self.lock:
                self.now -= 1


def tagger_section(fake, name, upstream, **keys):
    lines = ["[tagger %s]" % name, "base_url = %s" % fake.api_base,
             "model = %s" % upstream, "timeout = 20"]
    for k, v in keys.items():
        lines.append("%s = %s" % (k, str(v).lower() if isinstance(v, bool) else v))
    return "\n".join(lines) + "\n"


def with_taggers(agon, *sections):
    """Append the admin category and sections to agon's config."""
    p = Path(agon.config)
    text = p.read_text().rstrip("\n") + "\n\n[category cooking]\nquestion = %s\n" % COOKING
    for s in sections:
        text += "\n" + s
    p.write_text(text)


def scripted(fake, **keys):
    keys.setdefault("categories", "hard_prompt, math, cooking")
    keys.setdefault("retries", 2)
    return tagger_section(fake, "scripted", "tag-script-1", **keys)


def broken(fake):
    return tagger_section(fake, "broken", "fail500-tagger", categories="creative_writing",
                          retries=1)


def tag_requests(fake, upstream=None):
    return [q for q in fake.requests() if isinstance(q["body"], dict)
            and str(q["body"].get("model", "")).startswith(upstream or ("tag-", "fail500-tagger"))]


def prompt_of(req):
    msgs = req["body"]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user"], msgs
    return fake_backend.tag_prompt(msgs)


def db_rows(agon, sql, *args):
    return agon.sql(sql, args, names=True)


def tags_by_qid(agon):
    """Each stored battle's question id (from its record), language, tags
    and style counts, by question id."""
    rows = db_rows(agon, "SELECT record, language, tags, conv_metadata FROM battles")
    return sorted(({"qid": json.loads(r.pop("record"))["question_id"], **r} for r in rows),
                  key=lambda r: r["qid"])


def slices_of(c):
    r = c.get("/api/leaderboard/slices")
    assert r.status == 200, r
    return {s["key"]: s["votes"] for s in r.json()["slices"]}


def board(c, query):
    r = c.get("/api/leaderboard?" + query)
    assert r.status == 200, (query, r)
    return r.json()


def play(c, agon, prompt, vote="a"):
    """A battle on prompt, voted (unless vote is None): (id, model a, model b)."""
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, es.raw[-300:]
    a = model_of_answer(agon, es.text("a"))
    b = model_of_answer(agon, es.text("b"))
    if vote:
        r = c.post("/api/battles/%s/vote" % bid, {"winner": vote})
        assert r.status == 200 and r.json()["counted"] is True, r
    return bid, a, b, es


def tag_metrics(c):
    return {k: metric(c, "agon_tag_" + k) for k in
            ("queue", "requests_total", "verdicts_total", "errors_total")}


def wait_tagged(c, verdicts, errors, timeout=30):
    """/metrics once the taggers are idle with these counts."""
    seen = {}

    def idle():
        seen.update(tag_metrics(c))
        return dict(seen) if (seen["queue"], seen["verdicts_total"],
                              seen["errors_total"]) == (0, verdicts, errors) else None
    try:
        return wait_for(idle, timeout, "%d verdicts and %d errors" % (verdicts, errors))
    except AssertionError as e:
        raise AssertionError("%s; last seen %r" % (e, seen)) from None


def fitted(c, query, votes):
    got = {}

    def ready():
        got["lb"] = board(c, query)
        return got["lb"]["bt_votes"] == votes
    wait_for(ready, 20, "the fit of %s at %d votes" % (query, votes))
    return got["lb"]


def test_scripted_tagger_fills_the_category_boards(agon_factory, fake):
    script = Script()
    fake.tag_script = script
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1}, start=False)
    with_taggers(agon, scripted(fake, concurrency=2), broken(fake))
    agon.start()
    c = agon.client()
    prompts = MATH + COOK + OTHER + [GARBLED, FLAKY]
    played = {p: play(c, agon, p, "ab"[i % 2]) for i, p in enumerate(prompts)}
    n = len(prompts)
    # scripted: three categories each, but math on GARBLED stays unknown;
    # broken: creative_writing never
    m = wait_tagged(c, 3 * n - 1, 1 + n)
    # scripted: one request each, + 2 retries of GARBLED, + 1 of FLAKY;
    # broken: 1 + 1 retry each
    assert m["requests_total"] == 3 * n + 2 + 1 + 2 * n, m
    assert script.calls[("math", GARBLED)] == 3 and script.calls[("math", FLAKY)] == 2
    assert all(script.calls[(cat, p)] == 1 for p in prompts
               for cat in ("hard_prompt", "question: " + COOKING))
    assert len(tag_requests(fake, "fail500-tagger")) == 2 * n

    # the verdicts as stored: never a guess for GARBLED's math
    rows = db_rows(agon, "SELECT t.prompt, c.category, c.value, c.tagger FROM "
                         "battle_categories c JOIN turns t ON t.battle_id = c.battle_id")
    got = {(r["prompt"], r["category"]): r["value"] for r in rows}
    want = {}
    for p in prompts:
        want[(p, "hard_prompt")] = int(p in HARD)
        want[(p, "cooking")] = int(p in COOK)
        if p != GARBLED:
            want[(p, "math")] = int(p in MATH or p == FLAKY)
    assert got == want
    assert {r["tagger"] for r in rows} == {"scripted"}

    # the boards: exactly the battles the script put in each category
    in_math = [played[p] for p in MATH + [FLAKY]]
    in_cooking = [played[p] for p in COOK]
    sl = slices_of(c)
    assert sl["category=math"] == len(in_math) and sl["language=en&category=math"] == len(in_math)
    assert sl["category=cooking"] == len(in_cooking)
    assert sl["category=hard_prompt"] == len(HARD)
    assert "category=creative_writing" not in sl and "category=instruction_following" not in sl
    assert sl["language=en"] == n
    for query, mine in [("category=math", in_math), ("category=cooking", in_cooking),
                        ("language=en&category=hard_prompt", [played[p] for p in HARD])]:
        lb = fitted(c, query, len(mine))
        assert lb["slice"]["votes"] == len(mine)
        battles = {r["model"]: r["battles"] for r in lb["models"] + lb["provisional"]
                   if r["battles"]}
        want_b = Counter(x for _bid, a, b, _es in mine for x in (a, b))
        assert battles == dict(want_b), (query, battles, want_b)
    assert board(c, "category=creative_writing")["slice"]["votes"] == 0
    # the category's board with style control too, fitted once asked for
    def style_fitted():
        st = board(c, "category=math&style=control")["style"]
        return not st["pending"] and st["battles"] == len(in_math)
    wait_for(style_fitted, 30, "the math board with style control")

    # what a tagger is shown: its instructions and the prompt, nothing of the
    # answers or the models
    answers = [es.text(s) for _b, _a, _b2, es in played.values() for s in "ab"]
    reqs = tag_requests(fake)
    assert reqs
    for q in reqs:
        assert prompt_of(q) in prompts
        assert_no_leak(json.dumps(q["body"]), forbidden_strings(agon) + answers,
                       "a tagger's request")

    # the stored counts replay, and come back after a restart
    agon.stop()
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0 and json.loads(r.stdout)["slice_counts_match"] is True, r.stdout
    fake.clear_requests()
    agon.start()
    c = agon.client()
    assert slices_of(c) == sl
    # nothing is tagged again at start
    assert tag_metrics(c)["requests_total"] == 0 and tag_requests(fake) == []


def test_tagging_is_blind_and_never_delays_a_battle(agon_factory, fake):
    gate = threading.Event()
    script = Script(gate=gate)
    fake.tag_script = script
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1}, start=False)
    with_taggers(agon, scripted(fake, categories="math", concurrency=1))
    agon.start()
    c = agon.client()
    try:
        # battle X is played but not voted: nothing is asked about it
        x, *_ = play(c, agon, MATH[0], vote=None)
        # battles voted while the tagger hangs: they stream and count at once
        for p in COOK + OTHER:
            play(c, agon, p)
        wait_for(lambda: script.now == 1, 10, "the tagger's first request")
        assert tag_metrics(c)["queue"] == len(COOK + OTHER)
        assert slices_of(c)["language=en"] == len(COOK + OTHER)
        assert board(c, "")["votes"] == len(COOK + OTHER)
        gate.set()
        wait_tagged(c, len(COOK + OTHER), 0)
        assert script.most == 1  # concurrency = 1
        # still nothing about X, and nothing public moved for it
        assert [q for q in tag_requests(fake) if prompt_of(q) == MATH[0]] == []
        assert "category=math" not in slices_of(c)
        r = c.get("/api/battles/" + x)
        assert r.status == 200 and r.json()["status"] == "ready"
        assert_no_leak(c.get("/api/leaderboard/slices").body, forbidden_strings(agon))
        # its vote: now it is tagged, and joins the category's board (and
        # the board with style control, fitted before from no battle)
        wait_for(lambda: not board(c, "category=math&style=control")["style"]["pending"],
                 30, "the empty math board with style control")
        gate.clear()
        r = c.post("/api/battles/%s/vote" % x, {"winner": "b"})
        assert r.status == 200
        # the tag lands well after the vote's own refits (their 250 ms
        # debounce): only the tags' refit can move the board then
        wait_for(lambda: script.now == 1, 10, "the request about X")
        threading.Event().wait(1.0)
        gate.set()
        wait_tagged(c, len(COOK + OTHER) + 1, 0)
        assert slices_of(c)["category=math"] == 1
        wait_for(lambda: board(c, "category=math&style=control")["style"].get("battles") == 1,
                 30, "the math board with style control after the tags")
        reqs = [q for q in tag_requests(fake) if prompt_of(q) == MATH[0]]
        assert len(reqs) == 1
        assert reqs[0]["body"]["messages"][1]["content"] == (
            "<user_prompt>\n%s\n</user_prompt>" % MATH[0])
        # stopping with a tagger request in flight is clean
        gate.clear()
        play(c, agon, OTHER[0] + " Once more.")
        wait_for(lambda: script.now == 1, 10, "a request in flight")
        assert agon.stop() == 0
    finally:
        gate.set()


# ---------------------------------------------------------------------------
# agon tag

def conv(turns, side):
    out = []
    for prompt, a, b in turns:
        out += [{"role": "user", "content": prompt},
                {"role": "assistant", "content": a if side == "a" else b}]
    return out


def fastchat_record(qid, ma, mb, winner, turns, t, with_conv=True):
    """A clean-battle record as older FastChat logs have them: no language,
    no category_tag, no conv_metadata."""
    rec = {"question_id": qid, "model_a": ma, "model_b": mb, "winner": winner,
           "judge": "arena_user_test", "turn": len(turns), "anony": True, "tstamp": t}
    if with_conv:
        rec["conversation_a"] = conv(turns, "a")
        rec["conversation_b"] = conv(turns, "b")
    return rec


ANSWER = "Here is a careful answer with enough words to read."
IMPORTED = [
    # (qid, language, coding, model a, model b, winner, prompts)
    ("imp-en", "en", False, "Old-Owl", "Old-Elk", "model_a", [MATH[0]]),
    ("imp-de", "de", False, "Old-Elk", "Old-Yak", "model_b",
     ["Kannst du mir erklären, wie eine Wärmepumpe im Winter das Haus heizt?"]),
    ("imp-ko", "ko", False, "Old-Yak", "Old-Owl", "tie",
     ["오늘 저녁에 친구들과 함께 먹을 만한 간단한 한국 요리를 추천해 주세요."]),
    ("imp-fr", "fr", True, "Old-Owl", "Old-Elk", "model_b",
     ["Écris une fonction en Python qui trie une liste de nombres et explique le code."]),
    ("imp-es", "es", False, "Old-Elk", "Old-Owl", "model_a",
     ["¿Cuáles son los mejores lugares para visitar en Andalucía durante la primavera?",
      "¿Y qué platos típicos de la región debería probar durante el viaje?"]),
    ("imp-ja", "ja", False, "Old-Yak", "Old-Elk", "model_a",
     ["週末に京都を観光するなら、どのお寺を訪れるのがおすすめですか？"]),
]
COOKING_IMPORTED = {"imp-ko", "imp-es"}


def import_log(agon, tmp_path):
    recs = [fastchat_record(q, a, b, w, [(p, ANSWER, ANSWER + " Also more.") for p in ps],
                            1700000000 + i)
            for i, (q, _lang, _code, a, b, w, ps) in enumerate(IMPORTED)]
    recs.append(fastchat_record("imp-noconv", "Old-Owl", "Old-Elk", "model_a",
                                [("x", "y", "z")], 1700000100, with_conv=False))
    log = tmp_path / "fastchat.json"
    log.write_text(json.dumps(recs))
    r = agon.run("import", "--db", agon.db, str(log))
    assert r.returncode == 0 and "imported 7 battles" in r.stdout, (r.stdout, r.stderr)


def imported_slices():
    """{slice key: votes} of the imported battles once tagged."""
    out = Counter()
    for qid, lang, coding, _a, _b, _w, prompts in IMPORTED:
        cats = ["no_short", "no_refusal"] + (["coding"] if coding else []) \
            + (["multi_turn"] if len(prompts) > 1 else [])
        cats += ["math"] if prompts[0] == MATH[0] else []
        cats += ["cooking"] if qid in COOKING_IMPORTED else []
        out["language=" + lang] += 1
        for cat in cats:
            out["category=" + cat] += 1
            out["language=%s&category=%s" % (lang, cat)] += 1
    return dict(out)


class ImportScript(Script):
    def reply(self, category, prompt, n):
        if category == "question: " + COOKING:
            return YES if any(prompt.startswith(p[6][0]) for p in IMPORTED
                              if p[0] in COOKING_IMPORTED) else NO
        if category == "math":
            return YES if prompt == MATH[0] else NO
        return None


def recompute(agon):
    r = agon.run("recompute", "--db", agon.db)
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert out["slice_counts_match"] is True, out
    return out


def test_agon_tag_on_imported_battles(agon_factory, fake, tmp_path):
    script = ImportScript(pause=0.3)
    fake.tag_script = script
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1}, start=False)
    with_taggers(agon, scripted(fake, categories="math, cooking", concurrency=3, auto=False))
    import_log(agon, tmp_path)
    # an import keeps (or computes) the language, tags and style counts; a
    # database imported before imports did has none, nor their slice counts
    imported = tags_by_qid(agon)
    langs = {r["qid"]: r["language"] for r in imported}
    assert all(langs[q] == lang for q, lang, *_ in IMPORTED), langs
    agon.sql("UPDATE battles SET language = NULL, tags = NULL, conv_metadata = NULL")
    agon.sql("DELETE FROM slice_pairs")
    assert recompute(agon)["slices"] == 0

    r = agon.run("tag", "--db", agon.db, "--config", agon.config, timeout=120)
    assert r.returncode == 0, r.stderr
    n = len(IMPORTED)
    assert re.search(r"^tags: %d battles tagged \(\d+ slice counts moved\), 1 without a "
                     r"conversation, 0 errors$" % n, r.stdout, re.M), r.stdout
    assert re.search(r"^scripted: %d battles: %d verdicts \(3 in a category\), 0 left "
                     r"untagged, 1 without a prompt, %d requests$" % (n + 1, 2 * n, 2 * n),
                     r.stdout, re.M), r.stdout
    assert "scripted: %d battles to tag in 2 categories" % (n + 1) in r.stderr
    assert "\r" not in r.stderr  # not a terminal: no progress line
    # at most `concurrency` requests in flight, and every multi-turn prompt
    assert script.most == 3, script.most
    es = [q for q in tag_requests(fake) if prompt_of(q).startswith(IMPORTED[4][6][0])]
    assert es and all(prompt_of(q) == "\n\n".join(IMPORTED[4][6]) for q in es)

    rows = {r["qid"]: r for r in tags_by_qid(agon)}
    for qid, lang, coding, *_rest, prompts in IMPORTED:
        assert rows[qid]["language"] == lang, (qid, rows[qid])
        assert ("coding" in rows[qid]["tags"].split(",")) == coding, rows[qid]
        meta = json.loads(rows[qid]["conv_metadata"])
        assert meta["turns"] == len(prompts), meta
    assert rows["imp-noconv"]["language"] is None
    # what agon tag computed from the records is what the import did (but
    # for the record without a conversation, which it cannot read)
    assert [r for r in tags_by_qid(agon) if r["qid"] != "imp-noconv"] == \
        [r for r in imported if r["qid"] != "imp-noconv"]

    out = recompute(agon)
    want = imported_slices()
    assert out["slices"] == len(want)
    agon.start()
    c = agon.client()
    assert slices_of(c) == want
    agon.stop()

    # again: nothing left but the battle without a conversation
    fake.clear_requests()
    r = agon.run("tag", "--db", agon.db, "--config", agon.config)
    assert r.returncode == 0, r.stderr
    assert "tags: 0 battles tagged" in r.stdout and \
        "scripted: 1 battles: 0 verdicts" in r.stdout, r.stdout
    assert tag_requests(fake) == []
    # usage and errors: exit 2 and 1, as agon judge's
    assert agon.run("tag", "--db", agon.db).returncode == 2
    r = agon.run("tag", "--db", agon.db, "--config", agon.config, "--tagger", "nobody")
    assert r.returncode == 1 and "nobody" in r.stderr
    r = agon.run("tag", "--db", str(tmp_path / "none.db"), "--config", agon.config)
    assert r.returncode == 1 and not (tmp_path / "none.db").exists()


def test_agon_tag_on_battles_stored_before_tags(agon_factory, fake):
    """A database from before schema 0009: battles and counted votes, no
    tags and no slice counts. agon tag gives them what a server that tagged
    them would have; the running server shows it after a SIGHUP."""
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1})
    c = agon.client()
    for i, p in enumerate(MATH + COOK + OTHER):
        play(c, agon, p, "ab"[i % 2])
    ko = "서울에서 부산까지 기차로 가면 시간이 얼마나 걸리는지 알려 주시겠어요?"
    play(c, agon, ko, "tie")
    live = slices_of(c)
    assert live["language=ko"] == 1
    agon.stop()
    agon.sql("UPDATE battles SET language = NULL, tags = NULL, conv_metadata = NULL")
    agon.sql("DELETE FROM slice_pairs")
    assert recompute(agon)["slices"] == 0
    agon.start()
    c = agon.client()
    assert slices_of(c) == {}
    # the style-controlled board has no style counts to fit from
    n = len(MATH + COOK + OTHER) + 1

    def style_is(battles, skipped):
        st = board(c, "style=control")["style"]
        return not st["pending"] and (st["battles"], st["skipped"]) == (battles, skipped)
    wait_for(lambda: style_is(0, n), 30, "the style board without counts")

    # beside the running server; no [tagger]: tags only
    r = agon.run("tag", "--db", agon.db, "--config", agon.config)
    assert r.returncode == 0, r.stderr
    assert "tags: %d battles tagged" % n in r.stdout, r.stdout
    assert "no [tagger NAME] section" in r.stderr
    assert recompute(agon)["slices"] == len(live)
    # the server picks the counts up on SIGHUP
    agon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: slices_of(c) == live, 10, "the slices after SIGHUP")
    fitted(c, "language=ko", 1)
    wait_for(lambda: style_is(n, 0), 30, "the style board with the counts filled in")
    agon.restart()
    assert slices_of(agon.client()) == live
