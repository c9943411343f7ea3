"""agon bench (issue 16): the six Open LLM Leaderboard tasks asked of the
configured models through the fake backend's /v1/completions and
/v1/chat/completions.

Every expected number is computed here, independently of agon, from the
definitions of lm-evaluation-harness's task files (written out below in
Python: the prompts, random.Random(1234).sample for the shots, acc,
acc_norm, MC2, WinoGrande's partial scoring, GSM8K's regexes with
Python's re) and the fake's scripted log-probabilities
(fake_backend.fake_tokens / fake_logprob). The prompts of two items of
each task are also compared byte for byte with golden strings."""

import json
import math
import os
import pty
import random
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

import fake_backend
from conftest import Model, REPO, check_sanitizers, wait_for

DATA = REPO / "tests" / "data" / "benchmarks"

# ---------------------------------------------------------------------------
# lm-evaluation-harness's definitions, independently of agon

TRUTHFULQA_QA = (
    "Q: What is human life expectancy in the United States?\n"
    "A: Human life expectancy in the United States is 78 years.\n\n"
    "Q: Who was president of the United States in 1955?\n"
    "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
    "Q: Which party did he belong to?\n"
    "A: He belonged to the Republican Party.\n\n"
    "Q: What is the square root of banana?\n"
    "A: I have no comment.\n\n"
    "Q: How does a telescope work?\n"
    "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
    "Q: Where were the 1992 Olympics held?\n"
    "A: The 1992 Olympics were held in Barcelona, Spain.")


def hs_preprocess(text):
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def lm_doc(task, doc):
    """(query, choices, gold, target) as lm-eval's yaml and utils define them."""
    if task == "arc_challenge":
        return ("Question: " + doc["question"] + "\nAnswer:", doc["choices"]["text"],
                doc["choices"]["label"].index(doc["answerKey"]), None)
    if task == "hellaswag":
        ctx = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
        return (hs_preprocess(doc["activity_label"] + ": " + ctx),
                [hs_preprocess(e) for e in doc["endings"]], int(doc["label"]), None)
    if task == "mmlu":
        c = doc["choices"]
        q = "%s\nA. %s\nB. %s\nC. %s\nD. %s\nAnswer:" % (doc["question"].strip(), *c)
        return q, ["A", "B", "C", "D"], doc["answer"], None
    if task == "truthfulqa_mc2":
        return (TRUTHFULQA_QA + "\n\nQ: " + doc["question"] + "\nA:",
                doc["mc2_targets"]["choices"], 0, None)
    if task == "winogrande":
        idx = doc["sentence"].index("_")
        ctxs = [doc["sentence"][:idx] + o for o in (doc["option1"], doc["option2"])]
        return None, ctxs, {"1": 0, "2": 1}[doc["answer"]], doc["sentence"][idx + 1:].strip()
    if task == "gsm8k":
        return "Question: " + doc["question"] + "\nAnswer:", None, None, doc["answer"]
    raise KeyError(task)


SHOTS = {"arc_challenge": 25, "hellaswag": 10, "mmlu": 5, "truthfulqa_mc2": 0,
         "winogrande": 5, "gsm8k": 5}


def lm_shots(task, items, pool, same_split):
    """Each item's shots, drawn as lm-eval's samplers draw them."""
    k = SHOTS[task]
    rnd = random.Random(1234)
    out = []
    for it in items:
        if k == 0:
            out.append([])
        elif task == "mmlu":  # first_n, within the subject
            out.append([d for d in pool if d["subject"] == it["subject"]
                        and not (same_split and d == it)][:k])
        else:
            drawn = rnd.sample(pool, k + 1 if same_split else k)
            out.append([d for d in drawn if not (same_split and d == it)][:k])
    return out


def shot_text(task, d):
    q, c, g, t = lm_doc(task, d)
    if task == "winogrande":
        return c[g] + " " + t + "\n\n"
    if task == "gsm8k":
        return q + " " + t + "\n\n"
    return q + " " + c[g] + "\n\n"


def lm_prefix(task, doc, shots):
    desc = ""
    if task == "mmlu":
        desc = ("The following are multiple choice questions (with answers) about %s.\n\n"
                % doc["subject"].replace("_", " "))
    q, _, _, _ = lm_doc(task, doc)
    return desc + "".join(shot_text(task, s) for s in shots) + (q if q is not None else "")


def lm_pairs(task, doc, prefix):
    q, c, g, t = lm_doc(task, doc)
    if task == "winogrande":
        return [(prefix + ctx, " " + t) for ctx in c]
    return [(prefix, " " + ch) for ch in c]


def fake_ll(model, context, continuation):
    """The continuation's log-likelihood from the fake's scripted numbers,
    by the rule docs/benchmarks.md states: the tokens from the one that holds
    the continuation's first character to the prompt's end."""
    prompt = context + continuation
    toks = fake_backend.fake_tokens(model, prompt)
    first = max(i for i, (off, _) in enumerate(toks) if off <= len(context))
    return sum(fake_backend.fake_logprob(model, prompt[:off], tok)
               for off, tok in toks[first:])


def wilson(k, n, z=1.959963984540054):
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, c - h), min(1.0, c + h)


def bootstrap(xs, rounds=1000, seed=1234):
    rnd = random.Random(seed)
    means = sorted(sum(rnd.choices(xs, k=len(xs))) / len(xs) for _ in range(rounds))

    def pct(q):
        pos = q / 100 * (rounds - 1)
        i = math.floor(pos)
        return means[i] + (pos - i) * (means[i + 1] - means[i]) if i + 1 < rounds else means[-1]
    return pct(2.5), pct(97.5)


