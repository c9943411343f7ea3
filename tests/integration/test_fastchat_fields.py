"""FastChat's language, is_code, is_refusal, conv_metadata, category_tag and
dedup_tag (issue "Leaderboards for the question a user actually has"),
through the real binary: `agon import`, `agon export`, `agon recompute`,
`agon ratings` and HTTP only (the database is read directly to see what an
import stored, and written once to put a tagger's verdicts on live battles,
as the taggers' runner will: it is not in yet).

- An import stores what each record says of its battle, and its counted
  votes count into the slices in the import's own transaction: the slices
  after a start equal what the records say, `agon recompute` replays the
  same, and so does a restart.
- An export writes a live battle's tags in FastChat's fields; importing the
  export into a fresh database gives the same slices, and exporting that
  gives the same records (import -> export -> import -> export).
- dedup_tag: a prompt asked more often than the 99.99th percentile of the
  prompt counts keeps that many battles, as FastChat's deduplication.py;
  `agon ratings --category dedup` computes the same for records without it.
"""

import json
from pathlib import Path

from conftest import run_agon, wait_for
from test_live_ratings import model_of_answer, start_arena
from test_slices import CODING, MODELS, PROMPTS, slices_of

NAMES = {"en": "English", "ko": "Korean", "ja": "Japanese", "zh": "Chinese",
         "es": "Spanish", "de": "German", "fr": "French", "ru": "Russian"}
LANGS = list(NAMES) + ["und"]
CRITERIA = ["specificity", "domain_knowledge", "complexity", "problem_solving",
            "creativity", "technical_accuracy", "real_world"]
REFUSAL = "I'm sorry, but I can't help with that."
# the real log of tests/data (a copy of /work/shared/data's, with its licence)
GENAI = Path(__file__).resolve().parents[1] / "data" / \
    "genai-arena-clean-battle-20240220.json"


def keys_of(lang, cats):
    """The slice keys of a battle, as the server names them."""
    out = []
    if lang and lang != "und":
        out.append("language=" + lang)
    for c in cats:
        out.append("category=" + c)
        if lang and lang != "und":
            out.append("language=%s&category=%s" % (lang, c))
    return out


def count(expected, rec, lang, cats):
    if rec.get("anony") and rec.get("agon_counted", True):
        for k in keys_of(lang, cats):
            expected[k] = expected.get(k, 0) + 1


def record(i, **fields):
    names = [m.name for m in MODELS]
    rec = {"question_id": "fc-%d" % i, "model_a": names[i % 3],
           "model_b": names[(i + 1) % 3],
           "winner": ["model_a", "model_b", "tie", "tie (bothbad)"][i % 4],
           "judge": "arena_user_%d" % (i % 17), "anony": i % 11 != 5,
           "tstamp": 1700000000.0 + i}
    if i % 13 == 6:
        rec["agon_counted"] = False
    rec.update(fields)
    return rec


