"""What counts as an answer, and what the server's HTML of it may hold.

An upstream answer without text (only reasoning, only tool calls, only whitespace)
fails its side with a clear public message, so the battle cannot be voted on; a
reasoning model's reasoning is kept apart from its answer (events, API, database,
follow-up turns) and shown only as its own field; and the rendered HTML of an
answer never holds a javascript:/data: link or an image."""

from html.parser import HTMLParser

import pytest

from conftest import Model, assert_error, assert_no_leak, fake_backend, forbidden_strings

NO_TEXT = "the model returned no text"


def requests_for(fake, upstream):
    return [r for r in fake.requests()
            if isinstance(r["body"], dict) and r["body"].get("model") == upstream]


def side_of(agon, bid, name):
    """Which side ('a' or 'b') model `name` had, from the database."""
    a, b = agon.sql("SELECT model_a, model_b FROM battles WHERE id = ?", (bid,))[0]
    assert name in (a, b)
    return "a" if a == name else "b"


@pytest.mark.parametrize("upstream", ["reasononly-deep", "toolonly-caller", "blank-mute"])
def test_answer_without_text_fails_its_side(agon_factory, fake, upstream):
    agon = agon_factory([Model("Steady-Writer", "echo-steady-ans"),
                         Model("Quiet-One", upstream)])
    capture = []
    c = agon.client(capture=capture)
    bid, es = c.battle("Please answer in words")
    assert es.end == {"turn": 1, "status": "failed"}, es.events[-4:]
    quiet = side_of(agon, bid, "Quiet-One")
    errors = {e.data["side"]: e.data["message"] for e in es.of("error")}
    assert errors.get(quiet) == NO_TEXT, errors
    assert not [e for e in es.of("done") if e.data["side"] == quiet]

    err = assert_error(c.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    assert err["code"] == "battle_failed"
    assert_error(c.post("/api/battles/%s/turns" % bid, {"prompt": "again"}), 409)
    b = c.get("/api/battles/" + bid).json()
    assert b["status"] == "failed" and b["models"] is None
    t = b["turns"][0]
    assert t["errors"][quiet] == NO_TEXT
    assert t[quiet + "_html"] is None and t[quiet + "_reasoning"] is None
    # the reasoning never became (part of) the answer
    assert "ponderously" not in t[quiet]
    assert t[quiet].strip() == ""
    assert_no_leak(capture, forbidden_strings(agon, fake), "output about the battle")

    # the same after a restart, from the database
    agon.restart()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    b = c2.get("/api/battles/" + bid).json()
    assert b["status"] == "failed" and b["turns"][0]["errors"][quiet]
    err = assert_error(c2.post("/api/battles/%s/vote" % bid, {"winner": "a"}), 409)
    assert err["code"] == "battle_failed"


@pytest.mark.parametrize("upstream", ["reasoning-thinker", "reasoningfield-thinker"])
def test_reasoning_is_kept_apart(agon_factory, fake, upstream):
    agon = agon_factory([Model("Plain-Writer", "echo-plain-ans"),
                         Model("Deep-Thinker", upstream)])
    c = agon.client()
    prompt = "What is the sea?"
    msgs = [{"role": "user", "content": prompt}]
    answer = fake_backend.echo_answer(upstream, msgs)
    thought = fake_backend.reasoning_text(upstream, msgs)
    bid, es = c.battle(prompt)
    assert es.end == {"turn": 1, "status": "ready"}, es.events[-4:]
    deep = side_of(agon, bid, "Deep-Thinker")
    plain = "b" if deep == "a" else "a"

    # the stream: deltas are the answer alone, and no reasoning at all
    # before the vote (that a side reasons would tell a reasoning model)
    assert es.text(deep) == answer
    assert "ponderously" not in es.raw.decode()
    done = {e.data["side"]: e.data for e in es.of("done")}
    assert "reasoning" not in done[deep] and "reasoning" not in done[plain]
    assert "ponderously" not in done[deep]["html"]

    # the API: the answer; the reasoning is null until the vote
    t = c.get("/api/battles/" + bid).json()["turns"][0]
    assert t[deep] == answer and t[deep + "_reasoning"] is None
    assert t[plain + "_reasoning"] is None
    assert "ponderously" not in t[deep + "_html"]
    assert "ponderously" not in c.get("/api/battles/" + bid).raw().decode()

    # the database: its own column
    row = agon.sql("SELECT answer_%s, reasoning_%s, reasoning_%s FROM turns "
                   "WHERE battle_id = ?" % (deep, deep, plain), (bid,))[0]
    assert row == (answer, thought, None)

    # a follow-up: the model gets its answer back, never its reasoning
    assert c.post("/api/battles/%s/turns" % bid, {"prompt": "And the sky?"}).status == 202
    es2 = c.events("/api/battles/%s/events" % bid)
    assert es2.end == {"turn": 2, "status": "ready"}
    last = requests_for(fake, upstream)[-1]["body"]["messages"]
    assert [(m["role"], m["content"]) for m in last] == [
        ("user", prompt), ("assistant", answer), ("user", "And the sky?")]
    turn2 = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer},
             {"role": "user", "content": "And the sky?"}]
    assert es2.text(deep) == fake_backend.echo_answer(upstream, turn2)

    # kept across a restart, and the vote counts (nothing names a model)
    agon.restart()
    c2 = agon.client()
    c2.cookies = dict(c.cookies)
    t = c2.get("/api/battles/" + bid).json()["turns"]
    assert t[0][deep + "_reasoning"] is None  # still blind
    r = c2.post("/api/battles/%s/vote" % bid, {"winner": deep})
    assert r.status == 200, r
    assert r.json()["counted"] is True
    # once voted, the reasoning of every turn, as its own field
    t = c2.get("/api/battles/" + bid).json()["turns"]
    assert t[0][deep + "_reasoning"] == thought
    assert t[1][deep + "_reasoning"] == fake_backend.reasoning_text(upstream, turn2)
    assert t[0][plain + "_reasoning"] is None