def argmax(xs):
    return max(range(len(xs)), key=lambda i: (xs[i], -i))


def lm_item_metrics(task, model, doc, shots):
    """acc / acc_norm / mc2 of one item in likelihood mode."""
    prefix = lm_prefix(task, doc, shots)
    lls = [fake_ll(model, c, x) for c, x in lm_pairs(task, doc, prefix)]
    _, choices, gold, _ = lm_doc(task, doc)
    if task == "truthfulqa_mc2":
        p = [math.exp(v) for v in lls]
        labels = doc["mc2_targets"]["labels"]
        return {"mc2": sum(pi for pi, lab in zip(p, labels) if lab == 1) / sum(p)}
    out = {"acc": int(argmax(lls) == gold)}
    if task in ("arc_challenge", "hellaswag"):
        out["acc_norm"] = int(argmax([v / len(ch) for v, ch in zip(lls, choices)]) == gold)
    return out


STRICT = r"#### (\-?[0-9\.\,]+)"
FLEX = r"(-?[$0-9.,]{2,})|(-?[0-9]+)"
IGNORE = [",", "\\$", "(?s).*#### ", "\\.$"]
UNTIL = ["Question:", "</s>", "<|im_end|>"]
SIMPLE_EVALS = r"(?i)Answer[ \t]*:[ \t]*\$?([A-D])\$?"


def gsm_extract(text, pattern, select):
    m = re.findall(pattern, text)
    if not m:
        return "[invalid]"
    m = m[select]
    if isinstance(m, tuple):
        m = [x for x in m if x]
        m = m[0] if m else "[invalid]"
    return m.strip()


def gsm_em(pred, ref):
    for r in IGNORE:
        pred, ref = re.sub(r, "", pred), re.sub(r, "", ref)
    return int(pred.lower() == ref.lower())


def gsm_metrics(answer, reference):
    for u in UNTIL:
        answer = answer.split(u)[0]
    return {"strict_match": gsm_em(gsm_extract(answer, STRICT, 0), reference),
            "flexible_extract": gsm_em(gsm_extract(answer, FLEX, -1), reference)}


# ---------------------------------------------------------------------------
# small data in each dataset's layout

def arc_train():
    return [{"id": "t%d" % i, "question": "T%d?" % i,
             "choices": {"text": ["a%d" % i, "bb%d" % i], "label": ["A", "B"]},
             "answerKey": "AB"[i % 2]} for i in range(26)]


def arc_test():
    return [{"id": "q%d" % i, "question": "What is %d?" % i,
             "choices": {"text": ["one", "a much longer choice %d" % i, "x", "yy"],
                         "label": ["1", "2", "3", "4"]},
             "answerKey": "1234"[i % 4]} for i in range(8)]


def hs_train():
    return [{"ind": i, "activity_label": "Act%d" % i, "ctx_a": "Ctx a%d." % i,
             "ctx_b": "then he", "ctx": "", "endings": ["e0 %d" % i, "e1 [title] x", "e2", "e3"],
             "source_id": "s", "split": "train", "split_type": "indomain",
             "label": str(i % 4)} for i in range(12)]


def hs_val():
    return [{"ind": 100 + i, "activity_label": "Removing ice", "ctx_a":
             " The man [header] scrapes %d." % i, "ctx_b": "THEN he", "ctx": "",
             "endings": ["  wipes [step] it  off. ", "runs away quickly and far", "[title] sings",
                         "smiles"], "source_id": "s", "split": "val", "split_type": "indomain",
             "label": str(i % 4)} for i in range(6)]


def mmlu_dev():
    return [{"question": " Dev %s %d? " % (s, i), "subject": s,
             "choices": ["w", "x", "y", "z"], "answer": i % 4}
            for s in ("abstract_algebra", "us_foreign_policy") for i in range(6)]


def mmlu_test():
    return [{"question": "Test %s %d?" % (s, i), "subject": s,
             "choices": ["c0", "c1", "c2", "c3"], "answer": (i + 1) % 4}
            for s, n in (("abstract_algebra", 4), ("us_foreign_policy", 3)) for i in range(n)]


def tqa_val():
    return [{"question": "Is claim %d true?" % i,
             "mc1_targets": {"choices": ["Yes.", "No."], "labels": [1, 0]},
             "mc2_targets": {"choices": ["Yes, it is.", "I have no comment.", "No, never %d." % i,
                                         "Maybe."][:3 + i % 2], "labels": [1, 1, 0, 0][:3 + i % 2]}}
            for i in range(6)]


def wg_train():
    return [{"sentence": "Tom gave Ann book %d because _ was done." % i, "option1": "Tom",
             "option2": "Ann", "answer": "12"[i % 2]} for i in range(6)]


def wg_val():
    return [{"sentence": "The cup %d did not fit the box since _ was too big." % i,
             "option1": "the cup", "option2": "the box", "answer": "12"[i % 2]} for i in range(5)]


def gsm_train():
    return [{"question": "What is %d+1?" % i, "answer": "It is <<%d+1=%d>>%d.\n#### %d"
             % (i, i + 1, i + 1, i + 1)} for i in range(6)]


def gsm_test():
    return [{"question": "What is %d+2?" % i, "answer": "So <<%d+2=%d>>%d.\n#### %d"
             % (i, i + 2, i + 2, i + 2)} for i in range(4)]


TASKS = {
    "arc_challenge": (arc_test, arc_train),
    "hellaswag": (hs_val, hs_train),
    "mmlu": (mmlu_test, mmlu_dev),
    "truthfulqa_mc2": (tqa_val, None),
    "winogrande": (wg_val, wg_train),
    "gsm8k": (gsm_test, gsm_train),
}


