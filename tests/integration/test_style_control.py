"""`agon ratings --style-control` against an independent minimiser of
FastChat's style-control loss, on synthetic logs with a planted style
effect; and the --language and --category filters.

- The reference: the features of FastChat's preprocess_for_style (ratios
  (a - b) / (a + b + 1) of tokens, headers, list items and bold spans,
  standardised with numpy's population std), the loss of its
  contextual_bt_loss_and_grad (ln 10 logit, reg 0.5 on ratings and
  coefficients), minimised with scipy.optimize to a gradient below 1e-9;
  ratings 1000 + 400 r. agon must match to 0.01 rating points and 1e-4 on
  the coefficients.
- Counts come from conv_metadata for most records, and from the
  conversations for the others: the test counts those with FastChat's
  regular expressions (add_markdown_info.py, code blocks removed its way)
  and our token rule (server/tag/style_count.h; the texts are ASCII).
- A weak model that writes long answers ranks high without style control
  and near its planted strength with it.

Needs numpy and scipy (Debian: python3-numpy, python3-scipy).
"""

import json
import math
import random
import re

import numpy as np
import pytest
from scipy.optimize import minimize

from conftest import run_agon

LN10 = math.log(10.0)
# planted strengths on the Elo scale; weak-long is as weak as weak, but its
# answers are four times as long
STRENGTH = {"strong": 1150.0, "mid": 1050.0, "weak": 950.0,
            "weak-long": 950.0, "bottom": 900.0}
LENGTH_EFFECT = 1.5   # logit per unit of the raw length ratio
LIST_EFFECT = 0.4
CRITERIA = ["specificity", "domain_knowledge", "complexity",
            "problem_solving", "creativity", "technical_accuracy",
            "real_world"]


# ---------------------------------------------------------------------------
# Counting, re-stated: FastChat's Markdown regexes, and our token rule for
# ASCII text (digits ceil(n/3), letters ceil(n/6), punctuation ceil(n/2)).

CODE = re.compile("```([^`]*)```")


def markdown_counts(text):
    for block in CODE.findall(text):
        text = text.replace(block, "")
    headers = sum(len(re.findall(r"^#{%d}\s" % k, text, re.MULTILINE))
                  for k in range(1, 7))
    lists = (len(re.findall(r"^\s*\d+\.\s", text, re.MULTILINE)) +
             len(re.findall(r"^\s*[-*+]\s", text, re.MULTILINE)))
    bold = (len(re.findall(r"\*\*[^*\n]+\*\*", text)) +
            len(re.findall(r"__[^_\n]+__", text)))
    return headers, lists, bold