def fastchat_log():
    """Records of every kind, and the slices they must count into:
    FastChat's fields alone; the same with Agon's own keys (which win);
    a conversation alone (tagged as a live battle is: CLD2, the prompts,
    the answers); a language alone; nothing at all."""
    recs, expected, stored = [], {}, {}
    for i in range(216):
        lang = LANGS[i % 9]
        kind = (i // 9) % 4
        if kind in (0, 1):
            is_code, is_refusal = i % 3 == 0, i % 5 == 0
            turn = 2 if i % 6 == 0 else 1
            user = [3, 40, 800][(i // 3) % 3]
            met = 6 if i % 2 == 0 else 5
            score = i % 6
            math, creative = i % 7 < 3, i % 9 < 4
            tag = {"criteria_v0.1": {c: k < met for k, c in enumerate(CRITERIA)},
                   "creative_writing_v0.1": {"creative_writing": creative,
                                             "score": "yes" if creative else "no"},
                   "if_v0.1": {"if": score >= 4, "score": score}}
            if i % 10 != 9:
                tag["math_v0.1"] = {"math": math}
            cm = {"sum_user_tokens": user, "sum_assistant_a_tokens": 10 + i,
                  "sum_assistant_b_tokens": 20 + i,
                  "header_count_a": {"h1": i % 2, "h2": 0, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                  "header_count_b": {"h1": 0, "h2": 1, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                  "list_count_a": {"ordered": 1, "unordered": i % 4},
                  "list_count_b": {"ordered": 0, "unordered": 2},
                  "bold_count_a": {"**": i % 3, "__": 0},
                  "bold_count_b": {"**": 1, "__": 1}}
            rec = record(i, language=NAMES.get(lang, "unknown"), is_code=is_code,
                         is_refusal=is_refusal, turn=turn, conv_metadata=cm,
                         category_tag=tag)
            heur = {"coding": is_code, "multi_turn": turn >= 2,
                    "long_query": user >= 500, "no_short": user >= 5,
                    "no_refusal": not is_refusal}
            llm = {"hard_prompt": met >= 6, "creative_writing": creative,
                   "instruction_following": score >= 4}
            if i % 10 != 9:
                llm["math"] = math
            if kind == 1:
                # an export of Agon's: its own keys say it exactly
                heur["coding"] = not is_code
                tag["agon_tags_v0.1"] = dict(heur)
                own = {"legal": (i // 4) % 2 == 0, "math": not math}
                tag["agon_categories_v0.1"] = own
                llm.update(own)
            cats = [c for c, v in list(heur.items()) + list(llm.items()) if v]
            stored[rec["question_id"]] = (lang, cm)
        elif kind == 2:
            # no fields: the language by CLD2, the tags from the prompts and
            # the answers, the style counts from the answers
            code = "en" if lang == "und" else lang
            j = (i // 4) % 3
            prompts = [PROMPTS[code][j]]
            if i % 8 == 2:
                prompts.append(PROMPTS[code][(j + 1) % 3])
            refuses = i % 12 == 2
            conv = {}
            for side, last in (("a", "## Sure\n- **first**, then\n- second"),
                               ("b", REFUSAL if refuses else "Here it is.")):
                msgs = []
                for k, p in enumerate(prompts):
                    msgs += [{"role": "user", "content": p},
                             {"role": "assistant",
                              "content": last if k == len(prompts) - 1 else "ok"}]
                conv["conversation_" + side] = msgs
            rec = record(i, **conv)
            cats = [c for c, v in (("coding", any(p in CODING for p in prompts)),
                                   ("multi_turn", len(prompts) > 1),
                                   ("no_short", True),
                                   ("no_refusal", not refuses)) if v]
            lang = code
            stored[rec["question_id"]] = (lang, "counted")
        elif i % 2:
            rec = record(i, language=NAMES.get(lang, "unknown"))
            cats = []
        else:
            rec = record(i)
            lang, cats = None, []
        recs.append(rec)
        count(expected, rec, lang, cats)
    return recs, expected, stored


def stored_battles(agon, db=None):
    rows = agon.sql("SELECT id, record, language, tags, conv_metadata "
                    "FROM battles WHERE source = 'import'", db=db)
    return {json.loads(r[1]).get("question_id", r[0]): r[2:] for r in rows}


def slice_counts(c):
    return {s["key"]: s["votes"] for s in slices_of(c)["slices"]}


def recompute(agon, db=None):
    r = agon.run("recompute", "--db", db or agon.db)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr)
    return json.loads(r.stdout)


def export(agon, db=None, fmt="jsonl"):
    r = agon.run("export", "--db", db or agon.db, "--format", fmt)
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines() if x.strip()]


def test_import_counts_the_slices_the_records_say(agon_factory, tmp_path):
    recs, expected, stored = fastchat_log()
    log = tmp_path / "fields.jsonl"
    log.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1}, start=False)
    r = agon.run("import", "--db", agon.db, str(log))
    assert r.returncode == 0, r.stderr
    assert "imported %d battles" % len(recs) in r.stdout, r.stdout

    # what the import stored: the language, and the style counts (the
    # record's own, or counted from its conversation)
    got = stored_battles(agon)
    for qid, (lang, cm) in stored.items():
        language, _tags, conv_metadata = got[qid]
        assert language == lang, (qid, language, lang)
        if cm == "counted":
            m = json.loads(conv_metadata)
            assert m["header_count_a"]["h2"] == 1 and m["list_count_a"]["unordered"] == 2, m
            assert m["bold_count_a"]["**"] == 1 and m["header_count_b"]["h2"] == 0, m
            assert m["sum_user_tokens"] > 5 and m["sum_assistant_a_tokens"] > 0, m
        else:
            assert json.loads(conv_metadata) == cm, qid
    nothing = [q for q, (language, tags, cm) in got.items()
               if language is None and tags is None and cm is None]
    assert len(nothing) == sum(1 for i in range(216) if (i // 9) % 4 == 3 and i % 2 == 0)

    # the slices as stored, loaded at start
    rc = recompute(agon)
    assert rc["slice_counts_match"] is True and rc["slices"] == len(expected), rc
    agon.start()
    c = agon.client()
    got = slice_counts(c)
    assert got == expected, json.dumps({"got": got, "want": expected}, indent=1,
                                       sort_keys=True)
    langs = {x["code"]: x["votes"] for x in slices_of(c)["languages"]}
    assert set(langs) == set(NAMES), langs
    # a slice's board is fitted on its battles
    key = "language=ko&category=hard_prompt"
    lb = {}

    def fitted():
        lb["lb"] = c.get("/api/leaderboard?language=ko&category=hard_prompt").json()
        return lb["lb"]["bt_votes"] == expected[key]
    wait_for(fitted, 20, "the fit of " + key)
    rows = lb["lb"]["models"] + lb["lb"]["provisional"]
    assert sum(m["battles"] for m in rows) == 2 * expected[key], rows

    # a restart, and the replay after it, agree
    agon.stop()
    assert recompute(agon)["slice_counts_match"] is True
    agon.start()
    assert slice_counts(agon.client()) == expected
    # importing again adds nothing, to the battles or to the slices
    agon.stop()
    r = agon.run("import", "--db", agon.db, str(log))
    assert r.returncode == 0 and "imported 0 battles" in r.stdout, r.stdout
    rc = recompute(agon)
    assert rc["slice_counts_match"] is True and rc["slices"] == len(expected), rc
    # and the export gives the records back as they came
    assert sorted(export(agon), key=lambda x: x["question_id"]) == \
        sorted(recs, key=lambda x: x["question_id"])


def test_a_real_log_without_fields_has_no_slices(agon_factory):
    """GenAI-Arena's log (real votes) has none of the fields: its battles are
    in no slice, and say so as battles stored before tags did."""
    agon = start_arena(agon_factory, MODELS, start=False)
    r = agon.run("import", "--db", agon.db, str(GENAI))
    assert r.returncode == 0, r.stderr
    rc = recompute(agon)
    assert rc["votes"] > 1000 and rc["slice_counts_match"] is True and rc["slices"] == 0, rc
    tags = {v for v in stored_battles(agon).values()}
    assert tags == {(None, None, None)}, tags
    agon.start()
    assert slices_of(agon.client())["slices"] == []


def play(c, agon, prompt, winner="a"):
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, es.raw[-300:]
    sides = (model_of_answer(agon, es.text("a")), model_of_answer(agon, es.text("b")))
    r = c.post("/api/battles/%s/vote" % bid, {"winner": winner})
    assert r.status == 200 and r.json()["counted"] is True, r
    return bid, sides


def test_export_writes_the_fields_and_reads_them_back(agon_factory, tmp_path):
    agon = start_arena(agon_factory, MODELS, ratings={"min_battles": 1})
    c = agon.client()
    lang_of = {}
    for n, (lang, prompts) in enumerate(PROMPTS.items()):
        for k, p in enumerate(prompts):
            bid, _ = play(c, agon, p, "ab"[(n + k) % 2])
            lang_of[bid] = (lang, p in CODING)
    # a two-turn battle
    bid, es = c.battle(PROMPTS["de"][0])
    assert c.post("/api/battles/%s/turns" % bid, {"prompt": PROMPTS["de"][1]}).status == 202
    c.events("/api/battles/%s/events" % bid)
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).status == 200
    lang_of[bid] = ("de", False)
    two_turns = bid
    live = slice_counts(c)
    agon.stop()

    recs = export(agon)
    assert {r["question_id"] for r in recs} == set(lang_of)
    for rec in recs:
        lang, coding = lang_of[rec["question_id"]]
        assert rec["language"] == NAMES[lang], rec
        assert rec["is_code"] is coding and rec["is_refusal"] is False, rec
        own = rec["category_tag"]["agon_tags_v0.1"]
        multi = rec["question_id"] == two_turns
        assert own == {"coding": coding, "multi_turn": multi, "long_query": False,
                       "no_short": True, "no_refusal": True}, rec
        cm = rec["conv_metadata"]
        assert cm["turns"] == rec["turn"] == (2 if multi else 1), cm
        assert cm["sum_user_tokens"] >= 5 and cm["sum_assistant_a_tokens"] > 0, cm
        assert set(cm) >= {"header_count_a", "list_count_b", "bold_count_a"}, cm
        assert rec["dedup_tag"] == {"high_freq": False, "sampled": True}, rec

    # import -> export -> import: the same slices, the same records
    fresh = agon.new_db("fresh.db")
    log = tmp_path / "live.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = agon.run("import", "--db", fresh, str(log))
    assert r.returncode == 0, r.stderr
    assert recompute(agon, fresh)["slice_counts_match"] is True
    assert export(agon, fresh) == recs
    other = start_arena(agon_factory, MODELS, sub="other", start=False)
    r = other.run("import", "--db", other.db, str(log))
    assert r.returncode == 0, r.stderr
    other.start()
    assert slice_counts(other.client()) == live
    other.stop()
    # the offline ratings read the same slices from the export
    for lang, cat in (("ko", None), (None, "coding"), ("de", "multi_turn")):
        args = ["ratings", "--json", "--bootstrap", "0"]
        key = "&".join(x for x in (lang and "language=" + lang,
                                   cat and "category=" + cat) if x)
        if lang:
            args += ["--language", lang]
        if cat:
            args += ["--category", {"multi_turn": "multiturn"}.get(cat, cat)]
        r = agon.run(*args, str(log))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["battles"] == live[key], (key, r.stdout[:300])

    # a tagger's verdicts (written as the taggers' runner will store them)
    # come out in FastChat's shape and Agon's, and back in again
    ko = sorted(b for b, (lang, _) in lang_of.items() if lang == "ko")
    verdicts = {ko[0]: {"hard_prompt": 1, "math": 1, "legal": 1},
                ko[1]: {"math": 0, "creative_writing": 1, "instruction_following": 1},
                ko[2]: {"hard_prompt": 1, "instruction_following": 0}}
    for bid, cats in verdicts.items():
        for cat, v in cats.items():
            agon.sql("INSERT INTO battle_categories VALUES (?, ?, ?, 'test', 1)",
                     (bid, cat, v))
    recs = {r["question_id"]: r for r in export(agon)}
    t0 = recs[ko[0]]["category_tag"]
    assert t0["agon_categories_v0.1"] == {"hard_prompt": True, "legal": True, "math": True}
    assert t0["math_v0.1"] == {"math": True} and "criteria_v0.1" not in t0
    t1 = recs[ko[1]]["category_tag"]
    assert t1["math_v0.1"] == {"math": False}
    assert t1["creative_writing_v0.1"] == {"creative_writing": True, "score": "yes"}
    assert t1["if_v0.1"] == {"if": True, "score": None}
    t2 = recs[ko[2]]["category_tag"]
    assert t2["if_v0.1"] == {"if": False, "score": None}
    log.write_text("".join(json.dumps(r) + "\n" for r in recs.values()))
    tagged = agon.new_db("tagged.db")
    r = agon.run("import", "--db", tagged, str(log))
    assert r.returncode == 0, r.stderr
    rc = recompute(agon, tagged)
    assert rc["slice_counts_match"] is True
    got = dict(agon.sql("SELECT slice, sum(wins_a + wins_b + ties) FROM "
                        "slice_pairs GROUP BY slice", db=tagged))
    want = dict(live)
    for cat in ("hard_prompt", "math", "legal", "creative_writing",
                "instruction_following"):
        n = sum(1 for cats in verdicts.values() if cats.get(cat))
        for k in ("category=" + cat, "language=ko&category=" + cat):
            if n:
                want[k] = n
    assert got == want, (got, want)
    r = agon.run("ratings", "--json", "--bootstrap", "0", "--category", "hard_6",
                 str(log))
    assert json.loads(r.stdout)["battles"] == 2, r.stdout[:300]


def fnv1a(s):
    h = 14695981039346656037
    for byte in s.encode():
        h = ((h ^ byte) * 1099511628211) % 2**64
    return h


def mix(z):
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) % 2**64
    return z ^ (z >> 31)


def quantile(values, q):
    """pandas' Series.quantile (linear)."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def test_dedup_tag_on_a_planted_repeated_prompt(agon_factory, tmp_path):
    # 300 imported battles whose prompts are asked once; live, one prompt
    # asked 8 times and 12 asked once: 313 prompts, the 99.99th percentile
    # of their counts is 1 + 0.9688 * 7 = 7.78, so the planted prompt keeps
    # 7 of its 8 battles
    agon = start_arena(agon_factory, MODELS, start=False)
    log = tmp_path / "once.jsonl"
    with open(log, "w") as f:
        for i in range(300):
            f.write(json.dumps(record(i, conversation_a=[
                {"role": "user", "content": "imported question number %d" % i},
                {"role": "assistant", "content": "answer"}])) + "\n")
    r = agon.run("import", "--db", agon.db, str(log))
    assert r.returncode == 0, r.stderr
    agon.start()
    c = agon.client()
    planted = "What is the capital of France?"
    ids = {}
    for i in range(20):
        p = planted if i % 5 < 2 else "A question asked only once, number %d" % i
        bid, _ = play(c, agon, p, "ab"[i % 2])
        ids[bid] = p
    agon.stop()
    cutoff = quantile([1] * 312 + [8], 0.9999)
    assert 7 < cutoff < 8
    recs = [r for r in export(agon) if r["question_id"] in ids]
    assert len(recs) == 20
    tags = {r["question_id"]: r["dedup_tag"] for r in recs}
    for bid, p in ids.items():
        if p != planted:
            assert tags[bid] == {"high_freq": False, "sampled": True}, (bid, p)
    mine = [b for b, p in ids.items() if p == planted]
    assert all(tags[b]["high_freq"] for b in mine)
    # the one left out: the largest rank of the documented rule
    rank = {b: mix(42 ^ mix(fnv1a(b))) for b in mine}
    dropped = [b for b in mine if not tags[b]["sampled"]]
    assert dropped == [max(mine, key=rank.get)], (dropped, rank)
    # the same every time
    assert {r["question_id"]: r["dedup_tag"] for r in export(agon)
            if r["question_id"] in ids} == tags
    # FastChat's dedup filter on the export: the live records by their tags,
    # the imported ones (as they came, without a tag) computed: none repeats
    out = tmp_path / "export.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in export(agon)))
    r = agon.run("ratings", "--json", "--bootstrap", "0", "--category", "dedup", str(out))
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["dedup"]["computed"] == 300 and j["dedup"]["not_sampled"] == 0, j["dedup"]
    assert j["battles"] == 300 + 20 - 1, j["battles"]  # all, anonymous or not


def test_ratings_dedup_on_a_log(agon_bin, tmp_path):
    """`agon ratings --category dedup` on a log without dedup_tag: the
    percentile and the sample of an independent count."""
    recs = []
    for i in range(3000):
        p = "hi" if i % 60 == 0 else "question %d" % (i // 2 if i % 7 == 0 else i)
        recs.append(record(i, anony=True, conversation_a=[
            {"role": "user", "content": p}, {"role": "assistant", "content": "x"}]))
        recs[-1].pop("agon_counted", None)
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in recs))
    prompts = {}
    for r in recs:
        p = r["conversation_a"][0]["content"] + "\n"
        prompts[p] = prompts.get(p, 0) + 1
    cutoff = quantile(list(prompts.values()), 0.9999)
    dropped = sum(n - int(cutoff) for n in prompts.values() if n > cutoff)
    assert dropped > 0
    r = run_agon(agon_bin, "ratings", "--json", "--bootstrap", "0", "--category",
                 "dedup", str(log))
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert abs(j["dedup"]["cutoff"] - cutoff) < 1e-9, (j["dedup"], cutoff)
    assert j["dedup"]["prompts"] == len(prompts)
    assert j["dedup"]["not_sampled"] == dropped
    assert j["battles"] == 3000 - dropped
    # a record's own dedup_tag is kept as it is
    for rec in recs[:10]:
        rec["dedup_tag"] = {"high_freq": True, "sampled": False}
    log.write_text("".join(json.dumps(r) + "\n" for r in recs))
    r = run_agon(agon_bin, "ratings", "--json", "--bootstrap", "0", "--category",
                 "dedup", str(log))
    j = json.loads(r.stdout)
    assert j["dedup"]["computed"] == 2990
    assert j["battles"] <= 2990