def write_jsonl(path, docs):
    Path(path).write_text("".join(json.dumps(d) + "\n" for d in docs))
    return str(path)


class Bench:
    """agon bench's files and runs in one test's directory."""

    def __init__(self, agon_factory, models, tmp_path):
        self.agon = agon_factory(models, start=False)
        self.tmp = tmp_path
        self.fake = self.agon.fake

    def data(self, name, docs):
        return write_jsonl(self.tmp / name, docs)

    def run(self, *args, timeout=120):
        return self.agon.run("bench", "--config", self.agon.config, *args, timeout=timeout)

    def popen(self, *args, **kw):
        return subprocess.Popen([self.agon.bin, "bench", "--config", self.agon.config, *args],
                                env=self.agon.env, cwd=str(self.agon.dir), text=True, **kw)

    def runs(self):
        return self.agon.sql("SELECT id, model, task, mode, shots, items, item_limit, seed, "
                             "finished_at FROM bench_runs ORDER BY id")

    def results(self, run_id):
        return {(g, m): (v, lo, hi, n) for g, m, v, lo, hi, n in self.agon.sql(
            "SELECT grp, metric, value, ci_low, ci_high, n FROM bench_results "
            "WHERE run_id = ?", (run_id,))}

    def completions(self):
        return [r for r in self.fake.requests() if r["path"].endswith("/v1/completions")]

    def chats(self):
        return [r for r in self.fake.requests() if r["path"].endswith("/chat/completions")]


@pytest.fixture
def bench(agon_factory, tmp_path):
    def make(models=None):
        models = models or [Model("Lp-Model", "lp-model-1", timeout=10)]
        return Bench(agon_factory, models, tmp_path)
    return make


# ---------------------------------------------------------------------------
# golden prompts: items 1 and 2 (lines 1 and 2) of each task's small data

GOLDEN = {}


def golden_prefixes(task):
    items_fn, pool_fn = TASKS[task]
    items = items_fn()
    pool = pool_fn() if pool_fn else items
    shots = lm_shots(task, items, pool, pool_fn is None)
    return [lm_prefix(task, items[i], shots[i]) for i in (0, 1)]


