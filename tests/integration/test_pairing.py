"""Pairing that serves the leaderboard (issue 14): [arena] pairing = uniform |
weighted | active, and the [model] keys weight, boost, boost_until, through the
real binary.

Battles start cheaply against the fake backend; which models each one paired is
read back from the admin API (GET /api/admin/battles lists every battle with
its models), so the tests need not vote to learn them. Frequencies are checked
against the rule's expected probability within 5 standard deviations of a
binomial count: loose enough never to flake, tight enough that the rule that
is not configured would fail (each test says how far).
"""

import json
import math
import signal

from conftest import Model, assert_error, wait_for

TOKEN = "pairing-admin-token-0123456789"


def arena(agon_factory, models, pairing=None, ratings=None, start=True):
    agon = agon_factory(None)
    agon.env["AGON_TEST_ADMIN"] = TOKEN
    agon.write_config(models, server_extra="admin_token_env = AGON_TEST_ADMIN",
                      limits={"max_concurrent_battles": 0})
    text = open(agon.config).read()
    if pairing:
        text += "\n[arena]\npairing = %s\n" % pairing
    if ratings:
        text = text.replace("[ratings]\n", "[ratings]\n" + "".join(
            "%s = %s\n" % kv for kv in ratings.items()), 1)
    open(agon.config, "w").write(text)
    if start:
        agon.start()
    return agon


def auth():
    return {"Authorization": "Bearer " + TOKEN}


def start_battles(c, n, prefix):
    ids = []
    for i in range(n):
        r = c.post("/api/battles", {"prompt": "%s %d: say hi" % (prefix, i)})
        assert r.status == 201, r
        ids.append(r.json()["id"])
    return ids


def pairs_of(c, ids):
    """{battle id: (model_a, model_b)} for ids, from the admin API (a new
    battle is stored by the writer thread, so the last may lag a moment)."""
    got = {}
    wait_for(lambda: len(listed(c, set(ids), got)) == len(ids),
             what="every battle stored")
    return got


def listed(c, want, got):
    offset = 0
    while True:
        r = c.get("/api/admin/battles?limit=1000&offset=%d" % offset, headers=auth())
        assert r.status == 200, r
        j = r.json()
        for b in j["battles"]:
            if b["id"] in want:
                got[b["id"]] = (b["model_a"], b["model_b"])
        if not j.get("next_offset"):
            break
        offset = j["next_offset"]
    return got


def within(count, n, p, sigmas=5):
    sd = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) <= sigmas * sd


def models(n, prefix, extra=None):
    """n models PREFIX-0.. with extra[i]: model i's [model] keys."""
    extra = extra or {}
    return [Model("%s-%d" % (prefix, i), "echo-%s-%d" % (prefix.lower(), i),
                  extra=dict(extra.get(i, {}))) for i in range(n)]


def test_weighted_draws_a_light_model_rarely(agon_factory):
    # weights 0.1, 1, 1, 1: P(a pair holds the light model) = 0.3 / 3.3;
    # uniform would put it in half the battles
    ms = models(4, "Wt", {0: {"weight": "0.1"}})
    agon = arena(agon_factory, ms, pairing="weighted")
    c = agon.client()
    n = 600
    got = pairs_of(c, start_battles(c, n, "w"))
    light = sum(ms[0].name in p for p in got.values())
    p = 0.3 / 3.3
    assert within(light, n, p), (light, n * p)
    assert not within(light, n, 0.5)
    # the others share the rest alike; the sides are swapped at random
    for m in ms[1:]:
        k = sum(m.name in pr for pr in got.values())
        assert within(k, n, 2.1 / 3.3), (m.name, k)
    side_a = sum(pr[0] == ms[0].name for pr in got.values())
    assert within(side_a, light, 0.5) if light else True
    assert all(a != b for a, b in got.values())


def test_default_pairing_without_keys_is_uniform(agon_factory):
    # a config with no [arena] and no weights: every pair alike, as before
    ms = models(3, "Df")
    agon = arena(agon_factory, ms)
    c = agon.client()
    n = 450
    got = pairs_of(c, start_battles(c, n, "d"))
    for m in ms:
        k = sum(m.name in p for p in got.values())
        assert within(k, n, 2 / 3), (m.name, k)
    pair01 = sum({ms[0].name, ms[1].name} == set(p) for p in got.values())
    assert within(pair01, n, 1 / 3)


