// Agon arena page. Plain ES2020 module, no dependencies.
// While an answer streams it is shown as plain text (a Text node). Once a side is done, the
// server sends the answer rendered as Markdown (md4c, raw HTML disabled, links only to http:,
// https:, mailto: and #, images as their alt text); that HTML is still parsed into an inert
// document, passed through an allowlist of elements and attributes (the same link rule; an
// image becomes a link, never loaded) and only then inserted. Prompts, names, errors and the
// models' reasoning are always inserted as text.

import { markdownFragment } from '/markdown.js';

const MAX_CHARS = 30000;
const SIDES = ['a', 'b'];
const VOTE_LABELS = { a: 'A is better', b: 'B is better', tie: 'Tie', bothbad: 'Both are bad' };
const KEY_VOTES = { a: 'a', b: 'b', t: 'tie', x: 'bothbad', 1: 'a', 2: 'b', 3: 'tie', 4: 'bothbad' };
const STATUS_TEXT = { idle: '', wait: 'Waiting…', streaming: 'Writing…', done: 'Done', error: 'Error', stopped: 'Stopped' };

const byId = (id) => document.getElementById(id);
const el = {
  prompt: byId('prompt'),
  label: byId('prompt-label'),
  form: byId('composer'),
  send: byId('send'),
  counter: byId('counter'),
  newBattle: byId('new-battle'),
  banner: byId('banner'),
  bannerText: byId('banner-text'),
  bannerNew: byId('banner-new'),
  status: byId('status'),
  intro: byId('intro'),
  votes: Array.from(document.querySelectorAll('.vote[data-winner]')),
  voteBar: byId('votes'),
  modes: Array.from(document.querySelectorAll('input[name="mode"]')),
  pickers: byId('pickers'),
  pick: { a: byId('pick-a'), b: byId('pick-b') },
  pickBLabel: byId('pick-b-label'),
  modeNote: byId('mode-note'),
  identical: byId('identical'),
  identicalNew: byId('identical-new'),
  feedback: byId('feedback'),
  reasons: byId('reasons'),
  comment: byId('comment'),
  share: byId('share'),
  shareBtn: byId('share-btn'),
  shareLink: byId('share-link'),
  shareUrl: byId('share-url'),
  shareCopy: byId('share-copy'),
  shareStop: byId('share-stop'),
  regenerate: byId('regenerate'),
};
// The modes of a battle (POST /api/battles): anonymous, two chosen models (names public, the
// vote not counted on the leaderboard), or one chosen model (a direct chat: no side B, no vote).
const MODE_NOTES = {
  named: 'You pick both models, so their names are shown at once. Votes here do not count on the leaderboard.',
  direct: 'A chat with the model you pick. There is nothing to vote on, and nothing counts on the leaderboard.',
};
const panes = {};
for (const s of SIDES) {
  panes[s] = {
    root: byId(`pane-${s}`),
    answer: byId(`answer-${s}`),
    name: byId(`model-${s}`),
    rating: byId(`rating-${s}`),
    card: byId(`card-${s}`),
    status: byId(`status-${s}`),
    retry: byId(`retry-${s}`),
  };
}

// phase: idle | sending | streaming | ready | retry | failed | voting | voted
// (retry: one side failed, the other answered; the failed side may be re-asked with another model)
const state = {
  gen: 0, id: null, eventsUrl: null, phase: 'idle', es: null,
  mode: 'anony',      // the current battle's mode: anony | named | direct
  identical: false,   // its latest turn's two answers are the same: no vote
  maxTurn: -Infinity, connErrors: 0, resyncs: 0,
  sides: {},
};

function freshSide() {
  return { state: 'idle', box: null, text: null, errEl: null, thought: null, chars: 0 };
}

// ---------- helpers ----------

async function api(method, url, body) {
  const opts = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, opts);
  } catch {
    throw Object.assign(new Error('The server could not be reached.'), { status: 0 });
  }
  let data = null;
  try { data = await res.json(); } catch { /* empty or non-JSON body */ }
  if (!res.ok) {
    const msg = (data && data.error && data.error.message) || `Request failed (HTTP ${res.status}).`;
    throw Object.assign(new Error(msg), { status: res.status, code: data && data.error && data.error.code });
  }
  return data;
}

function battleUrl(suffix = '') {
  return `/api/battles/${encodeURIComponent(state.id)}${suffix}`;
}

function countChars(s) {
  let n = 0;
  for (const _ of s) n++; // code points, not UTF-16 units
  return n;
}

