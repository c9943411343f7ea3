"""Around the vote (issue 14), through the real binary and HTTP only (the
database is read directly only to see what was stored):

- vote reasons and a comment: sent with the vote, checked (unknown reason,
  a reason twice, too many, wrong types, a comment too long, bad UTF-8),
  stored with the vote, shown once voted, exported as Agon's own fields and
  imported back (import -> export -> import keeps them); they change no
  rating; GET /api/arena gives the list.
- sharing a voted battle: refused before the vote, refused to anyone but the
  owner, an unguessable 128-bit token, the link read by a client without a
  cookie (the page and its JSON, no referrer, noindex), idempotent, taken
  back (404 then), kept across a restart, bounded by max_shares.
- the session's own board: two sessions voting differently see different
  boards, each equal to an independent Elo replay of its own counted votes;
  no session sees an empty one; rebuilt from the database after a restart;
  bounded (own_board_votes keeps the newest, own_board_sessions evicts).
"""

import json
import re

from conftest import Client, Model, assert_error, expected_ratings, run_agon
from test_live_ratings import model_of_answer

REASONS = ["more accurate", "clearer", "safer", "better formatted"]


def models3():
    return [Model("Nimbus-Delta-7B", "echo-nimbus-up-31"),
            Model("Cobalt-Quill-13B", "echo-cobalt-up-77"),
            Model("Umber-Lark-3B", "echo-umber-up-5")]


def ready_battle(c, agon, prompt):
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, es.raw[-300:]
    sides = {s: model_of_answer(agon, es.text(s)) for s in ("a", "b")}
    return bid, sides


def vote(c, bid, winner, **extra):
    body = {"winner": winner}
    body.update(extra)
    return c.post("/api/battles/%s/vote" % bid, body)


# ---------------------------------------------------------------------------
# Reasons and comment.

def test_reasons_and_comment_are_stored_shown_and_exported(agon_factory, tmp_path):
    agon = agon_factory(models3())
    c = agon.client()
    s = c.get("/api/arena")
    assert s.status == 200, s
    assert s.json() == {"vote_reasons": REASONS, "max_vote_reasons": 4,
                        "max_vote_comment_chars": 500}, s.json()

    bid, sides = ready_battle(c, agon, "Tell me about rivers")
    before = c.get("/api/battles/" + bid).json()
    assert before["reasons"] == [] and before["comment"] is None, before
    comment = "Plus clair <b>vraiment</b> & \"net\" — ünïcödé 😀"
    r = vote(c, bid, "a", reasons=["clearer", "more accurate"], comment=comment)
    assert r.status == 200, r
    assert r.json()["reasons"] == ["clearer", "more accurate"], r.json()
    assert r.json()["comment"] == comment
    got = c.get("/api/battles/" + bid).json()
    assert got["reasons"] == ["clearer", "more accurate"] and got["comment"] == comment, got

    # a vote without extras, and one with empty ones
    bid2, _ = ready_battle(c, agon, "Tell me about lakes")
    assert vote(c, bid2, "tie").status == 200
    bid3, _ = ready_battle(c, agon, "Tell me about seas")
    assert vote(c, bid3, "b", reasons=[], comment="").status == 200
    for b in (bid2, bid3):
        g = c.get("/api/battles/" + b).json()
        assert g["reasons"] == [] and g["comment"] is None, g

    # as stored, in the vote's row; read back after a restart from the database
    rows = dict(agon.sql("SELECT battle_id, reasons FROM votes"))
    assert json.loads(rows[bid]) == ["clearer", "more accurate"]
    assert rows[bid2] is None and rows[bid3] is None
    assert agon.sql("SELECT comment FROM votes WHERE battle_id = ?", (bid,))[0][0] == comment
    agon.restart()
    c = agon.client()
    got = c.get("/api/battles/" + bid).json()
    assert got["reasons"] == ["clearer", "more accurate"] and got["comment"] == comment

    # reasons change no rating: the live Elo equals a replay of the verdicts
    lb = {m["model"]: m for m in c.get("/api/leaderboard").json()["models"]}
    votes = agon.sql("SELECT b.model_a, b.model_b, v.winner FROM votes v JOIN battles b "
                     "ON b.id = v.battle_id WHERE v.counted = 1 ORDER BY v.seq")
    want = expected_ratings(votes, k=4.0)
    for m, e in want.items():
        assert abs(lb[m]["elo"] - e) < 1e-9, (m, lb[m], e)
    agon.stop()

    # exported as Agon's own fields; import -> export -> import keeps them
    def export(db_path):
        r = agon.run("export", "--db", db_path, "--format", "fastchat")
        assert r.returncode == 0, r.stderr
        return {rec["question_id"]: rec for rec in json.loads(r.stdout)}
    first = export(agon.db)
    assert first[bid]["agon_vote_reasons_v0.1"] == ["clearer", "more accurate"]
    assert first[bid]["agon_vote_comment_v0.1"] == comment
    for b in (bid2, bid3):
        assert "agon_vote_reasons_v0.1" not in first[b] and "agon_vote_comment_v0.1" not in first[b]
    log = tmp_path / "log.json"
    log.write_text(json.dumps(list(first.values())))
    fresh = agon.new_db("fresh.db")
    r = agon.run("import", "--db", fresh, str(log))
    assert r.returncode == 0, r.stderr
    (rs, cm), = [(rs, cm) for rs, cm, rec in agon.sql(
        "SELECT v.reasons, v.comment, b.record FROM votes v JOIN battles b ON "
        "b.id = v.battle_id", db=fresh) if json.loads(rec)["question_id"] == bid]
    assert json.loads(rs) == ["clearer", "more accurate"] and cm == comment
    second = export(fresh)
    assert second[bid]["agon_vote_reasons_v0.1"] == ["clearer", "more accurate"]
    assert second[bid]["agon_vote_comment_v0.1"] == comment
    log2 = tmp_path / "log2.json"
    log2.write_text(json.dumps(list(second.values())))
    again = agon.new_db("again.db")
    assert agon.run("import", "--db", again, str(log2)).returncode == 0
    assert export(again)[bid]["agon_vote_comment_v0.1"] == comment


