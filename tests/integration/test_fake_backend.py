"""Self-test of tests/fake_backend.py: it must speak the protocol it claims to,
so that failures in the other tests point at agon, not at the fake."""

import http.client
import json
import subprocess
import sys

import pytest

from conftest import REPO, fake_backend, send_raw


def post(fake, model, messages, stream=True, auth=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=timeout)
    body = json.dumps({"model": model, "stream": stream, "messages": messages})
    hdrs = {"Content-Type": "application/json"}
    if auth:
        hdrs["Authorization"] = "Bearer " + auth
    c.request("POST", "/v1/chat/completions", body=body, headers=hdrs)
    r = c.getresponse()
    try:
        data = r.read()
        err = None
    except (http.client.IncompleteRead, ConnectionError) as e:
        data, err = getattr(e, "partial", b""), e
    c.close()
    return r, data, err


def reference_parse(raw):
    """A straightforward SSE + OpenAI chunk parser: (content, saw_done, finish)."""
    text = raw.decode("utf-8")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    content, done, finish, data = [], False, None, []
    for line in lines + [""]:
        if line == "":
            if data:
                payload = "\n".join(data)
                data = []
                if payload == "[DONE]":
                    done = True
                    continue
                obj = json.loads(payload)
                for ch in obj.get("choices", []):
                    c = ch.get("delta", {}).get("content")
                    if c:
                        content.append(c)
                    if ch.get("finish_reason"):
                        finish = ch["finish_reason"]
            continue
        if line.startswith(":"):
            continue
        f, _, v = line.partition(":")
        if f == "data":
            data.append(v[1:] if v.startswith(" ") else v)
    return "".join(content), done, finish


@pytest.fixture
def fake():
    srv, _ = fake_backend.start_fake()
    yield srv
    srv.stop()


MSGS = [{"role": "user", "content": "héllo 😀 \"quoted\" \\ back"}]


@pytest.mark.parametrize("model", ["echo-x", "multiline-x", "slow10-x", "nodone-x"])
def test_echo_like_streams_parse(fake, model):
    r, raw, err = post(fake, model, MSGS)
    assert r.status == 200 and err is None
    assert r.getheader("Content-Type").startswith("text/event-stream")
    content, done, finish = reference_parse(raw)
    assert content == fake_backend.echo_answer(model, MSGS)
    assert finish == "stop"
    assert done == (not model.startswith("nodone"))
    assert b"\r\n" in raw and b": keep-alive" in raw
    assert model not in content  # answers never name the model


def deltas(raw):
    """Every choices[0].delta of a stream, in order, and the last finish_reason."""
    out, finish = [], None
    text = raw.decode("utf-8").replace("\r\n", "\n")
    for block in text.split("\n\n"):
        data = "\n".join(l[5:].lstrip(" ") for l in block.split("\n") if l.startswith("data:"))
        if not data or data == "[DONE]":
            continue
        for ch in json.loads(data).get("choices", []):
            out.append(ch.get("delta", {}))
            finish = ch.get("finish_reason") or finish
    return out, finish


@pytest.mark.parametrize("model,field", [("reasoning-x", "reasoning_content"),
                                         ("reasoningfield-x", "reasoning")])
def test_reasoning_then_content(fake, model, field):
    r, raw, err = post(fake, model, MSGS)
    assert r.status == 200 and err is None
    ds, finish = deltas(raw)
    reasoning = "".join(d.get(field) or "" for d in ds)
    content = "".join(d.get("content") or "" for d in ds)
    assert reasoning == fake_backend.reasoning_text(model, MSGS)
    assert content == fake_backend.echo_answer(model, MSGS) == reference_parse(raw)[0]
    assert finish == "stop"
    # all the reasoning comes first, with "content": null
    first = next(i for i, d in enumerate(ds) if d.get("content"))
    assert all(not d.get(field) for d in ds[first:])
    assert all(d.get("content") is None for d in ds[:first])
    assert model not in reasoning


@pytest.mark.parametrize("model,finish", [("reasononly-x", "length"),
                                          ("toolonly-x", "tool_calls"),
                                          ("blank-x", "stop")])
def test_answers_without_text(fake, model, finish):
    r, raw, err = post(fake, model, MSGS)
    assert r.status == 200 and err is None
    ds, got = deltas(raw)
    assert got == finish
    content = reference_parse(raw)[0]
    assert content.strip() == ""
    if model.startswith("reasononly"):
        assert content == ""
        assert "".join(d.get("reasoning_content") or "" for d in ds) == \
            fake_backend.reasoning_text(model, MSGS)
    if model.startswith("toolonly"):
        assert content == ""
        args = "".join(c["function"].get("arguments", "") for d in ds
                       for c in d.get("tool_calls") or [])
        assert json.loads(args) == {"query": MSGS[0]["content"]}
    if model.startswith("blank"):
        assert content != ""