def test_uniform_ignores_weights(agon_factory):
    ms = models(3, "Un", {0: {"weight": "0.1"}, 1: {"boost": "50"}})
    agon = arena(agon_factory, ms, pairing="uniform")
    c = agon.client()
    n = 450
    got = pairs_of(c, start_battles(c, n, "u"))
    for m in ms:
        assert within(sum(m.name in p for p in got.values()), n, 2 / 3)


def test_boost_stops_after_boost_until_battles(agon_factory):
    # X boosted 20x until 6 counted battles: P(X in a battle) = 40/41; then
    # weight 1 like the others: 2/3
    ms = models(2, "Bo") + [Model("Bo-X", "echo-bo-x",
                                  extra={"boost": "20", "boost_until": "6"})]
    agon = arena(agon_factory, ms, pairing="weighted")
    c = agon.client()
    n = 200
    got = pairs_of(c, start_battles(c, n, "early"))
    x = sum("Bo-X" in p for p in got.values())
    assert within(x, n, 40 / 41), x
    assert not within(x, n, 2 / 3)
    # vote until X has 6 counted battles in the live Elo table
    i = 0
    while True:
        board = {r["model"]: r for r in c.get("/api/leaderboard").json()["models"]}
        if board.get("Bo-X", {}).get("battles", 0) >= 6:
            break
        assert i < 60, board
        bid, es = c.battle("vote %d: say hi" % i)
        assert es.end["status"] == "ready", es.raw[-300:]
        assert c.post("/api/battles/%s/vote" % bid, {"winner": "tie"}).status == 200
        i += 1
        wait_for(lambda: c.get("/api/leaderboard").json()["votes"] >= i,
                 what="the vote counted")
    n = 300
    got = pairs_of(c, start_battles(c, n, "late"))
    x = sum("Bo-X" in p for p in got.values())
    assert within(x, n, 2 / 3), x
    assert not within(x, n, 40 / 41)


def fastchat_log(path, script):
    """script: [(model_a, model_b, winner, count)]: FastChat records, each
    with a prompt of its own (no de-duplication)."""
    lines, q = [], 0
    for a, b, w, k in script:
        for _ in range(k):
            q += 1
            lines.append(json.dumps({
                "question_id": "pair-%d" % q, "model_a": a, "model_b": b,
                "winner": w, "judge": "arena_user_%d" % q, "anony": True,
                "tstamp": 1700000000.0 + q,
                "conversation_a": [{"role": "user", "content": "q %d" % q},
                                   {"role": "assistant", "content": "x %d" % q}],
                "conversation_b": [{"role": "user", "content": "q %d" % q},
                                   {"role": "assistant", "content": "y %d" % q}]}))
    path.write_text("\n".join(lines) + "\n")


def test_active_draws_concentrate_on_the_uncertain_model(agon_factory, tmp_path):
    # A, B, C met 300 times each pair; D met A twice: every difference with D
    # is far the widest, so active draws pairs with D most of the time
    # (> 80%; the weighted rule would give it half the battles)
    ms = [Model("Ac-%s" % x, "echo-ac-%s" % x.lower()) for x in "ABCD"]
    script = []
    for a, b in [("A", "B"), ("A", "C"), ("B", "C")]:
        script += [("Ac-" + a, "Ac-" + b, "model_a", 150), ("Ac-" + a, "Ac-" + b, "model_b", 150)]
    script += [("Ac-D", "Ac-A", "model_a", 1), ("Ac-D", "Ac-A", "model_b", 1)]
    log = tmp_path / "votes.jsonl"
    fastchat_log(log, script)
    results = {}
    for rule in ("active", "weighted"):
        agon = arena(agon_factory, ms, pairing=rule, ratings={"dedup_min_count": 0,
                                                              "bootstrap_rounds": 20},
                     start=False)
        r = agon.run("import", "--db", agon.db, str(log))
        assert r.returncode == 0, r.stderr
        agon.start()
        c = agon.client()
        board = c.get("/api/leaderboard").json()
        assert board["votes"] == 902, board["votes"]
        n = 300
        got = pairs_of(c, start_battles(c, n, rule))
        results[rule] = sum("Ac-D" in p for p in got.values())
    n = 300
    print("pairs with D of %d battles:" % n, results)
    assert results["active"] > 0.8 * n, results
    assert within(results["weighted"], n, 0.5), results
    # the floor: pairs without D still come up
    assert results["active"] < n, results
    # the weighted arena reloaded into active: the worker refits with the
    # scores at once, and the draws follow
    fit = c.get("/api/leaderboard").json()["bt_fit"]
    text = open(agon.config).read().replace("pairing = weighted", "pairing = active")
    open(agon.config, "w").write(text)
    agon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: c.get("/api/leaderboard").json()["bt_fit"] > fit, 30,
             "the refit after the reload")
    got = pairs_of(c, start_battles(c, n, "reloaded"))
    reloaded = sum("Ac-D" in p for p in got.values())
    assert reloaded > 0.8 * n, reloaded


