// A shared battle (GET /s/TOKEN): read-only. Reads GET /api/shared/TOKEN and shows the prompts,
// both answers (rendered as the arena renders them: web/markdown.js), the names, the vote, and
// the voter's reasons and comment. Everything but the answers' cleaned HTML is inserted as text.

import { markdownFragment } from '/markdown.js';

const VERDICT = { a: 'A is better', b: 'B is better', tie: 'Tie', bothbad: 'Both are bad' };
const byId = (id) => document.getElementById(id);

function fail(text) {
  byId('shared-summary').textContent = '';
  byId('shared-error-text').textContent = text;
  byId('shared-error').hidden = false;
}

function answerBox(side, name, turn, winner) {
  const pane = document.createElement('section');
  pane.className = 'pane';
  if (winner === side) pane.classList.add('winner');
  else if (winner === 'a' || winner === 'b') pane.classList.add('loser');
  const head = document.createElement('header');
  head.className = 'pane-head';
  const h = document.createElement('h2');
  h.textContent = `Model ${side.toUpperCase()}`;
  const n = document.createElement('span');
  n.className = 'model-name';
  n.dataset.testid = `shared-model-${side}`;
  n.textContent = name;
  head.append(h, n);
  const answer = document.createElement('div');
  answer.className = 'answer';
  answer.dataset.testid = `shared-answer-${side}`;
  const box = document.createElement('div');
  const html = turn[`${side}_html`];
  if (typeof html === 'string') {
    box.className = 'md';
    box.append(markdownFragment(html));
  } else {
    const err = turn.errors && turn.errors[side];
    box.textContent = typeof err === 'string' ? err : String(turn[side] ?? '');
  }
  answer.append(box);
  pane.append(head, answer);
  return pane;
}

async function main() {
  const m = /^\/s\/([0-9a-f]{32})$/.exec(window.location.pathname);
  if (!m) { fail('This link is not a shared battle.'); return; }
  let res, b;
  try {
    res = await fetch(`/api/shared/${m[1]}`, { credentials: 'omit', cache: 'no-store',
      referrerPolicy: 'no-referrer', headers: { Accept: 'application/json' } });
    b = await res.json();
  } catch {
    fail('The server could not be reached.');
    return;
  }
  if (!res.ok || !b || !Array.isArray(b.turns) || !b.models) {
    fail((b && b.error && b.error.message) || 'This shared battle does not exist (any more).');
    return;
  }
  const names = { a: String(b.models.a || '?'), b: String(b.models.b || '?') };
  byId('shared-summary').textContent =
    `Model A was ${names.a}, Model B was ${names.b}. The voter said: ${VERDICT[b.winner] || b.winner}.`;
  const reasons = Array.isArray(b.reasons) ? b.reasons.filter((r) => typeof r === 'string') : [];
  if (reasons.length) {
    const el = byId('shared-reasons');
    el.textContent = `Why: ${reasons.join(', ')}`;
    el.hidden = false;
  }
  if (typeof b.comment === 'string' && b.comment) {
    const el = byId('shared-comment');
    el.textContent = b.comment;
    el.hidden = false;
  }
  const turns = byId('shared-turns');
  for (const t of b.turns) {
    const q = document.createElement('p');
    q.className = 'shared-prompt';
    q.dataset.testid = 'shared-prompt';
    q.textContent = String(t.prompt ?? '');
    const row = document.createElement('div');
    row.className = 'panes';
    row.append(answerBox('a', names.a, t, b.winner), answerBox('b', names.b, t, b.winner));
    turns.append(q, row);
  }
  document.title = `Agon · ${names.a} vs ${names.b}`;
}

main();