function parse(ev) {
  try { return JSON.parse(ev.data); } catch { return null; }
}

function fmtElo(x) { return String(Math.round(x)); }

function setStatusLine(text) { el.status.textContent = text || ''; }

function showBanner(text, offerNew = false) {
  el.bannerText.textContent = text;
  el.bannerNew.hidden = !offerNew;
  el.banner.hidden = false;
}
function hideBanner() { el.banner.hidden = true; el.bannerText.textContent = ''; }

// ---------- markdown: web/markdown.js ----------

async function copyCode(btn) {
  const pre = btn.closest('.code-block')?.querySelector('pre');
  if (!pre) return;
  const text = pre.textContent;
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const sel = window.getSelection();
    const range = document.createRange();
    range.selectNodeContents(pre);
    sel.removeAllRanges();
    sel.addRange(range);
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    sel.removeAllRanges();
  }
  btn.textContent = ok ? 'Copied' : 'Select and copy';
  setTimeout(() => { btn.textContent = 'Copy'; }, 1500);
}

// ---------- panes ----------

function setSide(side, st) {
  const sd = state.sides[side];
  if (!sd) return;
  sd.state = st;
  const p = panes[side];
  p.status.dataset.state = st;
  let text = STATUS_TEXT[st] || '';
  if (st === 'streaming' && sd.chars > 0) text = `Writing… ${sd.chars.toLocaleString()} chars`;
  p.status.textContent = text;
  p.answer.setAttribute('aria-busy', st === 'wait' || st === 'streaming' ? 'true' : 'false');
}

function addTurn(prompt) {
  for (const s of SIDES) {
    const turn = document.createElement('div');
    turn.className = 'turn';
    const q = document.createElement('div');
    q.className = 'turn-prompt';
    q.textContent = prompt;
    const a = document.createElement('div');
    a.className = 'answer-text';
    // The model's reasoning, if it sent any: apart from the answer, folded, after it.
    const thought = document.createElement('details');
    thought.className = 'reasoning';
    thought.dataset.testid = `reasoning-${s}`;
    thought.hidden = true;
    const summary = document.createElement('summary');
    summary.textContent = 'Reasoning';
    const body = document.createElement('div');
    body.className = 'reasoning-text';
    thought.append(summary, body);
    const err = document.createElement('p');
    err.className = 'turn-error';
    err.hidden = true;
    turn.append(q, a, thought, err);
    panes[s].answer.append(turn);
    const sd = state.sides[s];
    sd.box = a;
    sd.errEl = err;
    sd.thought = thought;
    plain(s, '');
    setSide(s, activeSides().includes(s) ? 'wait' : 'idle');
    panes[s].answer.scrollTop = panes[s].answer.scrollHeight;
  }
  state.identical = false;
}

// Show the latest turn of a side as plain text (while streaming).
function plain(side, text) {
  const sd = state.sides[side];
  if (!sd || !sd.box) return;
  sd.text = document.createTextNode(text);
  sd.box.classList.remove('md');
  sd.box.replaceChildren(sd.text);
  sd.chars = text.length;
}