def test_active_before_any_fit_draws_by_weight(agon_factory):
    # no votes, so no fit holds any model: active is weighted
    ms = models(4, "Af", {0: {"weight": "0.1"}})
    agon = arena(agon_factory, ms, pairing="active")
    c = agon.client()
    n = 600
    got = pairs_of(c, start_battles(c, n, "a"))
    light = sum(ms[0].name in p for p in got.values())
    assert within(light, n, 0.3 / 3.3), light


def test_config_errors_name_file_and_line(agon_factory):
    cases = [("[model M-0]", "weight = 0", "weight: expected a number from 0.001 to 1000"),
             ("[model M-0]", "weight = -1", "weight: expected a number from 0.001 to 1000"),
             ("[model M-0]", "boost = 0.5", "boost: expected a number from 1 to 1000"),
             ("[model M-0]", "boost_until = -3", "boost_until: expected a whole number >= 0"),
             ("[arena]", "pairing = random", "pairing: expected uniform, weighted or active")]
    for i, (section, line, message) in enumerate(cases):
        agon = agon_factory(None, sub="cfg%d" % i)
        agon.write_config(models(2, "M"))
        text = open(agon.config).read()
        if section == "[arena]":
            text += "\n[arena]\n" + line + "\n"
        else:
            text = text.replace(section + "\n", section + "\n" + line + "\n", 1)
        open(agon.config, "w").write(text)
        lineno = text.splitlines().index(line) + 1
        r = agon.run("check-config", agon.config, timeout=10)
        assert r.returncode != 0
        assert "%s:%d: %s" % (agon.config, lineno, message) in r.stderr, (r.stderr, lineno)


def test_pairing_keeps_the_public_surfaces_blind(agon_factory):
    # Weights, a boost and the active rule pick the models; nothing public
    # moves with the battles they started until those are voted: not the
    # boards, not /metrics, not /api/models (which shows no weight).
    from test_blindness import sample, PUBLIC_GETS
    from test_judges import fitted
    ms = models(4, "Bl", {0: {"weight": "0.2"}, 1: {"boost": "3", "boost_until": "50"}})
    agon = arena(agon_factory, ms, pairing="active")
    c = agon.client()
    bid, es = c.battle("warm up: say hi")
    assert es.end["status"] == "ready"
    assert c.post("/api/battles/%s/vote" % bid, {"winner": "a"}).status == 200
    def settled():
        style = [c.get("/api/leaderboard?" + q).json()
                 for q in ("style=control", "style=control&language=en")]
        return (fitted(c.get("/api/leaderboard").json())
                and fitted(c.get("/api/leaderboard?language=en").json())
                and all(not s["style"].get("pending") and s["bt_votes"] == 1
                        for s in style[:1])
                and history_done())
    def history_done():
        h = c.get("/api/leaderboard/history").json()
        return h.get("pending") is False and h.get("votes") == 1 and all(
            not c.get(p).json().get("pending") for p in PUBLIC_GETS if "as_of=" in p)
    wait_for(settled, 30, "the first fits and the history")
    # no pairing key on /api/models (its rows carry the model cards, whose
    # open_weights is not a pairing weight)
    for m in c.get("/api/models").json()["models"]:
        assert not {"weight", "boost", "boost_until"} & set(m), m
    before = sample(c)
    for i in range(12):
        _, es = c.battle("blind %d: say hi" % i)
        assert es.end["status"] == "ready"
    after = sample(c)
    for path in PUBLIC_GETS:
        assert before[path] == after[path], (path, before[path], after[path])