def test_bad_reasons_and_comments_are_refused(agon_factory):
    agon = agon_factory(models3(), limits={"max_vote_comment_chars": 10})
    c = agon.client()
    bid, _ = ready_battle(c, agon, "Something to vote on")
    bad = [
        ({"reasons": ["more accurate", "funnier"]}, "invalid_reason"),
        ({"reasons": ["clearer", "clearer"]}, "invalid_reason"),
        ({"reasons": "clearer"}, "invalid_reason"),
        ({"reasons": [1]}, "invalid_reason"),
        ({"reasons": REASONS + ["safer"]}, "invalid_reason"),
        ({"reasons": {"clearer": True}}, "invalid_reason"),
        ({"comment": 5}, "invalid_comment"),
        ({"comment": ["x"]}, "invalid_comment"),
        ({"comment": "x" * 11}, "comment_too_long"),
        ({"comment": "é" * 11}, "comment_too_long"),
    ]
    for extra, code in bad:
        r = vote(c, bid, "a", **extra)
        err = assert_error(r, 400)
        assert err["code"] == code, (extra, err)
        assert "funnier" not in err["message"]
    # bad UTF-8 never gets past the JSON parser; a NUL in the comment neither
    raw = b'{"winner": "a", "comment": "\xff\xfe"}'
    r = c.request("POST", "/api/battles/%s/vote" % bid, body=raw)
    assert assert_error(r, 400)["code"] == "invalid_json"
    r = c.request("POST", "/api/battles/%s/vote" % bid,
                  body=b'{"winner": "a", "comment": "a\\u0000b"}')
    assert assert_error(r, 400)["code"] in ("invalid_json", "invalid_comment")
    # nothing was stored by the refusals: the battle still takes its vote
    assert c.get("/api/battles/" + bid).json()["status"] == "ready"
    r = vote(c, bid, "a", comment="é" * 10, reasons=["safer"])
    assert r.status == 200, r
    # a configured list of reasons of the admin's
    other = agon_factory(models3(), sub="own-reasons", start=False)
    text = open(other.config).read() + "\n[arena]\nvote_reasons = Funnier, Kinder\n"
    open(other.config, "w").write(text)
    other.start()
    oc = other.client()
    assert oc.get("/api/arena").json()["vote_reasons"] == ["funnier", "kinder"]
    bid, _ = ready_battle(oc, other, "Tell a joke")
    assert assert_error(vote(oc, bid, "a", reasons=["clearer"]), 400)["code"] == "invalid_reason"
    assert vote(oc, bid, "a", reasons=["kinder"]).status == 200


# ---------------------------------------------------------------------------
# Sharing.