def ascii_tokens(text):
    assert text.isascii()
    def cls(ch):
        if ch.isdigit():
            return "d"
        if ch.isalpha():
            return "l"
        if 0x20 < ord(ch) < 0x7f:
            return "p"
        return None
    per = {"d": 3, "l": 6, "p": 2}
    total, run, cur = 0, 0, None
    for ch in text + "\0":
        k = cls(ch) if ch != "\0" else None
        if k != cur or ch == "\0":
            if cur:
                total += -(-run // per[cur])
            cur, run = k, 0
        run += 1
    return total


def side_counts(conv):
    text = "\n".join(t["content"] for t in conv if t["role"] == "assistant")
    return (ascii_tokens(text),) + markdown_counts(text)


def meta_counts(cm, side):
    def val(v):
        return v if isinstance(v, (int, float)) else sum(v.values())
    return tuple(val(cm[k % side]) for k in (
        "sum_assistant_%s_tokens", "header_count_%s", "list_count_%s",
        "bold_count_%s"))


def record_counts(rec):
    """(counts_a, counts_b), or None when the record has none."""
    cm = rec.get("conv_metadata")
    if cm and "bold_count_b" in cm:
        return meta_counts(cm, "a"), meta_counts(cm, "b")
    if "conversation_a" in rec:
        return side_counts(rec["conversation_a"]), side_counts(rec["conversation_b"])
    return None


# ---------------------------------------------------------------------------
# Synthetic logs.

WORDS = ["the", "model", "answer", "is", "a", "long", "explanation", "of",
         "results", "data", "we", "can", "see", "that", "1234", "x2"]


def answer_text(rng, words, items, headers, bold, code):
    lines = []
    for h in range(headers):
        lines.append("#" * rng.randint(1, 3) + " Part %d" % h)
    body = " ".join(rng.choice(WORDS) for _ in range(words))
    lines.append(body + ".")
    for i in range(items):
        lines.append(("%d. " % (i + 1) if i % 2 else "- ") + rng.choice(WORDS))
    for _ in range(bold):
        lines.append("Note: **" + rng.choice(WORDS) + "** here.")
    if code:
        lines.append("```python\n# not a header\n- not a list\nx = 1\n```")
    return "\n".join(lines)


def make_log(n, seed=1, long_factor=4):
    rng = random.Random(seed)
    names = list(STRENGTH)
    recs = []
    for k in range(n):
        a, b = rng.sample(names, 2)
        rec = {"model_a": a, "model_b": b, "anony": True, "tstamp": k,
               "judge": "u%d" % (k % 97), "question_id": "q%d" % k}
        lang = rng.random()
        rec["language"] = ("English" if lang < 0.55 else "en" if lang < 0.6
                           else "Chinese" if lang < 0.85 else "German")
        if rng.random() < 0.8:
            # counts in conv_metadata, as FastChat writes them
            la = rng.randint(40, 300) * (long_factor if a == "weak-long" else 1)
            lb = rng.randint(40, 300) * (long_factor if b == "weak-long" else 1)
            cm = {"sum_user_tokens": rng.choice([3, 40, 700]),
                  "turns": 1}
            for side, length in (("a", la), ("b", lb)):
                cm["sum_assistant_%s_tokens" % side] = length
                cm["header_count_%s" % side] = {
                    "h%d" % i: rng.randint(0, 1) for i in range(1, 7)}
                cm["list_count_%s" % side] = {
                    "ordered": rng.randint(0, 4), "unordered": rng.randint(0, 4)}
                cm["bold_count_%s" % side] = {
                    "**": rng.randint(0, 3), "__": rng.randint(0, 1)}
            rec["conv_metadata"] = cm
            rec["turn"] = rng.choice([1, 1, 2])
            rec["category_tag"] = {
                "criteria_v0.1": {c: rng.random() < 0.75 for c in CRITERIA},
                "math_v0.1": {"math": rng.random() < 0.3},
                "if_v0.1": {"if": rng.random() < 0.4, "score": 3},
                "creative_writing_v0.1": {"creative_writing": rng.random() < 0.2,
                                          "score": "no"}}
            rec["is_code"] = rng.random() < 0.25
        else:
            # only the conversations: agon counts them
            turns = rng.choice([1, 2])
            convs = {}
            for side, m in (("a", a), ("b", b)):
                conv = []
                for t in range(turns):
                    words = rng.randint(10, 60) * (long_factor if m == "weak-long" else 1)
                    conv.append({"role": "user", "content": "question %d?" % t})
                    conv.append({"role": "assistant", "content": answer_text(
                        rng, words, rng.randint(0, 4), rng.randint(0, 2),
                        rng.randint(0, 2), rng.random() < 0.3)})
                convs[side] = conv
            rec["conversation_a"], rec["conversation_b"] = convs["a"], convs["b"]
            rec["turn"] = turns
        ca, cb = record_counts(rec)
        ratio = lambda i: (ca[i] - cb[i]) / (ca[i] + cb[i] + 1.0)
        z = (LN10 * (STRENGTH[a] - STRENGTH[b]) / 400.0 +
             LENGTH_EFFECT * ratio(0) + LIST_EFFECT * ratio(2))
        p = 1.0 / (1.0 + math.exp(-z))
        u = rng.random()
        rec["winner"] = ("model_a" if u < 0.9 * p else "model_b" if u < 0.9
                         else rng.choice(["tie", "tie (bothbad)"]))
        recs.append(rec)
    return recs


# ---------------------------------------------------------------------------
# The reference fit: FastChat's loss, minimised by scipy.

def reference(recs):
    models = sorted({r["model_a"] for r in recs} | {r["model_b"] for r in recs})
    ix = {m: i for i, m in enumerate(models)}
    rows = [(r, record_counts(r)) for r in recs]
    rows = [(r, c) for r, c in rows if c is not None]
    A = np.array([ix[r["model_a"]] for r, _ in rows])
    B = np.array([ix[r["model_b"]] for r, _ in rows])
    y = np.array([{"model_a": 1.0, "model_b": 0.0}.get(r["winner"], 0.5)
                  for r, _ in rows])
    ca = np.array([c[0] for _, c in rows], dtype=float)
    cb = np.array([c[1] for _, c in rows], dtype=float)
    d = (ca - cb) / (ca + cb + 1.0)
    mean, std = d.mean(axis=0), d.std(axis=0)
    X = np.where(std > 0, (d - mean) / np.where(std > 0, std, 1.0), 0.0)
    n = len(models)

    def loss(p):
        r, beta = p[:n], p[n:]
        z = LN10 * (r[A] - r[B]) + X @ beta
        f = np.sum(np.logaddexp(0.0, z) - y * z) + 0.25 * p @ p
        e = 1.0 / (1.0 + np.exp(-z)) - y
        g = 0.5 * p
        np.add.at(g, A, LN10 * e)
        np.add.at(g, B, -LN10 * e)
        g[n:] += X.T @ e
        return f, g

    # the design matrix of the logit: z = D @ p
    D = np.zeros((len(rows), n + 4))
    D[np.arange(len(rows)), A] += LN10
    D[np.arange(len(rows)), B] -= LN10
    D[:, n:] = X

    def hess(p):
        q = 1.0 / (1.0 + np.exp(-(D @ p)))
        return (D * (q * (1 - q))[:, None]).T @ D + 0.5 * np.eye(n + 4)

    # quasi-Newton methods stop near 1e-6 here (the loss is a sum of
    # thousands of terms): a trust region on the exact Hessian
    res = minimize(loss, np.zeros(n + 4), jac=True, hess=hess,
                   method="trust-exact", options={"gtol": 1e-10})
    gn = np.linalg.norm(loss(res.x)[1])
    # the Hessian's eigenvalues are at least 0.5 (the L2 term), so the
    # distance to the minimum is at most 2 gn: under 0.001 rating points
    assert gn < 1e-6, "the reference did not converge: %g" % gn
    return ({m: 1000.0 + 400.0 * res.x[ix[m]] for m in models},
            dict(zip(["length", "headers", "lists", "bold"], res.x[n:])),
            len(rows))


# ---------------------------------------------------------------------------

def write(path, recs):
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    return str(path)


def ratings(agon_bin, *args, timeout=300):
    r = run_agon(agon_bin, "ratings", "--json", *args, timeout=timeout)
    assert r.returncode == 0, r.stderr

    def bad(c):
        raise AssertionError("non-finite number %r in agon's JSON" % c)
    return json.loads(r.stdout, parse_constant=bad)


@pytest.fixture(scope="module")
def log6k(tmp_path_factory):
    recs = make_log(6000)
    return recs, write(tmp_path_factory.mktemp("style") / "log.jsonl", recs)


def test_matches_reference(agon_bin, log6k):
    recs, path = log6k
    out = ratings(agon_bin, "--style-control", "--bootstrap", "40",
                  "--seed", "3", path)
    want, coef, used = reference(recs)
    st = out["style"]
    assert st["battles"] == used == len(recs)
    assert st["without_counts"] == 0
    assert st["gradient_norm"] <= 1e-9
    for m in out["models"]:
        assert abs(m["style"]["rating"] - want[m["model"]]) < 0.01, m
        lo, hi = m["style"]["ci_low"], m["style"]["ci_high"]
        assert lo < m["style"]["rating"] < hi
        assert m["style"]["rank_ub"] >= 1
    for k, v in coef.items():
        assert abs(st["coefficients"][k] - v) < 1e-4, (k, st["coefficients"], coef)
        assert st["ci_low"][k] <= st["coefficients"][k] <= st["ci_high"][k]
    # the planted length effect is found, and it is the largest
    assert st["coefficients"]["length"] > 0.3
    assert st["coefficients"]["length"] > max(abs(st["coefficients"][k])
                                              for k in ("headers", "bold"))
    # sorted by the style-controlled rating
    sr = [m["style"]["rating"] for m in out["models"]]
    assert sr == sorted(sr, reverse=True)
    # the L2 term centres the ratings on 1000
    assert abs(sum(sr) / len(sr) - 1000.0) < 1e-3


def test_removes_length_bias(agon_bin, log6k):
    recs, path = log6k
    out = ratings(agon_bin, "--style-control", "--bootstrap", "0", path)
    by = {m["model"]: m for m in out["models"]}
    # without control, the long-winded weak model passes the mid one
    assert by["weak-long"]["bt"] > by["mid"]["bt"]
    assert by["weak-long"]["bt"] - by["weak"]["bt"] > 100
    # with it, it is back beside its twin and below mid
    gap = abs(by["weak-long"]["style"]["rating"] - by["weak"]["style"]["rating"])
    assert gap < 30, gap
    assert by["weak-long"]["style"]["rating"] < by["mid"]["style"]["rating"]
    # and the planted differences between the others come back (within
    # the noise of 6000 battles and the L2 term's pull)
    planted = STRENGTH["strong"] - STRENGTH["bottom"]
    found = by["strong"]["style"]["rating"] - by["bottom"]["style"]["rating"]
    assert abs(found - planted) < 40, (found, planted)
    # the text table says the same
    r = run_agon(agon_bin, "ratings", "--style-control", "--bootstrap", "0", path)
    assert r.returncode == 0, r.stderr
    assert "style coefficients" in r.stdout and "length" in r.stdout
    first = r.stdout.splitlines()[1].split()
    assert first[1] == "strong"


def test_threads_and_seed(agon_bin, log6k):
    _, path = log6k
    one = ratings(agon_bin, "--style-control", "--bootstrap", "30", "--seed", "9",
                  "--threads", "1", path)
    four = ratings(agon_bin, "--style-control", "--bootstrap", "30", "--seed", "9",
                   "--threads", "4", path)
    other = ratings(agon_bin, "--style-control", "--bootstrap", "30", "--seed", "10",
                    "--threads", "4", path)
    assert one["style"] == four["style"]
    assert [m["style"] for m in one["models"]] == [m["style"] for m in four["models"]]
    assert one["style"]["ci_low"] != other["style"]["ci_low"]


def test_records_without_counts(agon_bin, tmp_path):
    recs = make_log(800, seed=5)
    bare = [{"model_a": "strong", "model_b": "new", "winner": "model_a",
             "anony": True, "tstamp": 9e9}]
    # a record with only part of conv_metadata and no conversation
    bare.append({"model_a": "mid", "model_b": "weak", "winner": "tie",
                 "anony": True, "tstamp": 9e9,
                 "conv_metadata": {"sum_assistant_a_tokens": 5,
                                   "sum_assistant_b_tokens": 9}})
    path = write(tmp_path / "log.jsonl", recs + bare)
    out = ratings(agon_bin, "--style-control", "--bootstrap", "10", path)
    assert out["battles"] == len(recs) + 2
    assert out["style"]["battles"] == len(recs)
    assert out["style"]["without_counts"] == 2
    by = {m["model"]: m for m in out["models"]}
    assert by["new"]["bt"] is not None
    assert by["new"]["style"]["rating"] is None
    want, coef, used = reference(recs)
    assert used == len(recs)
    for m, v in want.items():
        assert abs(by[m]["style"]["rating"] - v) < 0.01
    for k, v in coef.items():
        assert abs(out["style"]["coefficients"][k] - v) < 1e-4


def test_constant_feature(agon_bin, tmp_path):
    # no bold anywhere: that feature's std is 0, it becomes 0, and so does
    # its coefficient
    recs = make_log(600, seed=7)
    for r in recs:
        cm = r.get("conv_metadata")
        if cm:
            cm["bold_count_a"] = {"**": 0, "__": 0}
            cm["bold_count_b"] = {"**": 0, "__": 0}
        else:
            for side in ("conversation_a", "conversation_b"):
                for t in r[side]:
                    t["content"] = t["content"].replace("**", "")
    path = write(tmp_path / "log.jsonl", recs)
    out = ratings(agon_bin, "--style-control", "--bootstrap", "5", path)
    assert out["style"]["features"]["bold"]["std"] == 0
    assert out["style"]["coefficients"]["bold"] == 0
    want, coef, _ = reference(recs)
    for m in out["models"]:
        assert abs(m["style"]["rating"] - want[m["model"]]) < 0.01


# ---------------------------------------------------------------------------
# Filters.

def in_category(rec, cat):
    ct = rec.get("category_tag", {})
    cm = rec.get("conv_metadata", {})
    user = cm.get("sum_user_tokens")
    if user is None and "conversation_a" in rec:
        user = sum(ascii_tokens(t["content"]) for t in rec["conversation_a"]
                   if t["role"] == "user")
    if cat == "math":
        return ct.get("math_v0.1", {}).get("math") is True
    if cat == "if":
        return ct.get("if_v0.1", {}).get("if") is True
    if cat == "creative_writing":
        return ct.get("creative_writing_v0.1", {}).get("creative_writing") is True
    if cat == "hard_6":
        return sum(ct.get("criteria_v0.1", {}).get(c) is True for c in CRITERIA) >= 6
    if cat == "coding":
        if "is_code" in rec:
            return rec["is_code"]
        return any("```" in t["content"] for s in ("conversation_a", "conversation_b")
                   for t in rec.get(s, []))
    if cat == "multiturn":
        return rec["turn"] >= 2
    if cat == "long_user":
        return user is not None and user >= 500
    if cat == "no_short":
        return user is None or user >= 5
    if cat == "no_tie":
        return rec["winner"] in ("model_a", "model_b")
    raise AssertionError(cat)


@pytest.mark.parametrize("cats", [["math"], ["if"], ["creative_writing"],
                                  ["hard_6"], ["coding"], ["multiturn"],
                                  ["long_user"], ["no_short"], ["no_tie"],
                                  ["hard_6", "coding"], ["full"]])
def test_category_filter(agon_bin, log6k, cats):
    recs, path = log6k
    args = [a for c in cats for a in ("--category", c)]
    out = ratings(agon_bin, *args, "--style-control", "--bootstrap", "0", path)
    kept = [r for r in recs if all(c == "full" or in_category(r, c) for c in cats)]
    assert 0 < len(kept)
    assert out["battles"] == len(kept)
    assert out["style"]["battles"] == len(kept)
    want, coef, _ = reference(kept)
    for m in out["models"]:
        assert abs(m["style"]["rating"] - want[m["model"]]) < 0.01
    for k, v in coef.items():
        assert abs(out["style"]["coefficients"][k] - v) < 1e-4


def test_language_filter(agon_bin, log6k):
    recs, path = log6k
    english = [r for r in recs if r["language"] in ("English", "en")]
    for arg in ("en", "English", "ENGLISH", "en-US"):
        out = ratings(agon_bin, "--language", arg, "--bootstrap", "0", path)
        assert out["battles"] == len(english), arg
        assert out["filters"]["language"] == [arg]
    # several languages: any of them
    out = ratings(agon_bin, "--language", "zh", "--language", "German",
                  "--bootstrap", "0", path)
    assert out["battles"] == sum(r["language"] in ("Chinese", "German") for r in recs)
    # with categories and style control: the reference on the same battles
    out = ratings(agon_bin, "--language", "en", "--category", "hard_6",
                  "--style-control", "--bootstrap", "0", path)
    kept = [r for r in english if in_category(r, "hard_6")]
    assert out["battles"] == len(kept)
    want, coef, _ = reference(kept)
    for m in out["models"]:
        assert abs(m["style"]["rating"] - want[m["model"]]) < 0.01
    # hard_english_6 is the same selection
    out2 = ratings(agon_bin, "--category", "hard_english_6", "--bootstrap", "0", path)
    assert out2["battles"] == len(kept)
    # a language no record has: nothing left, still valid output
    out = ratings(agon_bin, "--language", "xx", "--style-control", "--bootstrap", "3", path)
    assert out["battles"] == 0 and out["models"] == []
    assert out["style"]["battles"] == 0


def test_bad_arguments(agon_bin, log6k):
    _, path = log6k
    r = run_agon(agon_bin, "ratings", "--category", "nonsense", path)
    assert r.returncode == 2
    assert "unknown category 'nonsense'" in r.stderr and "hard_6" in r.stderr
