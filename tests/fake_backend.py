#!/usr/bin/env python3
"""A fake OpenAI-compatible chat backend for Agon's tests (Python 3 stdlib only).

It speaks the real protocol: ``POST .../chat/completions`` with ``"stream": true``
answers ``text/event-stream`` the way OpenAI does (a role-only first chunk, content
chunks, a ``finish_reason`` chunk, a usage-only chunk with empty ``choices``, then
``data: [DONE]``), with ``: keep-alive`` comments, a mix of LF and CRLF line
endings and writes split at odd byte boundaries (inside JSON, inside UTF-8
sequences, between CR and LF), flushed one by one, so that the client's SSE
parser is exercised.

The behaviour is chosen by the request's ``model`` (the upstream id), by prefix:

  echo...      deterministic answer ``"[TAG] turn N (M messages): you said: LAST"``
               where TAG is ``answer_tag(model)`` (a hash: the answer never contains
               the model id itself), N the number of user messages, M the number
               of messages and LAST the last user message. Chunked transfer.
  slow...      the same, 0.2 s between content chunks (``slowNNN...``: NNN ms),
               delimited by closing the connection instead of chunked encoding.
  multiline... the same, but every JSON payload is split over two ``data:`` lines.
  failNNN...   HTTP status NNN (e.g. fail500, fail429, fail401) with an OpenAI-style
               JSON error body containing PROVIDER_SECRET.
  echoauth...  HTTP 500 whose JSON error body echoes the request the way a careless
               proxy does: a message starting ``"echoauth: the upstream refused the
               request"`` that quotes the Authorization header and the bare key
               (the bearer token), then every request header as a JSON object, then
               the raw header block (``Name: value`` lines, CRLF) as a string.
  nostream...  ignores "stream": answers one plain chat.completion JSON object.
  failturn2... like echo for the first turn (one user message), HTTP 500 from the
               second turn on.
  cut...       a few chunks, then the TCP connection is reset (no [DONE]).
  malformed... a few chunks, then ``data: {not json``, then more chunks and [DONE].
  hang...      200 and headers, then nothing until the client goes away.
  noanswer...  reads the request and never answers at all.
  stall...     a few chunks, then nothing until the client goes away.
  nodone...    a complete answer with finish_reason and usage, but the stream ends
               (cleanly, terminating chunk, connection closed) without [DONE].
  errorobj...  a 200 stream with a chunk, then ``data: {"error": {...}}`` (with
               PROVIDER_SECRET), then [DONE].
  big...       a very large answer, 3,000,000 bytes of content (``big-N...``: N bytes).
  badutf8...   content with raw invalid UTF-8 bytes inside a JSON string.
  attempt...   the echo answer after ``attempt K:``, K counting this server's
               requests for this model id with this conversation (1, 2, ...):
               a regenerate gets a different answer each time.
  padNNN...    the echo answer followed by NNN more characters of filler
               (``pad...`` alone: 100), for answers of a known, longer length;
               ``padNNNvarMMM...``: NNN plus a number below MMM drawn from a
               hash of the model id and the last user message (answers whose
               length varies from battle to battle, and between the sides).

Reasoning models and answers without text (what DeepSeek, vLLM's reasoning parsers,
OpenRouter and tool-calling models send):

  reasoning...      first ``reasoning_content`` deltas with ``"content": null`` (the
                    text is ``reasoning_text(model, messages)``), then content deltas
                    of the echo answer with ``"reasoning_content": null``.
  reasoningfield... the same with the ``reasoning`` field instead of
                    ``reasoning_content`` (vLLM's newer name, OpenRouter's).
  reasononly...     only ``reasoning_content`` deltas, never any content (a model
                    that spent all its tokens thinking), finish_reason "length".
  toolonly...       only ``tool_calls`` deltas (one call of ``lookup`` with its
                    arguments in pieces), ``"content": null``, finish_reason
                    "tool_calls".
  blank...          content deltas of whitespace only (spaces and newlines).

Answers that are the same across models (for "identical answers are not a vote"):

  same...      ``"Turn N: you said: LAST"`` with no tag: every same... model gives
               it; ``sameloud...`` gives it in upper case with its spaces
               doubled, a tab and a newline inside and around it (equal once
               white space and case are normalised, not byte for byte).
               ``sameslowNNN...`` / ``sameloudslowNNN...``: NNN ms between chunks.

LLM judges (scripted replies to Agon's judge prompts, streamed like echo; the
reply texts come from ``judge_reply(model, messages)``):

  judge-first...   some reasoning that mentions [[B]] in passing, then ``[[A]]``
                   (the last verdict is the one that counts).
  judge-second...  the same, ending with ``[[B]]``.
  judge-tie...     ending with ``[[C]]``.
  judge-longer...  parses the ``[Assistant A]`` / ``[Assistant B]`` blocks of the
                   LAST turn of the user message and picks the longer answer
                   (``[[C]]`` when they are equally long).
  judge-garbage... a reply with no parsable verdict (``[[D]]``, ``[A]``, ``[[a]]``).
  judge-slow...    sleeps ~2 s (``judge-slowNNN``: NNN ms), then ``[[A]]``.
  judge-single...  single-answer scores: four lines ``Grammaticality: N``,
                   ``cohesiveness: N+1``, ``LIKABILITY: N+2``, ``Relevance: N+3``
                   with N from the length of the last ``[Assistant]`` answer
                   (``single_scores``), so that the longer answer wins.

LLM taggers (replies to Agon's tagging prompts, streamed like echo). The category a
request asks about is read from its instructions by ``tag_category(messages)``:
"hard_prompt", "math", "creative_writing", "instruction_following", or
"question: QUESTION" for an admin's own category; the visitor's prompts are the text
inside <user_prompt> (``tag_prompt(messages)``):

  tag-yes...     puts every battle in the category: ``[1, 2, 3, 4, 5, 6, 7]``,
                 ``<score>5</score>`` or ``<decision>yes</decision>``.
  tag-no...      puts none in it: ``[]``, ``<score>1</score>`` or
                 ``<decision>no</decision>``.
  tag-garbage... a reply with no readable verdict.
  tag-script...  the reply the test chose: ``server.tag_script(category, prompt)``, a
                 callable the test sets (it may count calls, answer garbage first,
                 ...); when it returns None, or there is none, like tag-garbage.

Completions (``POST .../completions``, agon bench). A request with ``echo`` and
``logprobs`` gets the prompt back with scripted log-probabilities, the way vLLM
answers it: ``choices[0].logprobs`` has ``tokens``, ``token_logprobs`` (the first
``null``), ``top_logprobs`` and ``text_offset`` (in characters) for every token of
the prompt, then one generated token (`` the``, at the prompt's length). The prompt
is cut into tokens by ``fake_tokens(model, prompt)``: white space and the word
after it (``\\s*\\S+``), or for a ``straddle...`` model pieces of 3 characters (so
that a continuation may begin inside a token). Each token's log-probability is
``server.logprob_script(model, prompt, i, offset, token)`` when the test set one
(and it returns a number), else ``fake_logprob(model, prompt[:offset], token)``: a
function of the text alone, so that a test computes every expected metric itself.
Without echo, the answer's ``text`` is ``server.completion_script(model, prompt)``
or, when there is none, ``fake_completion(model, prompt)``.

  noecho...     refuses echo with logprobs: HTTP 400 with an OpenAI-style error
                (what llama.cpp's server and OpenAI answer).
  nologprobs... answers echo requests with ``"logprobs": null`` (a server that
                ignores them).
  flakyN...     the first N requests with a given body fail with HTTP 503 (N is
                1 to 9), then it answers as usual: retries are exercised.
  slowlpNNN...  waits NNN ms before each completion answer.
  failNNN...    HTTP status NNN, as for chat requests.

A chat request whose answer ``server.chat_script(model, messages)`` gives (when the
test set it and it returns a string) gets that text instead of the behaviour's.

Any other model id behaves like ``echo``. Non-streaming requests get a plain
chat.completion JSON object for the echo answer.

Every request is recorded (method, path, Authorization header, parsed body) and
exposed at ``GET /requests`` (JSON array); ``DELETE /requests`` clears the list.

Run:    python3 tests/fake_backend.py [--port 0] [--host 127.0.0.1]
        prints exactly ``fake: listening on http://127.0.0.1:PORT/`` and flushes.
Import: ``server, base_url = start_fake()`` runs it in a background thread;
        base_url is ``http://127.0.0.1:PORT`` (no trailing slash; the OpenAI base
        URL is ``base_url + "/v1"``, also in ``server.api_base``). Stop it with
        ``server.stop()``. ``server.requests()`` returns the recorded requests.
"""