def test_identity_in_the_reasoning_is_not_counted(agon_factory, fake):
    """The voter reads the reasoning too: a model named there (here by an alias
    only the reasoning contains) makes the vote not count, as in an answer."""
    agon = agon_factory([Model("Plain-Writer", "echo-plain-ans"),
                         Model("Deep-Thinker", "reasoning-thinker",
                               extra={"aliases": "ponderously"})])
    c = agon.client()
    bid, es = c.battle("Hello")
    assert es.end["status"] == "ready"
    b = c.get("/api/battles/" + bid).json()["turns"][0]
    assert "ponderously" not in b["a"] + b["b"]
    r = c.post("/api/battles/%s/vote" % bid, {"winner": "tie"})
    assert r.status == 200, r
    assert r.json()["counted"] is False


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <a> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.links, self._a = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self._a = [dict(attrs), ""]

    def handle_data(self, data):
        if self._a is not None:
            self._a[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._a is not None:
            self.links.append(tuple(self._a))
            self._a = None


def test_answer_html_has_no_script_links_or_images(agon_factory, fake):
    agon = agon_factory([Model("Echo-One", "echo-one-md"), Model("Echo-Two", "echo-two-md")])
    c = agon.client()
    prompt = ("[x](javascript:alert(1)) [y](JaVaScRiPt:alert(2)) [z]( java&#x09;script:alert(3)) "
              "[d](data:text/html;base64,PHNjcmlwdD4=) ![i](http://evil/x.png) "
              "[ok](https://example.org/ok) <javascript:alert(4)>")
    bid, es = c.battle(prompt)
    assert es.end["status"] == "ready"
    htmls = [e.data["html"] for e in es.of("done")]
    t = c.get("/api/battles/" + bid).json()["turns"][0]
    assert sorted(htmls) == sorted([t["a_html"], t["b_html"]])
    for html in htmls:
        p = Tags()
        p.feed(html)
        p.close()
        assert "img" not in [tag for tag, _ in p.tags], html
        assert not any("src" in attrs for _, attrs in p.tags), html
        hrefs = [attrs["href"] for tag, attrs in p.tags if "href" in attrs]
        assert hrefs == ["http://evil/x.png", "https://example.org/ok"], html
        for attrs, text in p.links:
            if text in ("x", "y", "z", "d", "javascript:alert(4)"):
                assert "href" not in attrs, (text, attrs)
        # the image is its alt text, a plain link to it, never loaded
        assert ({"class": "md-image", "href": "http://evil/x.png"}, "i") in p.links
        assert "javascript:" not in "".join(a.get("href", "") for a, _ in p.links)