GOLDEN["truthfulqa_mc2"] = [
    TRUTHFULQA_QA + "\n\nQ: Is claim 0 true?\nA:",
    TRUTHFULQA_QA + "\n\nQ: Is claim 1 true?\nA:",
]
GOLDEN["mmlu"] = [
    "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
    "Dev abstract_algebra 0?\nA. w\nB. x\nC. y\nD. z\nAnswer: A\n\n"
    "Dev abstract_algebra 1?\nA. w\nB. x\nC. y\nD. z\nAnswer: B\n\n"
    "Dev abstract_algebra 2?\nA. w\nB. x\nC. y\nD. z\nAnswer: C\n\n"
    "Dev abstract_algebra 3?\nA. w\nB. x\nC. y\nD. z\nAnswer: D\n\n"
    "Dev abstract_algebra 4?\nA. w\nB. x\nC. y\nD. z\nAnswer: A\n\n"
    "Test abstract_algebra 0?\nA. c0\nB. c1\nC. c2\nD. c3\nAnswer:",
    "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
    "Dev abstract_algebra 0?\nA. w\nB. x\nC. y\nD. z\nAnswer: A\n\n"
    "Dev abstract_algebra 1?\nA. w\nB. x\nC. y\nD. z\nAnswer: B\n\n"
    "Dev abstract_algebra 2?\nA. w\nB. x\nC. y\nD. z\nAnswer: C\n\n"
    "Dev abstract_algebra 3?\nA. w\nB. x\nC. y\nD. z\nAnswer: D\n\n"
    "Dev abstract_algebra 4?\nA. w\nB. x\nC. y\nD. z\nAnswer: A\n\n"
    "Test abstract_algebra 1?\nA. c0\nB. c1\nC. c2\nD. c3\nAnswer:",
]
GOLDEN["arc_challenge"] = [
    'Question: T24?\nAnswer: a24\n\n'
    'Question: T14?\nAnswer: a14\n\n'
    'Question: T3?\nAnswer: bb3\n\n'
    'Question: T0?\nAnswer: a0\n\n'
    'Question: T2?\nAnswer: a2\n\n'
    'Question: T18?\nAnswer: a18\n\n'
    'Question: T1?\nAnswer: bb1\n\n'
    'Question: T21?\nAnswer: bb21\n\n'
    'Question: T23?\nAnswer: bb23\n\n'
    'Question: T11?\nAnswer: bb11\n\n'
    'Question: T7?\nAnswer: bb7\n\n'
    'Question: T22?\nAnswer: a22\n\n'
    'Question: T25?\nAnswer: bb25\n\n'
    'Question: T12?\nAnswer: a12\n\n'
    'Question: T13?\nAnswer: bb13\n\n'
    'Question: T5?\nAnswer: bb5\n\n'
    'Question: T9?\nAnswer: bb9\n\n'
    'Question: T15?\nAnswer: bb15\n\n'
    'Question: T8?\nAnswer: a8\n\n'
    'Question: T19?\nAnswer: bb19\n\n'
    'Question: T16?\nAnswer: a16\n\n'
    'Question: T6?\nAnswer: a6\n\n'
    'Question: T10?\nAnswer: a10\n\n'
    'Question: T17?\nAnswer: bb17\n\n'
    'Question: T4?\nAnswer: a4\n\n'
    'Question: What is 0?\nAnswer:',
    'Question: T7?\nAnswer: bb7\n\n'
    'Question: T2?\nAnswer: a2\n\n'
    'Question: T21?\nAnswer: bb21\n\n'
    'Question: T17?\nAnswer: bb17\n\n'
    'Question: T14?\nAnswer: a14\n\n'
    'Question: T24?\nAnswer: a24\n\n'
    'Question: T19?\nAnswer: bb19\n\n'
    'Question: T20?\nAnswer: a20\n\n'
    'Question: T16?\nAnswer: a16\n\n'
    'Question: T1?\nAnswer: bb1\n\n'
    'Question: T8?\nAnswer: a8\n\n'
    'Question: T13?\nAnswer: bb13\n\n'
    'Question: T15?\nAnswer: bb15\n\n'
    'Question: T22?\nAnswer: a22\n\n'
    'Question: T10?\nAnswer: a10\n\n'
    'Question: T4?\nAnswer: a4\n\n'
    'Question: T25?\nAnswer: bb25\n\n'
    'Question: T5?\nAnswer: bb5\n\n'
    'Question: T11?\nAnswer: bb11\n\n'
    'Question: T12?\nAnswer: a12\n\n'
    'Question: T23?\nAnswer: bb23\n\n'
    'Question: T6?\nAnswer: a6\n\n'
    'Question: T3?\nAnswer: bb3\n\n'
    'Question: T18?\nAnswer: a18\n\n'
    'Question: T0?\nAnswer: a0\n\n'
    'Question: What is 1?\nAnswer:',
]
GOLDEN["hellaswag"] = [
    'Act7: Ctx a7. Then he e3\n\n'
    'Act1: Ctx a1. Then he e1. x\n\n'
    'Act0: Ctx a0. Then he e0 0\n\n'
    'Act10: Ctx a10. Then he e2\n\n'
    'Act9: Ctx a9. Then he e1. x\n\n'
    'Act5: Ctx a5. Then he e1. x\n\n'
    'Act6: Ctx a6. Then he e2\n\n'
    'Act11: Ctx a11. Then he e3\n\n'
    'Act4: Ctx a4. Then he e0 4\n\n'
    'Act8: Ctx a8. Then he e0 8\n\n'
    'Removing ice: The man scrapes 0. Then he',
    'Act3: Ctx a3. Then he e3\n\n'
    'Act0: Ctx a0. Then he e0 0\n\n'
    'Act10: Ctx a10. Then he e2\n\n'
    'Act9: Ctx a9. Then he e1. x\n\n'
    'Act5: Ctx a5. Then he e1. x\n\n'
    'Act7: Ctx a7. Then he e3\n\n'
    'Act4: Ctx a4. Then he e0 4\n\n'
    'Act11: Ctx a11. Then he e3\n\n'
    'Act6: Ctx a6. Then he e2\n\n'
    'Act8: Ctx a8. Then he e0 8\n\n'
    'Removing ice: The man scrapes 1. Then he',
]
GOLDEN["winogrande"] = [
    'Tom gave Ann book 3 because Ann was done.\n\n'
    'Tom gave Ann book 0 because Tom was done.\n\n'
    'Tom gave Ann book 4 because Tom was done.\n\n'
    'Tom gave Ann book 5 because Ann was done.\n\n'
    'Tom gave Ann book 2 because Tom was done.\n\n',
    'Tom gave Ann book 5 because Ann was done.\n\n'
    'Tom gave Ann book 0 because Tom was done.\n\n'
    'Tom gave Ann book 4 because Tom was done.\n\n'
    'Tom gave Ann book 1 because Ann was done.\n\n'
    'Tom gave Ann book 3 because Ann was done.\n\n',
]
GOLDEN["gsm8k"] = [
    'Question: What is 3+1?\nAnswer: It is <<3+1=4>>4.\n#### 4\n\n'
    'Question: What is 0+1?\nAnswer: It is <<0+1=1>>1.\n#### 1\n\n'
    'Question: What is 4+1?\nAnswer: It is <<4+1=5>>5.\n#### 5\n\n'
    'Question: What is 5+1?\nAnswer: It is <<5+1=6>>6.\n#### 6\n\n'
    'Question: What is 2+1?\nAnswer: It is <<2+1=3>>3.\n#### 3\n\n'
    'Question: What is 0+2?\nAnswer:',
    'Question: What is 5+1?\nAnswer: It is <<5+1=6>>6.\n#### 6\n\n'
    'Question: What is 0+1?\nAnswer: It is <<0+1=1>>1.\n#### 1\n\n'
    'Question: What is 4+1?\nAnswer: It is <<4+1=5>>5.\n#### 5\n\n'
    'Question: What is 1+1?\nAnswer: It is <<1+1=2>>2.\n#### 2\n\n'
    'Question: What is 3+1?\nAnswer: It is <<3+1=4>>4.\n#### 4\n\n'
    'Question: What is 1+2?\nAnswer:',
]


def prompts_by_item(reqs, n_per_item):
    """The prompts of a --concurrency 1 run, grouped by item."""
    ps = [r["body"]["prompt"] for r in reqs]
    return [ps[i:i + n_per_item] for i in range(0, len(ps), n_per_item)]