import argparse
import hashlib
import http.server
import json
import re
import zlib
import signal
import socket
import struct
import sys
import threading
import time

PROVIDER_SECRET = "provider-secret-XYZ"

# Byte sizes used, in turn, to split a stream into separate writes.
SPLIT_PATTERN = (1, 7, 3, 13, 2, 29, 5, 64, 11, 2, 1, 17, 4, 97, 6)
# Sizes (in characters) of the content pieces of an answer.
CONTENT_PATTERN = (3, 1, 5, 2, 8, 4, 6)

BEHAVIOURS = (
    "noecho", "nologprobs", "flaky", "slowlp", "straddle",
    "echo", "slow", "multiline", "fail", "cut", "malformed", "hang", "noanswer",
    "stall", "nodone", "errorobj", "big", "badutf8", "failturn2", "nostream",
    "pad", "attempt", "echoauth", "reasoning", "reasoningfield", "reasononly", "toolonly", "blank",
    "judge-first", "judge-second", "judge-tie", "judge-longer", "judge-garbage",
    "judge-slow", "judge-single",
    "tag-yes", "tag-no", "tag-garbage", "tag-script", "same",
)

JUDGE_BEHAVIOURS = tuple(b for b in BEHAVIOURS if b.startswith("judge-"))
TAG_BEHAVIOURS = tuple(b for b in BEHAVIOURS if b.startswith("tag-"))
JUDGE_SLOW_DEFAULT = 2.0
PAD_DEFAULT = 100