def test_echo_answer_counts_turns():
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "p1"},
            {"role": "assistant", "content": "a1"}, {"role": "user", "content": "p2"}]
    a = fake_backend.echo_answer("echo-q", msgs)
    assert a.endswith("turn 2 (4 messages): you said: p2")
    assert a.startswith(fake_backend.answer_tag("echo-q"))


@pytest.mark.parametrize("status", [500, 429, 401])
def test_fail_statuses(fake, status):
    r, raw, _ = post(fake, "fail%d-x" % status, MSGS)
    assert r.status == status
    assert fake_backend.PROVIDER_SECRET in json.loads(raw)["error"]["message"]


def test_echoauth_echoes_the_key(fake):
    r, raw, _ = post(fake, "echoauth-x", MSGS, auth="k-123")
    assert r.status == 500
    err = json.loads(raw)["error"]
    assert err["message"].startswith("echoauth: the upstream refused the request")
    assert "Authorization: Bearer k-123" in err["message"]
    assert "the key k-123 " in err["message"]
    assert err["headers"]["Authorization"] == "Bearer k-123"
    assert "Authorization: Bearer k-123\r\n" in err["raw_headers"]


def test_cut_resets(fake):
    r, raw, err = post(fake, "cut-x", MSGS)
    assert r.status == 200
    assert err is not None
    assert b"[DONE]" not in raw


def test_malformed_errorobj_badutf8(fake):
    _, raw, _ = post(fake, "malformed-x", MSGS)
    assert b"data: {not json" in raw
    _, raw, _ = post(fake, "errorobj-x", MSGS)
    assert b'"error"' in raw and fake_backend.PROVIDER_SECRET.encode() in raw
    _, raw, _ = post(fake, "badutf8-x", MSGS)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_big(fake):
    r, raw, err = post(fake, "big-200000-x", MSGS)
    assert err is None
    content, done, _ = reference_parse(raw)
    assert len(content) == 200000 and done


def read_until_quiet(fake, model, messages, quiet=0.5):
    """POST a streamed request on a raw socket and read until the fake has
    been silent for `quiet` seconds: (bytes, closed), closed when the fake
    ended the connection instead."""
    body = json.dumps({"model": model, "stream": True, "messages": messages}).encode()
    return send_raw(fake.port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                    % len(body) + body, timeout=quiet)


def dechunk(raw):
    """The data of a chunked body, as far as its chunks are complete."""
    out = b""
    while True:
        size, sep, rest = raw.partition(b"\r\n")
        if not sep or not size or len(rest) < int(size, 16) + 2:
            return out
        n = int(size, 16)
        out, raw = out + rest[:n], rest[n + 2:]


@pytest.mark.parametrize("model", ["hang-x", "stall-x", "noanswer-x"])
def test_hang_and_stall_hold_the_connection(fake, model):
    """What each sends before it goes silent, with the connection left open."""
    raw, closed = read_until_quiet(fake, model, MSGS)
    assert not closed, raw[-300:]
    head, _, body = raw.partition(b"\r\n\r\n")
    stream = dechunk(body)
    if model.startswith("noanswer"):
        assert raw == b""
        return
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"text/event-stream" in head
    if model.startswith("hang"):
        assert b"data:" not in stream, stream
    else:  # stall: the first pieces of the answer, then nothing
        content, done, finish = reference_parse(stream)
        assert content and fake_backend.echo_answer(model, MSGS).startswith(content)
        assert not done and finish is None, stream


def test_records_requests(fake):
    post(fake, "echo-r", MSGS, auth="sk-test")
    reqs = fake.requests()
    assert reqs[-1]["authorization"] == "Bearer sk-test"
    assert reqs[-1]["body"]["model"] == "echo-r"
    c = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    c.request("GET", "/requests")
    assert json.loads(c.getresponse().read())[-1]["body"]["messages"] == MSGS
    c.request("DELETE", "/requests")
    c.getresponse().read()
    assert fake.requests() == []
    c.close()


def test_non_stream(fake):
    r, raw, _ = post(fake, "echo-n", MSGS, stream=False)
    j = json.loads(raw)
    assert j["choices"][0]["message"]["content"] == fake_backend.echo_answer("echo-n", MSGS)


def test_command_line_prints_listening_line():
    p = subprocess.Popen([sys.executable, str(REPO / "tests" / "fake_backend.py"), "--port", "0"],
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().rstrip("\n")
        assert line.startswith("fake: listening on http://127.0.0.1:") and line.endswith("/")
        port = int(line.rsplit(":", 1)[1].rstrip("/"))
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/requests")
        assert json.loads(c.getresponse().read()) == []
        c.close()
    finally:
        p.terminate()
        p.wait(5)