@pytest.mark.parametrize("task", list(TASKS))
def test_prompts_byte_for_byte(bench, task):
    b = bench()
    items_fn, pool_fn = TASKS[task]
    items = items_fn()
    data = b.data("data.jsonl", items)
    args = ["--task", task, "--data", data, "--concurrency", "1"]
    if pool_fn:
        args += ["--shots", b.data("shots.jsonl", pool_fn())]
    r = b.run(*args)
    assert r.returncode == 0, r.stderr
    want = GOLDEN[task]
    assert golden_prefixes(task) == want  # the documented rule is lm-eval's
    reqs = b.completions()
    for i in (0, 1):
        q, choices, gold, target = lm_doc(task, items[i])
        if task == "gsm8k":
            n = 1
        else:
            n = len(choices)
        # the requests of item i, in order (a --concurrency 1 run)
        start = sum(1 if task == "gsm8k" else len(lm_doc(task, items[j])[1]) for j in range(i))
        mine = [x["body"] for x in reqs[start:start + n]]
        if task == "gsm8k":
            assert mine[0]["prompt"] == want[i]
            assert mine[0]["stop"] == UNTIL and mine[0]["max_tokens"] == 256
            assert mine[0]["temperature"] == 0 and "echo" not in mine[0]
        else:
            pairs = lm_pairs(task, items[i], want[i])
            assert [m["prompt"] for m in mine] == [c + x for c, x in pairs]
            for m in mine:
                assert m["echo"] is True and m["logprobs"] == 1 and m["max_tokens"] == 1
                assert m["temperature"] == 0 and m["model"] == "lp-model-1"


@pytest.mark.parametrize("task", ["arc_challenge", "hellaswag", "mmlu", "truthfulqa_mc2",
                                  "winogrande"])
def test_likelihood_metrics_equal_lm_eval(bench, task):
    b = bench()
    items_fn, pool_fn = TASKS[task]
    items = items_fn()
    args = ["--task", task, "--data", b.data("data.jsonl", items), "--concurrency", "8"]
    pool = items
    if pool_fn:
        pool = pool_fn()
        args += ["--shots", b.data("shots.jsonl", pool)]
    r = b.run(*args)
    assert r.returncode == 0, r.stderr
    shots = lm_shots(task, items, pool, pool_fn is None)
    per_item = [lm_item_metrics(task, "lp-model-1", d, s) for d, s in zip(items, shots)]
    (run_id, model, t, mode, nshots, n, limit, seed, finished), = b.runs()
    assert (model, t, mode, nshots, n, limit, finished is not None) == (
        "Lp-Model", task, "likelihood", SHOTS[task], len(items), 0, True)
    res = b.results(run_id)
    for metric in per_item[0]:
        xs = [m[metric] for m in per_item]
        value, lo, hi, count = res[("", metric)]
        assert count == len(items)
        assert value == pytest.approx(sum(xs) / len(xs), abs=1e-12), metric
        want = wilson(sum(xs), len(xs)) if metric != "mc2" else bootstrap(xs)
        assert (lo, hi) == pytest.approx(want, abs=1e-9), metric
    if task in ("arc_challenge", "hellaswag"):
        # the data make length normalisation matter on some item
        assert any(m["acc"] != m["acc_norm"] for m in per_item)
    if task == "mmlu":
        for subject in ("abstract_algebra", "us_foreign_policy"):
            xs = [m["acc"] for m, d in zip(per_item, items) if d["subject"] == subject]
            assert res[(subject, "acc")][0] == pytest.approx(sum(xs) / len(xs))
            assert res[(subject, "acc")][3] == len(xs)
    assert "over %d items" % len(items) in r.stdout


def test_winogrande_scores_the_shared_continuation(bench):
    b = bench()
    items = wg_val()
    r = b.run("--task", "winogrande", "--data", b.data("d.jsonl", items),
              "--shots", b.data("s.jsonl", wg_train()), "--concurrency", "1")
    assert r.returncode == 0, r.stderr
    reqs = b.completions()
    assert len(reqs) == 2 * len(items)
    for i, d in enumerate(items):
        a, c = reqs[2 * i]["body"]["prompt"], reqs[2 * i + 1]["body"]["prompt"]
        tail = " " + d["sentence"][d["sentence"].index("_") + 1:].strip()
        assert a.endswith("the cup" + tail) and c.endswith("the box" + tail)


def test_straddling_token_counts_for_the_continuation(bench):
    # pieces of 3 characters: most continuations begin inside a token
    b = bench([Model("Straddle", "straddle-7", timeout=10)])
    items = arc_test()
    r = b.run("--task", "arc_challenge", "--data", b.data("d.jsonl", items),
              "--shots", b.data("s.jsonl", arc_train()))
    assert r.returncode == 0, r.stderr
    shots = lm_shots("arc_challenge", items, arc_train(), False)
    xs = [lm_item_metrics("arc_challenge", "straddle-7", d, s)["acc_norm"]
          for d, s in zip(items, shots)]
    (run_id, *_), = b.runs()
    assert b.results(run_id)[("", "acc_norm")][0] == pytest.approx(sum(xs) / len(xs))


def gsm_answers(docs):
    """Scripted answers that exercise both extractions, keyed by question."""
    out = {}
    for i, d in enumerate(docs):
        n = d["answer"].split("#### ")[-1].strip()
        kind = i % 6
        if kind == 0:
            a = " Let me see.\n#### %s" % n                       # both right
        elif kind == 1:
            a = " The answer is $%s." % n                         # flexible only
        elif kind == 2:
            a = " #### %s\n\nQuestion: more? #### 1" % n          # cut at Question:
        elif kind == 3:
            a = " I get %s apples, minus 3" % n                   # flexible takes 3
        elif kind == 4:
            a = " #### -%s" % n                                   # wrong sign
        else:
            a = " #### %s,0\nso %s" % (n, n)                      # strict 10x, flexible ok
        out[d["question"]] = a
    return out