// Replace the latest turn of a side with its rendered Markdown.
function rendered(side, html) {
  const sd = state.sides[side];
  if (!sd || !sd.box || typeof html !== 'string') return;
  const box = panes[side].answer;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
  sd.box.replaceChildren(markdownFragment(html));
  sd.box.classList.add('md');
  sd.text = null;
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// Show a side's reasoning (plain text, folded), or hide it when there is none.
function reasoning(side, text) {
  const sd = state.sides[side];
  if (!sd || !sd.thought) return;
  const has = typeof text === 'string' && text !== '';
  sd.thought.querySelector('.reasoning-text').textContent = has ? text : '';
  sd.thought.open = false;
  sd.thought.hidden = !has;
}

// Reset the latest turn's text: the event stream replays it from the start on every (re)connect.
function restartTurn() {
  for (const s of SIDES) {
    const sd = state.sides[s];
    plain(s, '');
    reasoning(s, null);
    if (sd.errEl) { sd.errEl.hidden = true; sd.errEl.textContent = ''; }
    setSide(s, activeSides().includes(s) ? 'wait' : 'idle');
  }
}

function appendText(side, text) {
  const sd = state.sides[side];
  if (!sd || !sd.box || typeof text !== 'string' || text === '') return;
  if (!sd.text) plain(side, sd.box.textContent);
  const box = panes[side].answer;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
  sd.text.appendData(text);
  sd.chars += text.length;
  setSide(side, 'streaming');
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function setText(side, text) {
  const sd = state.sides[side];
  if (!sd || !sd.box) return;
  plain(side, text);
}

function sideError(side, message) {
  const sd = state.sides[side];
  if (!sd) return;
  if (sd.errEl) {
    sd.errEl.textContent = `⚠ ${message || 'This model failed to answer.'}`;
    sd.errEl.hidden = false;
  }
  setSide(side, 'error');
}

function clearPanes() {
  for (const s of SIDES) {
    const p = panes[s];
    p.answer.replaceChildren();
    p.answer.scrollTop = 0;
    p.name.textContent = '';
    p.name.hidden = true;
    p.rating.replaceChildren();
    p.rating.hidden = true;
    clearCard(p);
    p.root.classList.remove('winner', 'loser');
    state.sides[s] = freshSide();
    setSide(s, 'idle');
  }
}

// ---------- state / controls ----------

// The sides that answer in the current battle: a direct chat has side A only.
function activeSides() {
  return state.mode === 'direct' ? ['a'] : SIDES;
}

function selectedMode() {
  const r = el.modes.find((m) => m.checked);
  return r ? r.value : 'anony';
}

function canVote() {
  return state.phase === 'ready' && state.mode !== 'direct' && !state.identical &&
    SIDES.every((s) => state.sides[s].state === 'done');
}

// The mode switch and the pickers, for the next battle.
function updateModes() {
  const m = selectedMode();
  el.pickers.hidden = m === 'anony';
  el.pick.b.hidden = m !== 'named';
  el.pickBLabel.hidden = m !== 'named';
  el.modeNote.textContent = MODE_NOTES[m] || '';
  const busy = state.phase === 'sending' || state.phase === 'streaming' || state.phase === 'voting';
  for (const r of el.modes) r.disabled = busy;
  el.pick.a.disabled = busy;
  el.pick.b.disabled = busy;
  document.body.dataset.mode = state.phase === 'idle' ? m : state.mode;
}

// Show the models' names (a battle whose models the visitor chose names them at once).
function showNames(models) {
  for (const s of SIDES) {
    const name = models && typeof models[s] === 'string' ? models[s] : '';
    panes[s].name.textContent = name;
    panes[s].name.hidden = name === '';
  }
}

// Fill the pickers with the enabled models (GET /api/models), for a mode that chooses them.
// An anonymous battle's page lists no model at all: the pickers are emptied for it.
function clearModels() {
  for (const s of SIDES) el.pick[s].replaceChildren();
}

async function loadModels() {
  let r;
  try { r = await api('GET', '/api/models'); } catch { return; }
  const names = (r && Array.isArray(r.models) ? r.models : [])
    .map((m) => (m && typeof m.name === 'string' ? m.name : '')).filter((n) => n !== '');
  if (selectedMode() === 'anony') return; // switched back meanwhile
  for (const s of SIDES) {
    const sel = el.pick[s];
    const keep = sel.value;
    sel.replaceChildren(...names.map((n) => {
      const o = document.createElement('option');
      o.value = n;
      o.textContent = n;
      return o;
    }));
    if (names.includes(keep)) sel.value = keep;
  }
  if (names.length > 1 && el.pick.a.value === el.pick.b.value) {
    el.pick.b.value = names.find((n) => n !== el.pick.a.value);
  }
}

function update() {
  const p = state.phase;
  const value = el.prompt.value;
  const n = countChars(value);
  const over = n > MAX_CHARS;
  el.counter.textContent = `${n.toLocaleString()} / ${MAX_CHARS.toLocaleString()}`;
  el.counter.classList.toggle('over', over);
  el.counter.classList.toggle('near', !over && n > MAX_CHARS * 0.9);

  const sendable = p === 'idle' || p === 'ready' || p === 'retry' || p === 'failed' || p === 'voted';
  el.send.disabled = !sendable || over || value.trim() === '';
  el.send.textContent = p === 'ready' ? 'Send follow-up' : 'Send';

  const votable = canVote();
  for (const b of el.votes) b.disabled = !votable;
  // identical answers: no vote, a new battle instead
  const same = state.identical && (p === 'ready' || p === 'sending');
  el.identical.hidden = !same;
  el.voteBar.hidden = same || state.mode === 'direct';
  updateModes();
  updateFeedback();
  // Regenerate: before the vote only, and not while the answers stream.
  el.regenerate.hidden = !(p === 'ready' || p === 'sending' || p === 'streaming' || p === 'voting') || state.id === null;
  el.regenerate.disabled = !votable;
  for (const s of SIDES) panes[s].retry.hidden = !(p === 'retry' && state.sides[s].state === 'error');

  el.newBattle.hidden = p === 'idle';
  el.intro.hidden = p !== 'idle';

  if (p === 'ready' && state.mode === 'direct') {
    el.label.textContent = 'Follow-up';
    el.prompt.placeholder = 'Ask a follow-up…';
  } else if (p === 'ready') {
    el.label.textContent = 'Follow-up for both models';
    el.prompt.placeholder = 'Ask both models a follow-up…';
  } else if (p === 'failed' || p === 'voted' || p === 'retry') {
    el.label.textContent = 'Prompt for a new battle';
    el.prompt.placeholder = 'Ask anything to start a new battle…';
  } else {
    el.label.textContent = 'Your prompt';
    el.prompt.placeholder = 'Ask anything…';
  }
  document.body.dataset.phase = p;
}

function closeEvents() {
  if (state.es) {
    state.es.close();
    state.es = null;
  }
}

function resetBattle() {
  state.gen++;
  closeEvents();
  state.id = null;
  state.eventsUrl = null;
  state.phase = 'idle';
  state.mode = selectedMode();
  state.identical = false;
  state.maxTurn = -Infinity;
  state.connErrors = 0;
  state.resyncs = 0;
  for (const b of el.votes) b.removeAttribute('aria-pressed');
  resetFeedback();
  clearPanes();
  hideBanner();
  setStatusLine('');
}

function newBattle() {
  resetBattle();
  update();
  el.prompt.focus();
}

// ---------- event stream ----------

function turnOk(d) {
  if (!d || typeof d !== 'object') return false;
  if (typeof d.turn === 'number') {
    if (d.turn < state.maxTurn) return false; // stale event of an earlier turn
    state.maxTurn = d.turn;
  }
  return true;
}

function openEvents() {
  closeEvents();
  state.phase = 'streaming';
  state.connErrors = 0;
  update();
  const gen = state.gen;
  const es = new EventSource(state.eventsUrl);
  state.es = es;
  const on = (type, fn) => es.addEventListener(type, (ev) => {
    if (gen !== state.gen || es !== state.es) return;
    fn(ev);
  });

  on('open', () => {
    state.connErrors = 0;
    restartTurn();
    setStatusLine('');
  });
  on('delta', (ev) => {
    const d = parse(ev);
    if (turnOk(d) && SIDES.includes(d.side)) appendText(d.side, d.text);
  });
  on('done', (ev) => {
    const d = parse(ev);
    if (!turnOk(d) || !SIDES.includes(d.side)) return;
    if (typeof d.html === 'string') rendered(d.side, d.html);
    setSide(d.side, 'done');
  });
  // "error" is both the server's named event (a MessageEvent with data) and EventSource's connection error.
  on('error', (ev) => {
    if (typeof ev.data === 'string' && ev.data !== '') {
      const d = parse(ev);
      if (turnOk(d) && SIDES.includes(d.side)) sideError(d.side, d.message);
      return;
    }
    connectionError(es);
  });
  on('end', (ev) => {
    const d = parse(ev);
    closeEvents(); // the server closes the stream after "end"; do not let EventSource reconnect
    state.identical = !!(d && d.identical === true);
    finish(d && (d.status === 'ready' || d.status === 'retry') ? d.status : 'failed');
  });
}

function connectionError(es) {
  state.connErrors++;
  if (es.readyState === EventSource.CLOSED || state.connErrors > 3) {
    closeEvents();
    resync();
  } else {
    setStatusLine('Connection lost, reconnecting…');
  }
}

// Recover from a broken event stream using the battle snapshot.
async function resync() {
  const gen = state.gen;
  setStatusLine('Reconnecting…');
  let b;
  try {
    b = await api('GET', battleUrl());
  } catch (e) {
    if (gen !== state.gen) return;
    failBattle(`Lost the connection to the server: ${e.message}`);
    return;
  }
  if (gen !== state.gen) return;
  const turns = Array.isArray(b.turns) ? b.turns : [];
  const last = turns[turns.length - 1];
  if (last) {
    for (const s of SIDES) {
      if (typeof last[`${s}_html`] === 'string') rendered(s, last[`${s}_html`]);
      else if (typeof last[s] === 'string') setText(s, last[s]);
      reasoning(s, last[`${s}_reasoning`]);
    }
  }
  setStatusLine('');
  if (b.status === 'streaming') {
    if (++state.resyncs > 5) {
      failBattle('Lost the connection to the answer stream.');
      return;
    }
    setTimeout(() => { if (gen === state.gen) openEvents(); }, 500 * state.resyncs);
  } else if (b.status === 'ready' || b.status === 'failed' || b.status === 'retry') {
    state.identical = b.identical === true;
    if (b.status === 'retry' && last && last.errors) {
      for (const s of SIDES) if (last.errors[s]) sideError(s, last.errors[s]);
    }
    finish(b.status);
  } else if (b.status === 'voted') {
    for (const s of SIDES) if (state.sides[s].state !== 'error') setSide(s, 'done');
    state.phase = 'voted';
    if (b.models) reveal({ winner: b.winner, models: b.models, cards: b.cards }, null);
    showFeedback(b);
    update();
  }
}

function failBattle(message) {
  closeEvents();
  for (const s of SIDES) {
    const st = state.sides[s].state;
    if (st === 'wait' || st === 'streaming') setSide(s, 'stopped');
  }
  state.phase = 'failed';
  showBanner(message, true);
  setStatusLine('');
  update();
}

function finish(status) {
  if (status === 'ready') {
    for (const s of activeSides()) setSide(s, 'done');
    state.phase = 'ready';
    hideBanner();
    if (state.mode === 'direct') setStatusLine('The answer is complete. Ask a follow-up, or start a new chat.');
    else if (state.identical) setStatusLine('Both answers are the same. Start a new battle, or ask a follow-up.');
    else if (state.mode === 'named') setStatusLine('Both answers are complete. Vote for the better one (not counted on the leaderboard), or ask a follow-up.');
    else setStatusLine('Both answers are complete. Vote for the better one, or ask a follow-up.');
    update();
  } else if (status === 'retry') {
    // One side failed, the other answered: the failed side may be asked again, by another model.
    state.phase = 'retry';
    const failed = SIDES.filter((s) => state.sides[s].state === 'error');
    const name = failed.length === 1 ? `Model ${failed[0].toUpperCase()}` : 'One model';
    showBanner(`${name} failed to answer, so this battle cannot be voted on yet. Retry it with another model, or start a new battle.`, true);
    setStatusLine('');
    update();
  } else {
    failBattle('This battle failed, so it cannot be voted on. Start a new battle to try again.');
  }
}

// ---------- regenerate and retry ----------

// Ask the latest prompt again: "regenerate" (both sides, same models) or "retry" (the failed
// side, another model). The answers shown are replaced by the new ones, streamed from the start.
async function reask(kind) {
  if (kind === 'regenerate' ? !canVote() : state.phase !== 'retry') return;
  const gen = state.gen;
  const was = state.phase;
  state.phase = 'sending';
  update();
  setStatusLine(kind === 'regenerate' ? 'Asking both models again…' : 'Asking another model…');
  try {
    await api('POST', battleUrl(`/${kind}`), {});
    if (gen !== state.gen) return;
    hideBanner();
    setStatusLine('');
    restartTurn();
    openEvents();
  } catch (e) {
    if (gen !== state.gen) return;
    state.phase = was;
    setStatusLine('');
    showBanner(`${kind === 'regenerate' ? 'Could not regenerate' : 'Could not retry'}: ${e.message}`, was === 'retry');
    update();
  }
}

// ---------- sending ----------

async function send() {
  const text = el.prompt.value;
  if (el.send.disabled || text.trim() === '' || countChars(text) > MAX_CHARS) return;
  if (state.phase === 'ready') await followUp(text);
  else await startBattle(text);
}

async function startBattle(text) {
  resetBattle();
  const gen = state.gen;
  state.phase = 'sending';
  addTurn(text);
  update();
  setStatusLine('Starting a battle…');
  const body = { prompt: text };
  if (state.mode === 'named') body.models = [el.pick.a.value, el.pick.b.value];
  else if (state.mode === 'direct') body.models = [el.pick.a.value];
  try {
    const r = await api('POST', '/api/battles', body);
    if (gen !== state.gen) return;
    if (!r || typeof r.id !== 'string') throw new Error('Unexpected reply from the server.');
    state.id = r.id;
    if (state.mode !== 'anony') showNames(r.models);
    state.eventsUrl = typeof r.events === 'string' && r.events.startsWith('/') ? r.events : battleUrl('/events');
    el.prompt.value = '';
    setStatusLine('');
    openEvents();
  } catch (e) {
    if (gen !== state.gen) return;
    resetBattle();
    showBanner(`Could not start a battle: ${e.message}`);
    update();
  }
}

async function followUp(text) {
  const gen = state.gen;
  state.phase = 'sending';
  update();
  setStatusLine('Sending the follow-up…');
  try {
    await api('POST', battleUrl('/turns'), { prompt: text });
    if (gen !== state.gen) return;
    el.prompt.value = '';
    setStatusLine('');
    hideBanner();
    addTurn(text);
    openEvents();
  } catch (e) {
    if (gen !== state.gen) return;
    state.phase = 'ready';
    setStatusLine('');
    showBanner(`The follow-up was not sent: ${e.message}`);
    update();
    if (e.status === 409) resync();
  }
}

// ---------- voting ----------

async function vote(winner) {
  if (!canVote() || !(winner in VOTE_LABELS)) return;
  const gen = state.gen;
  state.phase = 'voting';
  for (const b of el.votes) b.setAttribute('aria-pressed', String(b.dataset.winner === winner));
  update();
  setStatusLine('Recording your vote…');
  // Ratings before the vote, to show each model's change. Names are learnt only from the vote reply.
  let before = null;
  try { before = await api('GET', '/api/leaderboard'); } catch { /* deltas are optional */ }
  if (gen !== state.gen) return;
  try {
    const r = await api('POST', battleUrl('/vote'), { winner, ...feedbackBody() });
    if (gen !== state.gen) return;
    state.phase = 'voted';
    reveal(r, before);
    showFeedback(r);
    hideBanner();
    update();
    showReasoning(gen);
  } catch (e) {
    if (gen !== state.gen) return;
    for (const b of el.votes) b.removeAttribute('aria-pressed');
    state.phase = 'ready';
    setStatusLine('');
    showBanner(`Your vote was not recorded: ${e.message}`);
    update();
    if (e.status === 409) resync();
  }
}

// The models' reasoning is only given once the battle is voted (before, that a side reasons
// at all would tell a reasoning model apart): fetch it after the vote.
async function showReasoning(gen) {
  let b;
  try { b = await api('GET', battleUrl()); } catch { return; }
  if (gen !== state.gen) return;
  const turns = Array.isArray(b.turns) ? b.turns : [];
  const last = turns[turns.length - 1];
  if (last) for (const s of SIDES) reasoning(s, last[`${s}_reasoning`]);
  // What was replaced before the vote, now that the models are known.
  const notes = [];
  for (const r of Array.isArray(b.replacements) ? b.replacements : []) {
    if (r && SIDES.includes(r.side)) {
      notes.push(`${r.side.toUpperCase()} was replaced after an error (${r.old_model} failed, ${r.new_model} answered).`);
    }
  }
  const regens = (Array.isArray(b.replaced) ? b.replaced : []).filter((x) => x && x.kind === 'regenerate' && x.side === 'a').length;
  if (regens > 0) notes.push(`Answers were regenerated ${regens === 1 ? 'once' : `${regens} times`} before the vote.`);
  if (notes.length) {
    const line = document.createElement('span');
    line.className = 'replaced-note';
    line.dataset.testid = 'replaced-note';
    line.textContent = ` ${notes.join(' ')}`;
    el.status.append(line);
  }
}

function reveal(r, before) {
  const models = (r && r.models) || {};
  const elo = (r && r.elo) || {};
  const prev = new Map();
  if (before) {
    for (const list of [before.models, before.provisional]) {
      if (Array.isArray(list)) for (const m of list) prev.set(m.model, m.elo);
    }
  }
  for (const s of SIDES) {
    const p = panes[s];
    const name = typeof models[s] === 'string' ? models[s] : '';
    p.name.textContent = name;
    p.name.hidden = name === '';
    p.rating.replaceChildren();
    const now = elo[name];
    if (name && typeof now === 'number') {
      p.rating.append(`Elo ${fmtElo(now)}`);
      const old = prev.get(name);
      if (typeof old === 'number') {
        const d = now - old;
        const span = document.createElement('span');
        span.className = d > 0 ? 'up' : d < 0 ? 'down' : '';
        span.textContent = ` ${d > 0 ? '▲ +' : d < 0 ? '▼ −' : '±'}${Math.abs(d).toFixed(1)}`;
        p.rating.append(span);
      }
      p.rating.hidden = false;
    }
  }
  showCards(r && r.cards);
  const w = r && r.winner;
  for (const b of el.votes) b.setAttribute('aria-pressed', String(b.dataset.winner === w));
  panes.a.root.classList.toggle('winner', w === 'a');
  panes.b.root.classList.toggle('winner', w === 'b');
  panes.a.root.classList.toggle('loser', w === 'b');
  panes.b.root.classList.toggle('loser', w === 'a');
  let msg = `Thanks! You voted “${VOTE_LABELS[w] || w}”. Model A was ${models.a || '?'}, Model B was ${models.b || '?'}.`;
  if (r && r.counted === false) msg += ' This vote was recorded but not counted in the ratings.';
  setStatusLine(`${msg} Start a new battle whenever you like.`);
}

// ---------- around the vote: reasons, comment, sharing ----------
// Reasons and the comment are chosen next to the vote buttons, once both answers are done, and
// sent with the vote in the same request (stored in the vote's own transaction). After the vote
// they are shown as sent, and the battle can be shared behind a link.

const feedback = { reasons: [], maxReasons: 0, shareUrl: null, loaded: false };

async function loadArenaSettings() {
  try {
    const s = await api('GET', '/api/arena');
    feedback.reasons = Array.isArray(s.vote_reasons) ? s.vote_reasons.filter((x) => typeof x === 'string') : [];
    feedback.maxReasons = Number.isInteger(s.max_vote_reasons) ? s.max_vote_reasons : feedback.reasons.length;
    if (Number.isInteger(s.max_vote_comment_chars)) el.comment.maxLength = s.max_vote_comment_chars;
  } catch { feedback.reasons = []; }
  el.reasons.replaceChildren();
  for (const reason of feedback.reasons) {
    const chip = document.createElement('button');
    chip.type = 'button';
    chip.className = 'chip';
    chip.dataset.reason = reason;
    chip.setAttribute('aria-pressed', 'false');
    chip.textContent = reason;
    chip.addEventListener('click', () => {
      if (chip.disabled) return;
      const on = chip.getAttribute('aria-pressed') !== 'true';
      if (on && chosenReasons().length >= feedback.maxReasons) return;
      chip.setAttribute('aria-pressed', String(on));
    });
    el.reasons.append(chip);
  }
  feedback.loaded = true;
  update();
}

function chips() { return Array.from(el.reasons.querySelectorAll('.chip')); }

function chosenReasons() {
  return chips().filter((c) => c.getAttribute('aria-pressed') === 'true').map((c) => c.dataset.reason);
}

function feedbackBody() {
  const body = {};
  const reasons = chosenReasons();
  if (reasons.length) body.reasons = reasons;
  const comment = el.comment.value.trim();
  if (comment) body.comment = comment;
  return body;
}

function updateFeedback() {
  const p = state.phase;
  const open = p === 'ready' || p === 'voting' || p === 'voted';
  el.feedback.hidden = !open || (p !== 'voted' && !canVote() && p !== 'voting');
  const editable = canVote();
  for (const c of chips()) c.disabled = !editable;
  el.comment.disabled = !editable;
  el.share.hidden = p !== 'voted';
}

function resetFeedback() {
  for (const c of chips()) c.setAttribute('aria-pressed', 'false');
  el.comment.value = '';
  feedback.shareUrl = null;
  el.shareLink.hidden = true;
  el.shareBtn.hidden = false;
  el.shareUrl.value = '';
}

// The vote's reply (or the voted battle): its reasons and comment, as stored.
function showFeedback(r) {
  const given = new Set(Array.isArray(r && r.reasons) ? r.reasons : []);
  for (const c of chips()) c.setAttribute('aria-pressed', String(given.has(c.dataset.reason)));
  if (r && typeof r.comment === 'string') el.comment.value = r.comment;
  else if (r && r.comment === null) el.comment.value = '';
}

async function shareBattle() {
  const gen = state.gen;
  el.shareBtn.disabled = true;
  try {
    const r = await api('POST', battleUrl('/share'), {});
    if (gen !== state.gen) return;
    feedback.shareUrl = new URL(r.url, window.location.origin).href;
    el.shareUrl.value = feedback.shareUrl;
    el.shareLink.hidden = false;
    el.shareBtn.hidden = true;
    setStatusLine('Anyone with this link can see both answers, the names and your vote.');
  } catch (e) {
    if (gen === state.gen) showBanner(`The battle could not be shared: ${e.message}`);
  } finally {
    el.shareBtn.disabled = false;
  }
}

async function stopSharing() {
  const gen = state.gen;
  try {
    await api('DELETE', battleUrl('/share'));
    if (gen !== state.gen) return;
    feedback.shareUrl = null;
    el.shareLink.hidden = true;
    el.shareBtn.hidden = false;
    setStatusLine('The link no longer works.');
  } catch (e) {
    if (gen === state.gen) showBanner(`Could not stop sharing: ${e.message}`);
  }
}

async function copyShareUrl() {
  try {
    await navigator.clipboard.writeText(el.shareUrl.value);
    el.shareCopy.textContent = 'Copied';
  } catch {
    el.shareUrl.select();
    el.shareCopy.textContent = 'Press Ctrl+C';
  }
  setTimeout(() => { el.shareCopy.textContent = 'Copy'; }, 1500);
}

el.shareBtn.addEventListener('click', shareBattle);
el.shareStop.addEventListener('click', stopSharing);
el.shareCopy.addEventListener('click', copyShareUrl);

// ---------- model cards (given only once the battle is voted) ----------

function clearCard(p) {
  p.card.replaceChildren();
  p.card.hidden = true;
}

// cards: [a, b] as the server gives them after the vote (organization, license, url,
// open_weights, context, price); each shown under its revealed name. Text only.
function showCards(cards) {
  if (!Array.isArray(cards)) return;
  SIDES.forEach((s, i) => {
    const p = panes[s];
    const c = cards[i];
    clearCard(p);
    if (!c || typeof c !== 'object') return;
    const parts = [];
    if (typeof c.organization === 'string') parts.push(c.organization);
    if (typeof c.license === 'string') parts.push(c.license);
    parts.push(c.open_weights ? 'open weights' : 'closed weights');
    if (Number.isInteger(c.context)) parts.push(`${c.context.toLocaleString('en-US')} tokens of context`);
    if (typeof c.price === 'string') parts.push(c.price);
    p.card.append(parts.join(' · '));
    if (typeof c.url === 'string' && /^https?:\/\//i.test(c.url)) {
      const a = document.createElement('a');
      a.href = c.url;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      a.textContent = 'model page';
      p.card.append(' · ', a);
    }
    p.card.hidden = false;
  });
}

// ---------- wiring ----------

el.form.addEventListener('submit', (e) => {
  e.preventDefault();
  send();
});

el.prompt.addEventListener('input', update);

el.prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    send();
  } else if (e.key === 'Escape') {
    el.prompt.blur();
  }
});