def test_share_a_voted_battle(agon_factory):
    agon = agon_factory(models3())
    owner = agon.client()
    bid, sides = ready_battle(owner, agon, "Share me please")
    stranger = agon.client()
    stranger.get("/")  # a session of its own

    # nothing is shareable before its vote
    r = owner.post("/api/battles/%s/share" % bid, {})
    assert assert_error(r, 409)["code"] == "battle_not_voted"
    r = owner.request("DELETE", "/api/battles/%s/share" % bid)
    assert assert_error(r, 409)["code"] == "battle_not_voted"
    assert assert_error(stranger.post("/api/battles/%s/share" % bid, {}), 403)["code"] == \
        "not_your_battle"
    assert assert_error(owner.post("/api/battles/nope/share", {}), 404)["code"] == \
        "battle_not_found"

    r = vote(owner, bid, "b", reasons=["safer"], comment="<script>alert(1)</script>")
    assert r.status == 200, r
    assert assert_error(stranger.post("/api/battles/%s/share" % bid, {}), 403)["code"] == \
        "not_your_battle"
    nobody = Client(agon.url)
    assert assert_error(nobody.post("/api/battles/%s/share" % bid, {}), 403)["code"] == \
        "not_your_battle"
    r = owner.post("/api/battles/%s/share" % bid, {})
    assert r.status == 200, r
    url = r.json()["url"]
    m = re.fullmatch(r"/s/([0-9a-f]{32})", url)
    assert m, url                      # 128 random bits
    token = m.group(1)
    assert bid not in url
    # the same link every time
    assert owner.post("/api/battles/%s/share" % bid, {}).json()["url"] == url

    # anyone with the link, without a cookie
    page = nobody.get(url)
    assert page.status == 200, page
    assert page.header("Content-Type").startswith("text/html")
    assert page.header("X-Robots-Tag") == "noindex"
    assert page.header("Referrer-Policy") == "no-referrer"
    assert page.header("Set-Cookie") is None
    j = nobody.get("/api/shared/" + token)
    assert j.status == 200, j
    assert j.header("X-Robots-Tag") == "noindex"
    got = j.json()
    assert got["models"] == sides and got["winner"] == "b", got
    assert got["reasons"] == ["safer"] and got["comment"] == "<script>alert(1)</script>"
    assert got["turns"][0]["prompt"] == "Share me please"
    assert got["turns"][0]["a_html"] and got["turns"][0]["b_html"]
    assert "id" not in got

    # unknown tokens
    for t in ("0" * 32, token[:-1] + ("0" if token[-1] != "0" else "1"), "zz", token.upper()):
        assert assert_error(nobody.get("/api/shared/" + t), 404)["code"] == "share_not_found"
        assert assert_error(nobody.get("/s/" + t), 404)["code"] == "share_not_found"

    # kept across a restart
    agon.restart()
    nobody = Client(agon.url)
    assert nobody.get("/api/shared/" + token).json()["models"] == sides
    # taken back by the owner only
    owner = Client(agon.url)
    owner.cookies = dict(stranger.cookies)
    r = owner.request("DELETE", "/api/battles/%s/share" % bid)
    assert assert_error(r, 403)["code"] == "not_your_battle"
    assert nobody.get("/api/shared/" + token).status == 200


def test_unshare_and_new_token(agon_factory):
    agon = agon_factory(models3())
    owner = agon.client()
    bid, _ = ready_battle(owner, agon, "Share then unshare")
    assert vote(owner, bid, "a").status == 200
    url = owner.post("/api/battles/%s/share" % bid, {}).json()["url"]
    nobody = Client(agon.url)
    assert nobody.get(url).status == 200
    r = owner.request("DELETE", "/api/battles/%s/share" % bid)
    assert r.status == 200 and r.json() == {"shared": False}, r
    assert assert_error(nobody.get(url), 404)["code"] == "share_not_found"
    assert assert_error(nobody.get("/api/shared/" + url[3:]), 404)["code"] == "share_not_found"
    agon.restart()
    nobody = Client(agon.url)
    assert nobody.get(url).status == 404
    # shared again: a new link, the old one stays dead
    cookies = dict(owner.cookies)
    owner = Client(agon.url)
    owner.cookies = cookies
    again = owner.post("/api/battles/%s/share" % bid, {}).json()["url"]
    assert again != url
    assert nobody.get(again).status == 200 and nobody.get(url).status == 404