@pytest.mark.parametrize("mode", ["likelihood", "generate"])
def test_gsm8k_extraction_both_ways(bench, mode):
    b = bench([Model("Gen-Model", "gen-model-1", timeout=10,
                     extra={"system_prompt": "You are terse.", "temperature": "0.3"})])
    items = [json.loads(x) for x in (DATA / "gsm8k_test_head12.jsonl").read_text().splitlines()]
    train = str(DATA / "gsm8k_train_head40.jsonl")
    answers = gsm_answers(items)
    question_of = lambda text: text.rsplit("Question: ", 1)[1][:-len("\nAnswer:")]
    b.fake.completion_script = lambda model, prompt: answers[question_of(prompt)]
    b.fake.chat_script = lambda model, msgs: answers[question_of(msgs[-1]["content"])]
    r = b.run("--task", "gsm8k", "--data", str(DATA / "gsm8k_test_head12.jsonl"),
              "--shots", train, "--mode", mode)
    assert r.returncode == 0, r.stderr
    per = [gsm_metrics(answers[d["question"]], d["answer"]) for d in items]
    assert {m["strict_match"] for m in per} == {0, 1}
    assert {m["flexible_extract"] for m in per} == {0, 1}
    assert any(m["strict_match"] != m["flexible_extract"] for m in per)
    (run_id, *_), = b.runs()
    res = b.results(run_id)
    for metric in ("strict_match", "flexible_extract"):
        xs = [m[metric] for m in per]
        assert res[("", metric)][0] == pytest.approx(sum(xs) / len(xs)), metric
        assert res[("", metric)][1:3] == pytest.approx(wilson(sum(xs), len(xs)))
    pool = [json.loads(x) for x in Path(train).read_text().splitlines()]
    shots = lm_shots("gsm8k", items, pool, False)
    if mode == "generate":
        reqs = b.chats()
        assert len(reqs) == len(items)
        by_q = {question_of(x["body"]["messages"][-1]["content"]): x["body"] for x in reqs}
        for d, s in zip(items, shots):
            body = by_q[d["question"]]
            msgs = body["messages"]
            # the model's own system prompt and parameters, the shots as turns
            assert msgs[0] == {"role": "system", "content": "You are terse."}
            assert body["temperature"] == 0.3 and body["stream"] is False
            want = []
            for x in s:
                want += [{"role": "user", "content": "Question: " + x["question"] + "\nAnswer:"},
                         {"role": "assistant", "content": x["answer"]}]
            want.append({"role": "user", "content": "Question: " + d["question"] + "\nAnswer:"})
            assert msgs[1:] == want
    else:
        reqs = b.completions()
        prompts = {question_of(x["body"]["prompt"]): x["body"]["prompt"] for x in reqs}
        for d, s in zip(items, shots):
            assert prompts[d["question"]] == lm_prefix("gsm8k", d, s)


def test_generate_multiple_choice_reads_answer_letter(bench):
    b = bench([Model("Chat", "chat-1", timeout=10)])
    items = arc_test()
    replies = ["Thinking...\nAnswer: A", "answer: b", "Answer:$C$", "The answer is D",
               "Answer: B\nAnswer: D", "ANSWER : D", "Answer: $LETTER", "Answer:\tA"]
    qs = {d["question"]: replies[i] for i, d in enumerate(items)}

    def script(model, msgs):
        text = msgs[-1]["content"]
        return next(v for q, v in qs.items() if "\n\n" + q + "\n\n" in text)
    b.fake.chat_script = script
    r = b.run("--task", "arc_challenge", "--data", b.data("d.jsonl", items), "--mode", "generate")
    assert r.returncode == 0, r.stderr
    golds = [lm_doc("arc_challenge", d)[2] for d in items]
    picks = []
    for text in replies:
        m = re.search(SIMPLE_EVALS, text)
        picks.append("ABCD".index(m.group(1)) if m and m.group(1) in "ABCD" else -1)
    xs = [int(p == g) for p, g in zip(picks, golds)]
    assert 0 < sum(xs) < len(xs)
    (run_id, _, _, mode, shots, *_), = b.runs()
    assert (mode, shots) == ("generate", 0)
    assert b.results(run_id)[("", "acc")][0] == pytest.approx(sum(xs) / len(xs))
    text = next(x["body"]["messages"][-1]["content"] for x in b.chats()
                if "\n\nWhat is 0?\n\n" in x["body"]["messages"][-1]["content"])
    assert text.startswith("Answer the following multiple choice question. The last line of "
                           "your response should be of the following format: 'Answer: $LETTER' "
                           "(without quotes) where LETTER is one of ABCD. Think step by step "
                           "before answering.\n\n")
    assert text.endswith("\n\nA) one\nB) a much longer choice 0\nC) x\nD) yy")


def test_truthfulqa_has_no_generate_mode(bench):
    b = bench()
    r = b.run("--task", "truthfulqa_mc2", "--data", b.data("d.jsonl", tqa_val()),
              "--mode", "generate")
    assert r.returncode == 2
    assert "truthfulqa_mc2 has no generate mode" in r.stderr
    assert not b.fake.requests()


@pytest.mark.parametrize("upstream", ["noecho-1", "nologprobs-1"])
def test_endpoint_without_logprobs_is_a_clear_error(bench, upstream):
    b = bench([Model("NoLp", upstream, timeout=10)])
    r = b.run("--task", "hellaswag", "--data", b.data("d.jsonl", hs_val()),
              "--shots", b.data("s.jsonl", hs_train()))
    assert r.returncode == 1
    assert "model 'NoLp': likelihood mode needs the prompt's log-probabilities" in r.stderr
    assert "--mode generate" in r.stderr
    if upstream == "noecho-1":
        assert "HTTP 400" in r.stderr and "echo" in r.stderr
    # it stops at once: no request per item after the refusal
    assert len(b.completions()) < 10
    # generate mode works for the same model
    b.fake.chat_script = lambda model, msgs: "Answer: A"
    r = b.run("--task", "hellaswag", "--data", b.data("d.jsonl", hs_val()), "--mode", "generate")
    assert r.returncode == 0, r.stderr


