"""`agon serve --demo`: built-in demo models through the real client code."""

import re
import time

from conftest import Agon


def test_demo_arena(agon_bin, fake, tmp_path):
    agon = Agon(agon_bin, tmp_path / "demo", fake)
    agon.start(["serve", "--demo", "--listen", "127.0.0.1:0"])
    try:
        c = agon.client()
        models = [m["name"] for m in c.get("/api/models").json()["models"]]
        assert len(models) >= 4, models
        assert all("demo" in m.lower() for m in models) or \
            "demo" in c.get("/").body.decode().lower(), "demo models are not labelled as demo"
        lb = c.get("/api/leaderboard").json()
        assert len(lb["models"]) >= 4

        j = c.new_battle("Explain what an arena for language models is.").json()
        bid = j["id"]
        # Streamed at a visible pace: the first piece is there while the
        # answers are still being written.
        first = c.events(j["events"], stop=lambda raw: b"event: delta" in raw)
        assert b"event: delta" in first.raw and b"event: done" not in first.raw, first.raw
        assert c.get("/api/battles/" + bid).json()["status"] == "streaming"
        es = c.events(j["events"], timeout=90)
        assert es.closed, es.raw[-500:]
        assert es.end == {"turn": 1, "status": "ready"}, es.end
        a, b = es.text("a"), es.text("b")
        assert len(a.split()) >= 5 and len(b.split()) >= 5, (a, b)
        # in many pieces
        assert len(es.of("delta")) >= 10
        time.sleep(1.1)  # like a reader: faster votes are not counted (min_vote_seconds)
        v = c.post("/api/battles/%s/vote" % bid, {"winner": "a"})
        assert v.status == 200
        names = v.json()["models"]
        assert names["a"] in models and names["b"] in models and names["a"] != names["b"]
        lb = c.get("/api/leaderboard").json()
        assert lb["votes"] == 1 and lb["models"][0]["model"] == names["a"]

        # Deterministic: the same prompt to the same model gives the same answer.
        first = {names["a"]: a, names["b"]: b}
        for i in range(6):
            bid2, es2 = c.battle("Explain what an arena for language models is.", timeout=90)
            v2 = c.post("/api/battles/%s/vote" % bid2, {"winner": "tie"}).json()["models"]
            for side in ("a", "b"):
                if v2[side] in first:
                    assert es2.text(side) == first[v2[side]], v2[side]
                    return
    finally:
        agon.stop()
        assert not agon.sanitizer_reports(), agon.all_stderr()[-4000:]