def test_share_twice_at_once_gives_one_link(agon_factory):
    """Shares of one battle racing each other store one token and all get it."""
    import threading
    agon = agon_factory(models3())
    c = agon.client()
    bids = []
    for i in range(3):
        bid, _ = ready_battle(c, agon, "raced share %d" % i)
        assert vote(c, bid, "a").status == 200
        bids.append(bid)
    for bid in bids:
        urls, errors = [], []

        def share():
            cl = Client(agon.url)
            cl.cookies = dict(c.cookies)
            r = cl.post("/api/battles/%s/share" % bid, {})
            (urls if r.status == 200 else errors).append(r.json().get("url", r))
        threads = [threading.Thread(target=share) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(set(urls)) == 1, (urls, errors)
        (token,), = agon.sql("SELECT token FROM shares WHERE battle_id = ?", (bid,))
        assert urls[0] == "/s/" + token
        assert Client(agon.url).get(urls[0]).status == 200


def test_shares_are_bounded(agon_factory):
    agon = agon_factory(models3(), limits={"max_shares": 2})
    c = agon.client()
    ids = []
    for i in range(3):
        bid, _ = ready_battle(c, agon, "bounded share %d" % i)
        assert vote(c, bid, "a").status == 200
        ids.append(bid)
    assert c.post("/api/battles/%s/share" % ids[0], {}).status == 200
    assert c.post("/api/battles/%s/share" % ids[1], {}).status == 200
    r = c.post("/api/battles/%s/share" % ids[2], {})
    assert assert_error(r, 503)["code"] == "too_many_shares"
    # one taken back makes room
    assert c.request("DELETE", "/api/battles/%s/share" % ids[0]).status == 200
    assert c.post("/api/battles/%s/share" % ids[2], {}).status == 200


# ---------------------------------------------------------------------------
# The session's own board.

def own_votes(agon, session_db_path=None):
    """Every counted vote per session, in order, as stored."""
    rows = agon.sql("SELECT b.session, b.model_a, b.model_b, v.winner FROM votes v "
                    "JOIN battles b ON b.id = v.battle_id WHERE v.counted = 1 "
                    "ORDER BY v.seq", db=session_db_path)
    out = {}
    for s, a, b, w in rows:
        out.setdefault(s, []).append((a, b, w))
    return out


def reconnect(agon, client):
    """The same session (cookie) on the restarted server."""
    c = agon.client()
    c.cookies = dict(client.cookies)
    return c


def check_board(board, votes, k=4.0):
    want = expected_ratings(votes, k=k)
    got = {m["model"]: m for m in board["models"]}
    assert set(got) == set(want), (got, want)
    assert board["votes"] == len(votes)
    for m, e in want.items():
        assert abs(got[m]["elo"] - e) < 1e-9, (m, got[m], e)
        wins = sum(1 for a, b, w in votes if (a == m and w == "a") or (b == m and w == "b"))
        losses = sum(1 for a, b, w in votes if (a == m and w == "b") or (b == m and w == "a"))
        ties = sum(1 for a, b, w in votes if m in (a, b) and w in ("tie", "bothbad"))
        assert (got[m]["wins"], got[m]["losses"], got[m]["ties"]) == (wins, losses, ties), m
        assert got[m]["battles"] == wins + losses + ties
    elos = [m["elo"] for m in board["models"]]
    assert elos == sorted(elos, reverse=True)


def test_own_boards(agon_factory):
    agon = agon_factory(models3())
    alice, bob = agon.client(), agon.client()
    alice.get("/")
    bob.get("/")
    assert alice.cookies != bob.cookies
    # before any vote: empty, and empty without a session
    assert alice.get("/api/leaderboard/mine").json()["models"] == []
    r = Client(agon.url).get("/api/leaderboard/mine")
    assert r.status == 200 and r.json()["models"] == [] and r.json()["votes"] == 0
    unvoted, _ = ready_battle(alice, agon, "left unvoted")
    for i in range(6):
        bid, sides = ready_battle(alice, agon, "alice %d" % i)
        # alice always prefers Nimbus when it is there, else a tie
        w = "a" if sides["a"] == "Nimbus-Delta-7B" else \
            "b" if sides["b"] == "Nimbus-Delta-7B" else "tie"
        assert vote(alice, bid, w).status == 200
        bid, sides = ready_battle(bob, agon, "bob %d" % i)
        w = "b" if sides["a"] == "Nimbus-Delta-7B" else \
            "a" if sides["b"] == "Nimbus-Delta-7B" else "bothbad"
        assert vote(bob, bid, w).status == 200
    stored = own_votes(agon)
    assert len(stored) == 2
    sa, sb = alice.cookies["agon_session"], bob.cookies["agon_session"]
    ba = alice.get("/api/leaderboard/mine").json()
    bb = bob.get("/api/leaderboard/mine").json()
    check_board(ba, stored[sa])
    check_board(bb, stored[sb])
    assert ba != bb
    # a vote after the board was read is in it at once (fed by the writer)
    bid, sides = ready_battle(alice, agon, "alice again")
    assert vote(alice, bid, "a").status == 200
    ba2 = alice.get("/api/leaderboard/mine").json()
    check_board(ba2, own_votes(agon)[sa])
    assert ba2["votes"] == ba["votes"] + 1
    # private: nobody else's cookie, nothing of the unvoted battle
    assert Client(agon.url).get("/api/leaderboard/mine").json()["votes"] == 0
    # read back from the database after a restart
    agon.restart()
    alice, bob = reconnect(agon, alice), reconnect(agon, bob)
    check_board(alice.get("/api/leaderboard/mine").json(), own_votes(agon)[sa])
    check_board(bob.get("/api/leaderboard/mine").json(), own_votes(agon)[sb])
    # and a vote after the read-back
    bid, sides = ready_battle(bob, agon, "bob after restart")
    assert vote(bob, bid, "tie").status == 200
    check_board(bob.get("/api/leaderboard/mine").json(), own_votes(agon)[sb])


def test_own_boards_are_bounded(agon_factory):
    agon = agon_factory(models3(), limits={"own_board_votes": 3, "own_board_sessions": 1})
    alice, bob = agon.client(), agon.client()
    alice.get("/")
    bob.get("/")
    for i in range(5):
        bid, sides = ready_battle(alice, agon, "bounded %d" % i)
        assert vote(alice, bid, ["a", "b", "tie", "a", "b"][i]).status == 200
    sa = alice.cookies["agon_session"]
    newest = own_votes(agon)[sa][-3:]
    check_board(alice.get("/api/leaderboard/mine").json(), newest)
    # the two held newest votes move on as more come
    bid, sides = ready_battle(alice, agon, "bounded more")
    assert vote(alice, bid, "a").status == 200
    check_board(alice.get("/api/leaderboard/mine").json(), own_votes(agon)[sa][-3:])
    # one session held: bob's read evicts alice's, whose next read is the
    # database's again, still right
    bid, sides = ready_battle(bob, agon, "bob bounded")
    assert vote(bob, bid, "b").status == 200
    sb = bob.cookies["agon_session"]
    check_board(bob.get("/api/leaderboard/mine").json(), own_votes(agon)[sb])
    check_board(alice.get("/api/leaderboard/mine").json(), own_votes(agon)[sa][-3:])
    check_board(bob.get("/api/leaderboard/mine").json(), own_votes(agon)[sb])


def test_config_keys(agon_bin, tmp_path):
    for key, val, want in [("max_vote_comment_chars", "-1", "max_vote_comment_chars"),
                           ("max_shares", "x", "max_shares"),
                           ("own_board_sessions", "0", "own_board_sessions"),
                           ("own_board_votes", "0", "own_board_votes")]:
        p = tmp_path / ("%s.ini" % key)
        p.write_text("[server]\nlisten = 127.0.0.1:0\ndatabase = %s\n\n[limits]\n%s = %s\n"
                     % (tmp_path / "x.db", key, val))
        r = run_agon(agon_bin, "check-config", str(p))
        assert r.returncode != 0
        assert "%s:6" % p in r.stderr and want in r.stderr, r.stderr


def test_named_battles_take_reasons_and_shares_but_stay_off_the_own_board(agon_factory):
    """A side-by-side battle with chosen models (issue 14's named mode):
    its vote takes reasons and a comment and can be shared like any, but,
    not counted on the boards, it is not on the session's own board
    either; a direct chat is never voted, so never shared."""
    agon = agon_factory(models3())
    c = agon.client()
    r = c.post("/api/battles", {"prompt": "Compare us",
                                "models": ["Cobalt-Quill-13B", "Nimbus-Delta-7B"]})
    assert r.status == 201, r
    bid = r.json()["id"]
    c.events(r.json()["events"])
    r = vote(c, bid, "a", reasons=["safer"], comment="named")
    assert r.status == 200 and r.json()["counted"] is False, r
    g = c.get("/api/battles/" + bid).json()
    assert g["reasons"] == ["safer"] and g["comment"] == "named"
    url = c.post("/api/battles/%s/share" % bid, {}).json()["url"]
    assert Client(agon.url).get(url).status == 200
    assert c.get("/api/leaderboard/mine").json()["votes"] == 0
    # an anonymous vote is on it
    abid, _ = ready_battle(c, agon, "anonymous one")
    assert vote(c, abid, "b").status == 200
    check_board(c.get("/api/leaderboard/mine").json(), own_votes(agon)[c.cookies["agon_session"]])
    assert c.get("/api/leaderboard/mine").json()["votes"] == 1
    r = c.post("/api/battles", {"prompt": "Just you", "models": ["Umber-Lark-3B"]})
    assert r.status == 201, r
    d = r.json()["id"]
    c.events(r.json()["events"])
    err = assert_error(c.post("/api/battles/%s/share" % d, {}), 409)
    assert err["code"] == "battle_not_voted"