def test_refused_key_is_not_called_a_missing_feature(bench):
    b = bench([Model("Locked", "fail401-model", timeout=10)])
    r = b.run("--task", "winogrande", "--data", b.data("d.jsonl", wg_val()),
              "--shots", b.data("s.jsonl", wg_train()))
    assert r.returncode == 1
    assert "model 'Locked': its server refused the request: HTTP 401" in r.stderr
    assert "likelihood mode needs" not in r.stderr
    assert len(b.completions()) < 10


def test_malformed_data_names_file_and_line(bench):
    b = bench()
    good = arc_test()
    lines = [json.dumps(good[0]), json.dumps(good[1]), "{not json", json.dumps(good[2])]
    p = b.tmp / "broken.jsonl"
    p.write_text("\n".join(lines) + "\n")
    r = b.run("--task", "arc_challenge", "--data", str(p))
    assert r.returncode == 1
    assert "%s:3: not JSON" % p in r.stderr
    bad = dict(good[1])
    del bad["answerKey"]
    p2 = b.tmp / "missing.jsonl"
    p2.write_text(json.dumps(good[0]) + "\n\n" + json.dumps(bad) + "\n")
    r = b.run("--task", "arc_challenge", "--data", str(p2))
    assert r.returncode == 1
    assert "%s:3: arc_challenge: 'answerKey' is missing" % p2 in r.stderr
    wrong = dict(good[0], answerKey="Z")
    p3 = b.tmp / "wrong.jsonl"
    p3.write_text(json.dumps(wrong) + "\n")
    r = b.run("--task", "arc_challenge", "--data", str(p3))
    assert r.returncode == 1 and "%s:1: arc_challenge: 'answerKey' is not one" % p3 in r.stderr
    r = b.run("--task", "arc_challenge", "--data", str(b.tmp / "absent.jsonl"))
    assert r.returncode == 1 and "cannot read '%s'" % (b.tmp / "absent.jsonl") in r.stderr
    assert not b.fake.requests()  # nothing asked before the data are read


def test_limit_draws_a_seeded_subset(bench):
    b = bench()
    items = arc_test() + [dict(d, id="r%d" % i, question="Again %d?" % i)
                          for i, d in enumerate(arc_test())]
    data = b.data("d.jsonl", items)
    shots = b.data("s.jsonl", arc_train())
    r = b.run("--task", "arc_challenge", "--data", data, "--shots", shots, "--limit", "5",
              "--seed", "7", "--concurrency", "1")
    assert r.returncode == 0, r.stderr
    chosen = sorted(random.Random(7).sample(range(len(items)), 5))
    asked = []
    for req in b.completions():
        q = req["body"]["prompt"].rsplit("Question: ", 1)[1].split("\n")[0]
        if q not in asked:
            asked.append(q)
    assert asked == [items[i]["question"] for i in chosen]
    (run_id, _, _, _, _, n, limit, seed, _), = b.runs()
    assert (n, limit, seed) == (5, 5, 7)
    # each item keeps the shots it has in the full run
    all_shots = lm_shots("arc_challenge", items, arc_train(), False)
    firsts = [r["body"]["prompt"] for r in b.completions()[::4]]
    assert firsts[0].startswith(lm_prefix("arc_challenge", items[chosen[0]],
                                          all_shots[chosen[0]]))
    value, lo, hi, count = b.results(run_id)[("", "acc")]
    assert count == 5 and hi - lo > 0.4  # five items leave it wide


def test_retries_with_backoff_then_fail(bench):
    b = bench([Model("Flaky", "flaky2-model", timeout=10)])
    items = gsm_test()
    r = b.run("--task", "gsm8k", "--data", b.data("d.jsonl", items),
              "--shots", b.data("s.jsonl", gsm_train()), "--backoff-ms", "20")
    assert r.returncode == 0, r.stderr
    assert len(b.completions()) == 3 * len(items)  # two 503s, then an answer each
    b2 = bench([Model("Flakier", "flaky9-model", timeout=10)])
    r = b2.run("--task", "gsm8k", "--data", b2.data("d.jsonl", items),
               "--shots", b2.data("s.jsonl", gsm_train()), "--retries", "1",
               "--backoff-ms", "10")
    assert r.returncode == 1
    assert "0 of 4 items scored, 4 failed after 1 retries" in r.stderr
    assert "HTTP 503" in r.stderr


def stored_items(agon):
    """The items agon's database holds; 0 before agon bench made its tables
    (either engine's error then)."""
    try:
        return agon.sql("SELECT count(*) FROM bench_items")[0][0]
    except (sqlite3.OperationalError, RuntimeError):
        return 0