for (const b of el.votes) b.addEventListener('click', () => vote(b.dataset.winner));
el.regenerate.addEventListener('click', () => reask('regenerate'));
for (const s of SIDES) panes[s].retry.addEventListener('click', () => reask('retry'));
for (const s of SIDES) {
  panes[s].answer.addEventListener('click', (e) => {
    const btn = e.target instanceof Element ? e.target.closest('button.copy') : null;
    if (btn) copyCode(btn);
  });
}
el.newBattle.addEventListener('click', newBattle);
el.bannerNew.addEventListener('click', newBattle);
el.identicalNew.addEventListener('click', newBattle);
// Another mode starts afresh: a battle's mode is fixed when it starts.
for (const r of el.modes) {
  r.addEventListener('change', () => {
    if (state.phase !== 'idle') resetBattle();
    state.mode = selectedMode();
    if (state.mode === 'anony') clearModels();
    else loadModels();
    update();
  });
}

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  const t = e.target;
  if (t instanceof Element && t.closest('textarea, input, select, [contenteditable=""], [contenteditable="true"]')) return;
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (k in KEY_VOTES) {
    if (canVote()) {
      e.preventDefault();
      vote(KEY_VOTES[k]);
    }
  } else if (k === 'r') {
    if (canVote()) {
      e.preventDefault();
      reask('regenerate');
    }
  } else if (k === 'n') {
    if (state.phase === 'voted' || state.phase === 'failed' || state.phase === 'retry' ||
        (state.phase === 'ready' && state.identical)) {
      e.preventDefault();
      newBattle();
    }
  } else if (k === '/') {
    e.preventDefault();
    el.prompt.focus();
  }
});

window.addEventListener('pagehide', closeEvents);

for (const s of SIDES) state.sides[s] = freshSide();
state.mode = selectedMode();
update();
if (state.mode !== 'anony') loadModels(); // a mode the browser restored on reload
loadArenaSettings();