BIG_DEFAULT = 3_000_000


def answer_tag(model):
    """The tag an echo-like model puts at the start of its answers."""
    return "[" + hashlib.sha256(model.encode("utf-8")).hexdigest()[:10] + "]"


def content_text(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def echo_answer(model, messages):
    """The deterministic answer of an echo-like model for these messages."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    last = content_text(users[-1].get("content")) if users else ""
    return "%s turn %d (%d messages): you said: %s" % (
        answer_tag(model), len(users), len(messages), last)


def same_answer(model, messages):
    """The answer of a same... model: one text for every such model, in
    upper case and spread-out white space for a sameloud... one."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    last = content_text(users[-1].get("content")) if users else ""
    text = "Turn %d: you said: %s" % (len(users), last)
    if (model or "").lower().startswith("sameloud"):
        text = "\n " + text.upper().replace(" ", "  ").replace(":", ":\t", 1) + " \n"
    return text


def fake_tokens(model, prompt):
    """The fake's tokens of prompt: (offset in characters, text) pairs."""
    if (model or "").lower().startswith("straddle"):
        return [(i, prompt[i:i + 3]) for i in range(0, len(prompt), 3)]
    return [(m.start(), m.group(0)) for m in re.finditer(r"\s*\S+|\s+$", prompt)]


def fake_logprob(model, prefix, token):
    """The default scripted log-probability of token after prefix: below 0,
    a function of the model id and the text alone."""
    h = zlib.crc32(("%s\x00%s\x00%s" % (model, prefix, token)).encode("utf-8"))
    return -((h % 5000) / 1000.0) - 0.01


def fake_completion(model, prompt):
    """The default text of a completion without echo."""
    return " I think the answer is 7.\n#### 7"


def behaviour_of(model):
    m = (model or "").lower()
    for b in sorted(BEHAVIOURS, key=len, reverse=True):
        if m.startswith(b):
            return b
    return "echo"


def reasoning_text(model, messages):
    """The reasoning a reasoning... / reasononly... model streams before (or
    instead of) its answer. It never contains the model id itself."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    last = content_text(users[-1].get("content")) if users else ""
    return ("Thinking %s: the user wrote %d characters in turn %d. Hmm, let me "
            "weigh this ponderously.\nI will repeat it back." % (
                answer_tag(model)[1:-1], len(last), len(users)))


def pad_answer(model, messages):
    """The answer of a pad model: the echo answer plus NNN filler characters."""
    m = re.match(r"pad(\d+)(?:var(\d+))?", (model or "").lower())
    n = int(m.group(1)) if m else PAD_DEFAULT
    if m and m.group(2) and int(m.group(2)) > 0:
        last = user_text(messages)
        n += zlib.crc32(("%s\n%s" % (model, last)).encode("utf-8")) % int(m.group(2))
    filler = ("and some more words " * (n // 20 + 1))[:n]
    return echo_answer(model, messages) + " " + filler


def user_text(messages):
    """The content of the last user message (the judge prompt)."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return content_text(users[-1].get("content")) if users else ""


PAIR_END = "\n\nWhich assistant is better?"
SINGLE_END = "\n\nRate the assistant's answers."


def last_turn_answers(text):
    """(answer A, answer B) of the last turn of a pairwise judge prompt, or None."""
    ia = text.rfind("[Assistant A]\n")
    if ia < 0:
        return None
    ib = text.find("\n\n[Assistant B]\n", ia)
    if ib < 0:
        return None
    a = text[ia + len("[Assistant A]\n"):ib]
    rest = text[ib + len("\n\n[Assistant B]\n"):]
    end = rest.rfind(PAIR_END)
    b = rest[:end] if end >= 0 else rest.rstrip("\n")
    return a, b


def last_single_answer(text):
    """The answer of the last turn of a single-answer judge prompt, or None."""
    i = text.rfind("[Assistant]\n")
    if i < 0:
        return None
    rest = text[i + len("[Assistant]\n"):]
    end = rest.rfind(SINGLE_END)
    return rest[:end] if end >= 0 else rest.rstrip("\n")


def single_scores(answer):
    """The four scores judge-single gives an answer: [N, N+1, N+2, N+3],
    N = len(answer) // 10 kept within 1..17 (so every score is 1..20)."""
    n = max(1, min(17, len(answer) // 10))
    return [n, n + 1, n + 2, n + 3]


def judge_reply(model, messages):
    """The reply text of a judge-* model to these messages."""
    beh = behaviour_of(model)
    text = user_text(messages)
    reasoning = ("Both assistants answered. One could argue for [[B]] on style, "
                 "but weighing helpfulness and accuracy my verdict is:\n")
    if beh in ("judge-first", "judge-slow"):
        return reasoning + "[[A]]"
    if beh == "judge-second":
        return reasoning.replace("[[B]]", "[[A]]") + "[[B]]"
    if beh == "judge-tie":
        return reasoning + "[[C]]"
    if beh == "judge-longer":
        ab = last_turn_answers(text)
        if ab is None:
            return "I cannot find the two answers."
        a, b = ab
        v = "A" if len(a) > len(b) else "B" if len(b) > len(a) else "C"
        return ("Answer A has %d characters, answer B has %d; longer is better.\n"
                "[[%s]]" % (len(a), len(b), v))
    if beh == "judge-single":
        ans = last_single_answer(text)
        if ans is None:
            return "I cannot find the answer."
        g, c, l, r = single_scores(ans)
        return ("Here is my evaluation of the answer.\n\n"
                "Grammaticality: %d\ncohesiveness: %d\nLIKABILITY: %d\nRelevance: %d\n"
                % (g, c, l, r))
    # judge-garbage
    return ("Hmm. Both have merits; I would say [[D]], or maybe [A], or [[a]], "
            "or [ [B] ]. I refuse to choose.")


QUESTION_INTRO = "defined by this question about the prompt:\n"


def tag_category(messages):
    """The category a tagging request asks about, from its instructions."""
    system = " ".join(content_text(m.get("content")) for m in messages
                      if isinstance(m, dict) and m.get("role") == "system")
    i = system.find(QUESTION_INTRO)
    if i >= 0:
        q = system[i + len(QUESTION_INTRO):]
        end = q.find("\n\nReply")
        return "question: " + (q[:end] if end >= 0 else q)
    if "7 criteria" in system:
        return "hard_prompt"
    if "<score>" in system:
        return "instruction_following"
    if "mathematical" in system:
        return "math"
    if "creative writing" in system:
        return "creative_writing"
    return None


def tag_prompt(messages):
    """The visitor's prompts in a tagging request (inside <user_prompt>)."""
    text = user_text(messages)
    m = re.search(r"<user_prompt>\n(.*)\n</user_prompt>", text, re.S)
    return m.group(1) if m else text


TAG_GARBAGE = ("Let me think about it. It could be <decision>maybe</decision>, "
               "perhaps [8, 9] or <score>7</score>; I cannot say.")


def tag_verdict(category, yes):
    """A reply that puts the prompt in category (yes) or not."""
    if category == "hard_prompt":
        return "[1, 2, 3, 4, 5, 6, 7]" if yes else "[]"
    if category == "instruction_following":
        return "<score>5</score>" if yes else "<score>1</score>"
    return "<decision>%s</decision>" % ("yes" if yes else "no")


def tag_reply(model, messages, script=None):
    """The reply text of a tag-* model to these messages."""
    beh = behaviour_of(model)
    category = tag_category(messages)
    if beh in ("tag-yes", "tag-no"):
        return tag_verdict(category, beh == "tag-yes")
    if beh == "tag-script" and script is not None:
        reply = script(category, tag_prompt(messages))
        if reply is not None:
            return reply
    return TAG_GARBAGE


def reply_text(model, messages, script=None):
    """The answer text of an answering behaviour (echo, pad, judge-*, tag-*)."""
    beh = behaviour_of(model)
    if beh in JUDGE_BEHAVIOURS:
        return judge_reply(model, messages)
    if beh in TAG_BEHAVIOURS:
        return tag_reply(model, messages, script)
    if beh == "pad":
        return pad_answer(model, messages)
    if beh == "same":
        return same_answer(model, messages)
    return echo_answer(model, messages)


def split_content(text):
    """Split text into small pieces (by code point) following CONTENT_PATTERN."""
    pieces, i, k = [], 0, 0
    while i < len(text):
        n = CONTENT_PATTERN[k % len(CONTENT_PATTERN)]
        pieces.append(text[i:i + n])
        i += n
        k += 1
    return pieces


class _Cut(Exception):
    """Raised to end a handler after the connection was deliberately reset."""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1.0"

    # --- plumbing ---------------------------------------------------------

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):  # keep test output quiet
        if self.server.verbose:
            sys.stderr.write("fake: " + (fmt % args) + "\n")

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline()
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline()
            return bytes(out)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send_json(self, status, obj, extra_headers=()):
        body = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _start_stream(self, chunked=True):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Upstream-Model", self._model)  # headers the client must not forward
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()
        self._chunked = chunked

    def _write(self, data):
        if not data:
            return
        if self._chunked:
            self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def _write_split(self, data, pause=0.0005):
        """Write data in pieces of odd sizes, each flushed on its own."""
        i, k = 0, 0
        while i < len(data):
            n = SPLIT_PATTERN[(k + self._split_phase) % len(SPLIT_PATTERN)]
            self._write(data[i:i + n])
            i += n
            k += 1
            if pause and k % 2 == 0:
                time.sleep(pause)
        self._split_phase += k

    def _end_stream(self):
        if self._chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _reset(self):
        """Abort the TCP connection with a RST."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True
        raise _Cut()

    def _wait_client_gone(self, limit=120.0):
        """Block until the client closes the connection, the server stops, or limit."""
        import select
        deadline = time.monotonic() + limit
        while not self.server.stopping.is_set() and time.monotonic() < deadline:
            try:
                r, _, _ = select.select([self.connection], [], [], 0.1)
            except (OSError, ValueError):
                return
            if r:
                try:
                    if not self.connection.recv(4096):
                        return
                except OSError:
                    return
        self.close_connection = True

    # --- SSE building -----------------------------------------------------

    def _event(self, obj, eol=None, multiline=False):
        if self._ascii_toggle:
            payload = json.dumps(obj, ensure_ascii=True)
        else:
            payload = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        self._ascii_toggle = not self._ascii_toggle
        return self._raw_event(payload, eol=eol, multiline=multiline)

    def _raw_event(self, payload, eol=None, multiline=False):
        if eol is None:
            eol = "\r\n" if self._event_no % 3 == 1 else "\n"
        self._event_no += 1
        if multiline:
            # Split the JSON between two tokens: after the first '{' (JSON allows
            # whitespace there, and SSE joins data lines with "\n").
            head, tail = payload[:1], payload[1:]
            text = "data: " + head + eol + "data: " + tail + eol + eol
        else:
            text = "data: " + payload + eol + eol
        return text.encode("utf-8")

    def _chunk(self, delta, finish_reason=None):
        return {
            "id": self._cid,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "system_fingerprint": "fp_" + self._model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None,
                         "finish_reason": finish_reason}],
        }

    def _usage_chunk(self, completion_tokens):
        return {
            "id": self._cid, "object": "chat.completion.chunk", "created": self._created,
            "model": self._model, "choices": [],
            "usage": {"prompt_tokens": 11, "completion_tokens": completion_tokens,
                      "total_tokens": 11 + completion_tokens},
        }

    def _answer_events(self, text, multiline=False):
        """Role chunk, keep-alives, content chunks, finish chunk, usage chunk."""
        evs = [b": keep-alive\n\n",
               self._event(self._chunk({"role": "assistant", "content": ""}),
                           multiline=multiline),
               b": keep-alive\r\n"]  # a comment line directly followed by data
        pieces = split_content(text)
        for p in pieces:
            evs.append(self._event(self._chunk({"content": p}), multiline=multiline))
        evs.append(self._event(self._chunk({}, "stop"), multiline=multiline))
        evs.append(self._event(self._usage_chunk(len(pieces)), multiline=multiline))
        return evs

    DONE = b"data: [DONE]\n\n"

    def _finish_events(self, evs, finish_reason):
        """Send the events of a stream after its finish chunk and its usage
        chunk, then [DONE], and end the stream."""
        evs.append(self._event(self._chunk({}, finish_reason)))
        evs.append(self._event(self._usage_chunk(len(evs))))
        self._write_split(b"".join(evs) + self.DONE)
        self._end_stream()

    # --- request handling -------------------------------------------------

    def do_GET(self):
        if self.path.split("?")[0] == "/requests":
            self._send_json(200, self.server.requests())
        elif self.path.split("?")[0].endswith("/models"):
            self._send_json(200, {"object": "list", "data": []})
        elif self.path == "/healthz":
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_DELETE(self):
        if self.path.split("?")[0] == "/requests":
            self.server.clear_requests()
            self._send_json(200, {"cleared": True})
        else:
            self._send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        raw = self._read_body()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            body = None
        rec = {
            "method": "POST",
            "path": self.path,
            "authorization": self.headers.get("Authorization"),
            "content_type": self.headers.get("Content-Type"),
            "accept": self.headers.get("Accept"),
            "body": body if body is not None else raw.decode("utf-8", "replace"),
            "time": time.time(),
        }
        self.server.record(rec)
        path = self.path.split("?")[0]
        if path.endswith("/completions") and not path.endswith("/chat/completions"):
            try:
                self._completions(body, raw)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                self.close_connection = True
            return
        if not self.path.split("?")[0].endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        if not isinstance(body, dict):
            self._send_json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            return

        self._model = str(body.get("model") or "")
        self._cid = "chatcmpl-" + hashlib.sha1(raw).hexdigest()[:24]
        self._created = int(time.time())
        self._event_no = 0
        self._ascii_toggle = False
        self._split_phase = 0
        self._chunked = True
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        beh = behaviour_of(self._model)
        try:
            users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            if beh == "fail" or (beh == "failturn2" and len(users) >= 2):
                self._fail()
            elif beh == "echoauth":
                self._echoauth()
            elif not body.get("stream") or beh == "nostream":
                self._non_stream(messages)
            else:
                getattr(self, "_b_" + beh.replace("-", "_"))(messages)
        except _Cut:
            pass
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _non_stream(self, messages):
        if behaviour_of(self._model) == "judge-slow":
            self._judge_sleep()
        text = reply_text(self._model, messages, self.server.tag_script)
        if self.server.chat_script is not None:
            scripted = self.server.chat_script(self._model, messages)
            if isinstance(scripted, str):
                text = scripted
        self._send_json(200, {
            "id": self._cid, "object": "chat.completion", "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        })

    # --- completions (agon bench) -------------------------------------------

    def _completions(self, body, raw):
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
            self._send_json(400, {"error": {"message": "prompt must be a string",
                                            "type": "invalid_request_error"}})
            return
        model = str(body.get("model") or "")
        prompt = body["prompt"]
        low = model.lower()
        beh = behaviour_of(model)
        m = re.match(r"slowlp(\d+)", low)
        if m:
            self.server.stopping.wait(int(m.group(1)) / 1000.0)
        m = re.match(r"flaky(\d)", low)
        if m and self.server.count(("flaky", raw)) <= int(m.group(1)):
            self._send_json(503, {"error": {"message": "overloaded, try again",
                                            "type": "server_error"}})
            return
        if beh == "fail":
            self._model = model
            self._fail()
            return
        echo = bool(body.get("echo"))
        if echo and beh == "noecho":
            self._send_json(400, {"error": {
                "message": "'echo' is not supported together with 'logprobs' "
                           "for this model", "type": "invalid_request_error",
                "param": "echo", "code": None}})
            return
        cid = "cmpl-" + hashlib.sha1(raw).hexdigest()[:24]
        choice = {"index": 0, "finish_reason": "length", "logprobs": None}
        if echo:
            toks = fake_tokens(model, prompt)
            script = self.server.logprob_script
            lps = []
            for i, (off, tok) in enumerate(toks):
                if i == 0:
                    lps.append(None)
                    continue
                v = script(model, prompt, i, off, tok) if script else None
                lps.append(v if isinstance(v, (int, float)) else
                           fake_logprob(model, prompt[:off], tok))
            gen = " the"
            tokens = [t for _, t in toks] + [gen]
            token_lps = lps + [-1.0]
            offsets = [o for o, _ in toks] + [len(prompt)]
            top = [None] + [{t: lp} for t, lp in zip(tokens[1:], token_lps[1:])]
            choice["text"] = prompt + gen
            if beh != "nologprobs" and body.get("logprobs") is not None:
                choice["logprobs"] = {"tokens": tokens, "token_logprobs": token_lps,
                                      "top_logprobs": top, "text_offset": offsets}
        else:
            text = None
            if self.server.completion_script is not None:
                text = self.server.completion_script(model, prompt)
            if not isinstance(text, str):
                text = fake_completion(model, prompt)
            for stop in body.get("stop") or []:
                if isinstance(stop, str) and stop and stop in text:
                    text = text[:text.index(stop)]
            choice["text"] = text
            choice["finish_reason"] = "stop"
        self._send_json(200, {"id": cid, "object": "text_completion",
                              "created": int(time.time()), "model": model,
                              "choices": [choice],
                              "usage": {"prompt_tokens": len(prompt) // 4,
                                        "completion_tokens": 1,
                                        "total_tokens": len(prompt) // 4 + 1}})

    # --- behaviours -------------------------------------------------------

    def _fail(self):
        m = re.match(r"fail(\d{3})", self._model.lower())
        status = int(m.group(1)) if m else 500
        types = {401: "invalid_api_key", 429: "rate_limit_exceeded"}
        err = {"error": {
            "message": "%s: upstream %s refused the request (status %d) at %s" % (
                PROVIDER_SECRET, self._model, status, self.server.root_url),
            "type": types.get(status, "server_error"),
            "param": None,
            "code": types.get(status, "internal_error"),
        }}
        extra = [("Retry-After", "1")] if status == 429 else []
        extra.append(("X-Provider-Secret", PROVIDER_SECRET))
        self._send_json(status, err, extra)

    def _echoauth(self):
        auth = self.headers.get("Authorization") or ""
        token = auth.split(" ", 1)[1] if " " in auth else auth
        raw = "".join("%s: %s\r\n" % kv for kv in self.headers.items())
        err = {"error": {
            "message": "echoauth: the upstream refused the request (Authorization: %s); "
                       "the key %s is not valid here" % (auth, token),
            "type": "server_error",
            "headers": dict(self.headers.items()),
            "raw_headers": raw,
        }}
        self._send_json(500, err)

    def _b_echo(self, messages):
        self._start_stream(chunked=True)
        data = b"".join(self._answer_events(echo_answer(self._model, messages)))
        self._write_split(data + self.DONE)
        self._end_stream()

    _b_failturn2 = _b_echo
    # completions' behaviours answer chat requests like echo
    _b_noecho = _b_nologprobs = _b_flaky = _b_slowlp = _b_straddle = _b_echo

    def _b_same(self, messages):
        m = re.search(r"slow(\d+)", self._model.lower())
        self._start_stream(chunked=True)
        evs = self._answer_events(same_answer(self._model, messages))
        if not m:
            self._write_split(b"".join(evs) + self.DONE)
        else:  # sameslowNNN..., sameloudslowNNN...: NNN ms between chunks
            for i, ev in enumerate(evs):
                if i >= 3:
                    time.sleep(int(m.group(1)) / 1000.0)
                self._write_split(ev)
            self._write_split(self.DONE)
        self._end_stream()

    def _b_attempt(self, messages):
        key = (self._model, json.dumps(messages, sort_keys=True))
        n = self.server.count(key)
        self._start_stream(chunked=True)
        text = "attempt %d: %s" % (n, echo_answer(self._model, messages))
        self._write_split(b"".join(self._answer_events(text)) + self.DONE)
        self._end_stream()

    def _b_pad(self, messages):
        self._start_stream(chunked=True)
        data = b"".join(self._answer_events(pad_answer(self._model, messages)))
        self._write_split(data + self.DONE)
        self._end_stream()

    def _reasoning_events(self, text, field="reasoning_content"):
        return [self._event(self._chunk({field: p, "content": None}))
                for p in split_content(text)]

    def _b_reasoning(self, messages, field="reasoning_content"):
        self._start_stream(chunked=True)
        evs = [self._event(self._chunk({"role": "assistant", "content": None,
                                        field: ""}))]
        evs += self._reasoning_events(reasoning_text(self._model, messages), field)
        for p in split_content(echo_answer(self._model, messages)):
            evs.append(self._event(self._chunk({"content": p, field: None})))
        self._finish_events(evs, "stop")

    def _b_reasoningfield(self, messages):
        self._b_reasoning(messages, field="reasoning")

    def _b_reasononly(self, messages):
        self._start_stream(chunked=True)
        evs = [self._event(self._chunk({"role": "assistant", "content": None}))]
        evs += self._reasoning_events(reasoning_text(self._model, messages))
        self._finish_events(evs, "length")

    def _b_toolonly(self, messages):
        self._start_stream(chunked=True)
        call = {"index": 0, "id": "call_" + self._cid[-8:], "type": "function",
                "function": {"name": "lookup", "arguments": ""}}
        evs = [self._event(self._chunk({"role": "assistant", "content": None,
                                        "tool_calls": [call]}))]
        args = json.dumps({"query": user_text(messages)[:40]})
        for p in split_content(args):
            evs.append(self._event(self._chunk(
                {"tool_calls": [{"index": 0, "function": {"arguments": p}}]})))
        self._finish_events(evs, "tool_calls")

    def _b_blank(self, messages):
        self._start_stream(chunked=True)
        data = b"".join(self._answer_events("  \n\n   \n\t \r\n "))
        self._write_split(data + self.DONE)
        self._end_stream()

    def _judge_sleep(self):
        m = re.match(r"judge-slow(\d+)", self._model.lower())
        delay = int(m.group(1)) / 1000.0 if m else JUDGE_SLOW_DEFAULT
        self.server.stopping.wait(delay)

    def _b_judge(self, messages):
        if behaviour_of(self._model) == "judge-slow":
            self._judge_sleep()
        self._start_stream(chunked=True)
        data = b"".join(self._answer_events(judge_reply(self._model, messages)))
        self._write_split(data + self.DONE)
        self._end_stream()

    _b_judge_first = _b_judge_second = _b_judge_tie = _b_judge_longer = _b_judge
    _b_judge_garbage = _b_judge_slow = _b_judge_single = _b_judge

    def _b_tag(self, messages):
        self._start_stream(chunked=True)
        text = tag_reply(self._model, messages, self.server.tag_script)
        data = b"".join(self._answer_events(text))
        self._write_split(data + self.DONE)
        self._end_stream()

    _b_tag_yes = _b_tag_no = _b_tag_garbage = _b_tag_script = _b_tag

    def _b_multiline(self, messages):
        self._start_stream(chunked=True)
        evs = self._answer_events(echo_answer(self._model, messages), multiline=True)
        self._write_split(b"".join(evs) + self.DONE)
        self._end_stream()

    def _b_slow(self, messages):
        m = re.match(r"slow(\d+)", self._model.lower())
        delay = int(m.group(1)) / 1000.0 if m else 0.2
        self._start_stream(chunked=False)
        evs = self._answer_events(echo_answer(self._model, messages))
        for i, ev in enumerate(evs):
            if i >= 3:  # after the role chunk and keep-alives
                time.sleep(delay)
            self._write_split(ev)
        self._write_split(self.DONE)
        self.close_connection = True

    def _b_cut(self, messages):
        self._start_stream(chunked=True)
        evs = self._answer_events(echo_answer(self._model, messages))
        self._write_split(b"".join(evs[:5]))
        time.sleep(0.05)
        # Half an event, then a reset.
        self._write(b'data: {"choices":[{"index":0,"delta":{"content":"tr')
        time.sleep(0.05)
        self._reset()

    def _b_malformed(self, messages):
        self._start_stream(chunked=True)
        evs = self._answer_events(echo_answer(self._model, messages))
        out = b"".join(evs[:5]) + b"data: {not json\n\n" + b"".join(evs[5:]) + self.DONE
        self._write_split(out)
        self._end_stream()

    def _b_hang(self, messages):
        self._start_stream(chunked=True)
        self._wait_client_gone()

    def _b_noanswer(self, messages):
        self._wait_client_gone()

    def _b_stall(self, messages):
        self._start_stream(chunked=True)
        evs = self._answer_events(echo_answer(self._model, messages))
        self._write_split(b"".join(evs[:6]))
        self._wait_client_gone()

    def _b_nodone(self, messages):
        self._start_stream(chunked=True)
        evs = self._answer_events(echo_answer(self._model, messages))
        self._write_split(b"".join(evs))
        self._end_stream()
        self.close_connection = True

    def _b_errorobj(self, messages):
        self._start_stream(chunked=True)
        evs = self._answer_events(echo_answer(self._model, messages))
        err = {"error": {"message": "%s: the model %s is overloaded" % (PROVIDER_SECRET, self._model),
                         "type": "server_error", "param": None, "code": "overloaded"}}
        out = b"".join(evs[:4]) + self._event(err) + self.DONE
        self._write_split(out)
        self._end_stream()

    def _b_big(self, messages):
        m = re.match(r"big-?(\d+)", self._model.lower())
        total = int(m.group(1)) if m else BIG_DEFAULT
        self._start_stream(chunked=True)
        self._write(self._event(self._chunk({"role": "assistant", "content": ""})))
        # 45 bytes; a model id with "-alt" in it gives another sentence of
        # the same length, so that two big models' answers differ
        unit = ("Sphinx of black quartz, judge my vow, again. " if "-alt" in self._model.lower()
                else "The quick brown fox jumps over the lazy dog. ")
        piece = (unit * 100)[:4000]
        sent, buf = 0, bytearray()
        while sent < total:
            p = piece[: min(len(piece), total - sent)]
            sent += len(p)
            buf += self._raw_event(json.dumps(self._chunk({"content": p})), eol="\n")
            if len(buf) >= 65521:
                self._write(bytes(buf[:65521]))
                del buf[:65521]
        buf += self._event(self._chunk({}, "stop")) + self._event(self._usage_chunk(sent // 4))
        buf += self.DONE
        self._write(bytes(buf))
        self._end_stream()

    def _b_badutf8(self, messages):
        self._start_stream(chunked=True)
        evs = self._answer_events("before the bad bytes ")
        head = evs[:3]
        tail = evs[3:]
        bad = (b'data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,'
               b'"delta":{"content":"bad \xff\xfe bytes \xc0\xaf and a cut \xe2\x82"},'
               b'"finish_reason":null}]}\n\n')
        self._write_split(b"".join(head) + bad + b"".join(tail) + self.DONE)
        self._end_stream()


class FakeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # Many simultaneous connections (judges, load tests): the default backlog of
    # 5 drops SYNs under a burst, which shows up as 1 s connect delays.
    request_queue_size = 128

    def __init__(self, addr, verbose=False):
        super().__init__(addr, Handler)
        self.verbose = verbose
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests = []
        self._counts = {}
        self.tag_script = None  # tag-script's replies: see the module's doc
        self.logprob_script = None       # completions' log-probabilities
        self.completion_script = None    # completions' texts without echo
        self.chat_script = None          # chat answers the test chose
        host, port = self.server_address[:2]
        self.port = port
        self.root_url = "http://%s:%d" % (host, port)
        self.api_base = self.root_url + "/v1"

    def record(self, rec):
        with self._lock:
            self._requests.append(rec)

    def count(self, key):
        """How many times key was counted, this time included."""
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def requests(self):
        with self._lock:
            return list(self._requests)

    def clear_requests(self):
        with self._lock:
            self._requests.clear()

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)

    def stop(self):
        self.stopping.set()
        self.shutdown()
        self.server_close()


def start_fake(host="127.0.0.1", port=0, verbose=False):
    """Start the fake in a background thread. Returns (server, base_url)."""
    srv = FakeServer((host, port), verbose=verbose)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                         name="fake-backend", daemon=True)
    t.start()
    srv.thread = t
    return srv, srv.root_url


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake OpenAI-compatible backend for Agon tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    srv = FakeServer((args.host, args.port), verbose=args.verbose)

    def on_term(signum, frame):
        threading.Thread(target=srv.stop, daemon=True).start()
    signal.signal(signal.SIGTERM, on_term)
    print("fake: listening on %s/" % srv.root_url, flush=True)
    try:
        srv.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stopping.set()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