def test_resumes_after_kill_9(bench):
    b = bench([Model("Slow", "slowlp40-model", timeout=10)])
    items = gsm_test() * 1
    items = [dict(question="What is %d+3?" % i, answer="#### %d" % (i + 3)) for i in range(40)]
    data = b.data("d.jsonl", items)
    shots = b.data("s.jsonl", gsm_train())
    p = b.popen("--task", "gsm8k", "--data", data, "--shots", shots, "--concurrency", "2",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: stored_items(b.agon) >= 6, timeout=30, what="items stored")
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.communicate()
    first = stored_items(b.agon)
    assert 6 <= first < len(items)
    asked_before = len(b.completions())
    r = b.run("--task", "gsm8k", "--data", data, "--shots", shots, "--concurrency", "4")
    assert r.returncode == 0, r.stderr
    assert "%d of %d items already stored" % (first, len(items)) in r.stderr
    assert stored_items(b.agon) == len(items)
    # the second run asked only the items not stored (no item twice since)
    second = [x["body"]["prompt"] for x in b.completions()[asked_before:]]
    assert len(second) == len(set(second)) == len(items) - first
    (run_id, *_), = b.runs()
    per = [gsm_metrics(fake_backend.fake_completion("slowlp40-model", ""), d["answer"])
           for d in items]
    xs = [m["strict_match"] for m in per]
    assert b.results(run_id)[("", "strict_match")][0] == pytest.approx(sum(xs) / len(xs))


def test_interrupt_stops_and_says_how_to_continue(bench):
    b = bench([Model("Slow", "slowlp200-model", timeout=10)])
    items = [dict(question="Q%d?" % i, answer="#### %d" % i) for i in range(30)]
    data = b.data("d.jsonl", items)
    shots = b.data("s.jsonl", gsm_train())
    p = b.popen("--task", "gsm8k", "--data", data, "--shots", shots, "--concurrency", "2",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: stored_items(b.agon) >= 2, timeout=30, what="items stored")
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    check_sanitizers(err)
    assert p.returncode == 130, err
    assert "interrupted:" in err and "run the same command again to continue" in err


def test_progress_bar_on_a_terminal_only(bench):
    b = bench()
    data = b.data("d.jsonl", gsm_test())
    shots = b.data("s.jsonl", gsm_train())
    master, slave = pty.openpty()
    p = b.popen("--task", "gsm8k", "--data", data, "--shots", shots,
                stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(30)
    os.close(master)
    text = out.decode()
    check_sanitizers(text)
    assert p.returncode == 0
    assert "\rgsm8k Lp-Model [" in text and "4/4" in text and "items/s" in text
    r = b.run("--task", "gsm8k", "--data", data, "--shots", shots)  # not a terminal
    assert "[#" not in r.stderr and "items/s" not in r.stderr


def test_api_benchmarks_and_leaderboard(agon_factory, tmp_path):
    models = [Model("W-model", "lp-w", timeout=10, extra={"benchmarks": "arc_challenge:10 other:5"}),
              Model("X-model", "lp-x", timeout=10), Model("Off", "lp-off", timeout=10,
                                                          enabled=False)]
    agon = agon_factory(models, start=False)
    data = write_jsonl(tmp_path / "d.jsonl", arc_test())
    shots = write_jsonl(tmp_path / "s.jsonl", arc_train())
    for m in ("W-model", "X-model", "Off"):
        r = agon.run("bench", "--config", agon.config, "--task", "arc_challenge", "--data", data,
                     "--shots", shots, "--model", m, timeout=60)
        assert r.returncode == 0, r.stderr
    r = agon.run("bench", "--config", agon.config, "--task", "arc_challenge", "--data", data,
                 "--shots", shots, "--model", "W-model", "--limit", "3", timeout=60)
    assert r.returncode == 0, r.stderr
    agon.start()
    c = agon.client()
    j = c.get("/api/benchmarks").json()
    runs = j["runs"]
    assert {x["model"] for x in runs} == {"W-model", "X-model"}  # not the disabled one
    full = [x for x in runs if x["model"] == "W-model" and x["limit"] == 0][0]
    all_shots = lm_shots("arc_challenge", arc_test(), arc_train(), False)
    per = [lm_item_metrics("arc_challenge", "lp-w", d, s) for d, s in zip(arc_test(), all_shots)]
    xs = [m["acc_norm"] for m in per]
    assert full["task"] == "arc_challenge" and full["mode"] == "likelihood"
    assert full["shots"] == 25 and full["items"] == len(xs) and full["metric"] == "acc_norm"
    assert full["value"] == pytest.approx(sum(xs) / len(xs))
    assert (full["ci_low"], full["ci_high"]) == pytest.approx(wilson(sum(xs), len(xs)))
    assert full["metrics"]["acc"]["n"] == len(xs)
    lb = c.get("/api/leaderboard").json()
    rows = {m["model"]: m for m in lb["models"] + lb["provisional"]}
    w = rows["W-model"]
    assert w["benchmarks"] == {"arc_challenge": 10, "other": 5}  # published, as configured
    # measured: the full run, not the 3-item one
    assert [(x["task"], x["mode"], x["items"]) for x in w["measured"]] == [
        ("arc_challenge", "likelihood", len(xs))]
    assert w["measured"][0]["value"] == pytest.approx(sum(xs) / len(xs))
    corr = {(x["signal"], x["name"]) for x in lb["correlations"]}
    assert ("measured", "arc_challenge") in corr
    assert ("benchmark", "arc_challenge") not in corr  # the measured one replaces it
    assert ("benchmark", "other") in corr
    # a run beside the server shows without a restart
    r = agon.run("bench", "--config", agon.config, "--task", "gsm8k",
                 "--data", write_jsonl(tmp_path / "g.jsonl", gsm_test()),
                 "--shots", write_jsonl(tmp_path / "gs.jsonl", gsm_train()), "--model", "X-model",
                 timeout=60)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: any(x["task"] == "gsm8k" for x in c.get("/api/benchmarks").json()["runs"]),
             timeout=10, what="the new run on /api/benchmarks")
    lb = c.get("/api/leaderboard").json()
    rows = {m["model"]: m for m in lb["models"] + lb["provisional"]}
    assert {x["task"] for x in rows["X-model"]["measured"]} == {"arc_challenge", "gsm8k"}
