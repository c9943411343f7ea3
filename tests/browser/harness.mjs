// Helpers for Agon's browser tests: start the fake OpenAI-compatible backend and the real
// agon binary on random loopback ports, launch Debian's Chromium through playwright-core,
// and wait for page conditions with useful failure messages.
//
// Not a test file itself (node --test only picks up *.test.mjs here).

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, accessSync, constants as fsConstants } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const ARTIFACTS = path.join(HERE, 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Failure screenshots of an earlier run would only mislead.
export async function clearOldFailures() {
  let names = [];
  try { names = await readdir(ARTIFACTS); } catch { return; }
  await Promise.all(names.filter((n) => n.startsWith('FAILED-')).map((n) => rm(path.join(ARTIFACTS, n), { force: true })));
}

export function agonBin() {
  const p = process.env.AGON_BIN || 'build/agon';
  return path.isAbsolute(p) ? p : path.join(REPO, p);
}

export function checkPrerequisites() {
  const bin = agonBin();
  try {
    accessSync(bin, fsConstants.X_OK);
  } catch {
    throw new Error(`agon binary not found at ${bin} (build it with ninja -C build, or set AGON_BIN)`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  }
}

// Start a child process and wait for the first stdout line matching re. Returns
// { child, match, output() } where output() is everything it printed so far.
function startProcess(cmd, args, re, what, { cwd, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    let done = false;
    const output = () => log;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { log += d; });
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => finish(new Error(`${what} did not report its address within ${timeoutMs} ms\n${log}`)), timeoutMs);
    function finish(err, m) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else {
        resolve({ child, match: m, output });
      }
    }
    rl.on('line', (line) => {
      log += `${line}\n`;
      const m = re.exec(line);
      if (m) finish(null, m);
    });
    child.on('error', (e) => finish(new Error(`${what} could not start: ${e.message}`)));
    child.on('exit', (code, sig) => finish(new Error(`${what} exited early (code ${code}, signal ${sig})\n${log}`)));
  });
}

async function stopProcess(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
  await exited;
  clearTimeout(t);
}

// One isolated arena: a fake backend, an agon with its own temporary database, and a
// Chromium with a fresh user-data directory. models: { publicName: upstreamId }, or
// { publicName: { model: upstreamId, ...more keys of its [model] section } } (e.g.
// benchmarks: 'arc:71.1 mmlu:66.2'); ratings: extra keys for the [ratings] section, e.g.
// { min_battles: 1 }; judges: { NAME: { model: upstreamId, ...more keys of its [judge NAME]
// section } }, e.g. { model: 'judge-longer', auto: true }, all on the fake backend.
export async function startArena(models, { ratingsK, ratings = {}, judges = {}, contextOptions = {} } = {}) {
  checkPrerequisites();
  const dir = await mkdtemp(path.join(tmpdir(), 'agon-browser-'));
  const arena = { dir, procs: [], context: null, logs: {} };
  try {
    const fake = await startProcess('python3', [path.join(REPO, 'tests', 'fake_backend.py'), '--port', '0'],
      /^fake: listening on (http:\/\/127\.0\.0\.1:\d+)\/$/, 'fake backend');
    arena.procs.push(fake);
    arena.logs.fake = fake.output;
    const api = `${fake.match[1]}/v1`;

    // Browsers here vote the moment both answers are done: no reading delay.
    let ini = `[server]\ndatabase = ${path.join(dir, 'agon.db')}\n\n[limits]\nmin_vote_seconds = 0\nbattles_per_minute = 0\nvotes_per_minute = 0\nmax_connections_per_client = 0\nmax_streams_per_client = 0\n\n`;
    const r = { ...ratings };
    if (ratingsK !== undefined) r.k = ratingsK;
    if (Object.keys(r).length) {
      ini += `[ratings]\n${Object.entries(r).map(([k, v]) => `${k} = ${v}\n`).join('')}\n`;
    }
    const section = (head, spec) => {
      const { model, ...keys } = typeof spec === 'string' ? { model: spec } : spec;
      const more = { timeout: 30, ...keys };
      return `[${head}]\nbase_url = ${api}\nmodel = ${model}\n${Object.entries(more).map(([k, v]) => `${k} = ${v}\n`).join('')}\n`;
    };
    for (const [name, spec] of Object.entries(models)) ini += section(`model ${name}`, spec);
    for (const [name, spec] of Object.entries(judges)) ini += section(`judge ${name}`, spec);
    const cfg = path.join(dir, 'agon.ini');
    await writeFile(cfg, ini);

    const agon = await startProcess(agonBin(), ['serve', '--config', cfg, '--listen', '127.0.0.1:0'],
      /^agon: listening on (http:\/\/127\.0\.0\.1:\d+)\/$/, 'agon', { cwd: dir });
    arena.procs.push(agon);
    arena.logs.agon = agon.output;
    arena.url = `${agon.match[1]}/`;

    const profile = path.join(dir, 'chromium-profile');
    await mkdir(profile);
    arena.context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 30000,
      ...contextOptions,
    });
  } catch (e) {
    await stopArena(arena);
    throw e;
  }
  return arena;
}

export async function stopArena(arena) {
  if (!arena) return;
  if (arena.context) {
    try { await arena.context.close(); } catch { /* already gone */ }
  }
  for (const p of arena.procs.reverse()) await stopProcess(p.child);
  await rm(arena.dir, { recursive: true, force: true });
}

// A page that records console errors, page errors and failed requests.
export async function newPage(arena) {
  // The persistent context starts with one blank tab: use it first.
  const blank = arena.context.pages().find((p) => !p.problems && p.url() === 'about:blank');
  const page = blank || await arena.context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console.error: ${msg.text()} (${JSON.stringify(msg.location())})`);
  });
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => {
    const f = req.failure();
    const reason = f ? f.errorText : '?';
    // EventSource connections closed by the page itself after "end" report net::ERR_ABORTED.
    if (reason === 'net::ERR_ABORTED' && req.resourceType() === 'eventsource') return;
    page.problems.push(`requestfailed: ${req.method()} ${req.url()} ${reason}`);
  });
  page.setDefaultTimeout(20000);
  return page;
}

export async function pageState(page) {
  try {
    return await page.evaluate(() => {
      const q = (s) => document.querySelector(s);
      const texts = (side) => Array.from(document.querySelectorAll(`[data-testid=answer-${side}] .answer-text`)).map((e) => e.textContent.trim());
      return {
        phase: document.body.dataset.phase,
        a: texts('a'),
        b: texts('b'),
        statusA: q('#status-a')?.dataset.state,
        statusB: q('#status-b')?.dataset.state,
        votesDisabled: Array.from(document.querySelectorAll('[data-testid^=vote-]')).map((b) => b.disabled),
        banner: q('#banner')?.hidden ? '' : q('#banner-text')?.textContent,
        status: q('#status')?.textContent,
      };
    });
  } catch (e) {
    return { error: e.message };
  }
}

// Wait for fn (evaluated in the page) to return truthy; on timeout, fail with the page state.
export async function waitFor(page, what, fn, arg, timeout = 20000) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 'raf' });
  } catch (e) {
    const st = await pageState(page);
    throw new Error(`timed out waiting for ${what}: ${e.message.split('\n')[0]}\npage state: ${JSON.stringify(st, null, 1)}`);
  }
}

export function waitPhase(page, phases, timeout = 20000) {
  const list = Array.isArray(phases) ? phases : [phases];
  return waitFor(page, `phase ${list.join('|')}`, (l) => l.includes(document.body.dataset.phase), list, timeout);
}

// The text of each turn's answer in a pane (a rendered answer's text, without the
// whitespace between its blocks).
export async function answerTexts(page, side) {
  return page.$$eval(`[data-testid=answer-${side}] .answer-text`, (els) => els.map((e) => e.textContent.trim()));
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
}

// Install, in the page, a recorder of every moment a vote button became enabled, with the
// two panes' states at that moment (window.__voteLog).
export async function recordVoteButtons(page) {
  await page.evaluate(() => {
    window.__voteLog = [];
    const buttons = Array.from(document.querySelectorAll('[data-testid^=vote-]'));
    const snap = (why) => window.__voteLog.push({
      why,
      enabled: buttons.filter((b) => !b.disabled).map((b) => b.dataset.testid),
      a: document.getElementById('status-a').dataset.state,
      b: document.getElementById('status-b').dataset.state,
      phase: document.body.dataset.phase,
    });
    const mo = new MutationObserver(() => {
      if (buttons.some((b) => !b.disabled)) snap('enabled');
    });
    for (const b of buttons) mo.observe(b, { attributes: true, attributeFilter: ['disabled'] });
    window.__voteMo = mo;
  });
}

// Install, in the page, a recorder of the answer texts' lengths on every change
// (window.__streamLog: {phase, a, b} with the latest turn's lengths per side).
export async function recordStreaming(page) {
  await page.evaluate(() => {
    window.__streamLog = [];
    const last = (side) => {
      const els = document.querySelectorAll(`[data-testid=answer-${side}] .answer-text`);
      return els.length ? els[els.length - 1].textContent.length : 0;
    };
    const mo = new MutationObserver(() => {
      window.__streamLog.push({ phase: document.body.dataset.phase, a: last('a'), b: last('b') });
    });
    for (const side of ['a', 'b']) {
      mo.observe(document.querySelector(`[data-testid=answer-${side}]`), { subtree: true, childList: true, characterData: true });
    }
    window.__streamMo = mo;
  });
}

// ---------------------------------------------------------------------------
// Test building blocks shared by the *.test.mjs files.

export const VOTES = ['vote-a', 'vote-b', 'vote-tie', 'vote-bothbad'];

export function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The fake echo model's answer: "[TAG] turn N (M messages): you said: PROMPT".
export const ECHO_RE = (turn, msgs, prompt) =>
  new RegExp(`^\\[[0-9a-f]{10}\\] turn ${turn} \\(${msgs} messages\\): you said: ${escapeRe(prompt)}$`);

// The tag the fake backend puts at the start of an echo model's answers (see answer_tag in
// tests/fake_backend.py): lets a test tell which upstream wrote an answer without the page
// or the API naming it.
export function answerTag(upstream) {
  return `[${createHash('sha256').update(upstream, 'utf8').digest('hex').slice(0, 10)}]`;
}

// Run fn with a fresh arena; on failure keep screenshots of the open pages and add the
// server's log to the error.
export function arenaTest(name, models, opts, fn) {
  test(name, { timeout: 180000 }, async () => {
    const arena = await startArena(models, opts);
    try {
      await fn(arena);
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 80);
      let i = 0;
      for (const p of arena.context.pages()) {
        try { await screenshot(p, `FAILED-${slug}-${i++}.png`); } catch { /* page gone */ }
      }
      e.message += `\n--- agon log ---\n${arena.logs.agon ? arena.logs.agon().slice(-4000) : ''}`;
      throw e;
    } finally {
      await stopArena(arena);
    }
  });
}

export async function votesDisabled(page) {
  return page.$$eval(VOTES.map((v) => `[data-testid=${v}]`).join(','), (bs) => bs.map((b) => b.disabled));
}

// Type a prompt and press Enter; returns the battle id from POST /api/battles.
export async function startBattle(page, prompt) {
  const box = page.getByTestId('prompt');
  await box.fill(prompt);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/battles') && r.request().method() === 'POST'),
    box.press('Enter'),
  ]);
  assert.equal(resp.status(), 201, `POST /api/battles: ${resp.status()}`);
  const body = await resp.json();
  assert.match(body.id, /^[A-Za-z0-9_-]{16,}$/);
  return body.id;
}

export async function vote(page, testid) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => /\/api\/battles\/[^/]+\/vote$/.test(r.url()) && r.request().method() === 'POST'),
    page.getByTestId(testid).click(),
  ]);
  assert.equal(resp.status(), 200, `vote: HTTP ${resp.status()}`);
  return resp.json();
}

export async function leaderboardRows(page, scope = '') {
  return page.$$eval(`${scope} [data-testid=leaderboard-row]`.trim(), (rows) => rows.map((r) => ({
    model: r.dataset.model,
    provisional: r.classList.contains('provisional'),
    rank: r.querySelector('.rank')?.textContent,
    elo: r.querySelector('.elo')?.textContent,
    eloExact: r.querySelector('.elo')?.title,
    bt: r.querySelector('.bt-value')?.textContent ?? null,
    ciBar: !!r.querySelector('.col-bt svg[data-testid=ci-bar] .ci-range'),
    ciText: r.querySelector('.ci-text')?.textContent ?? null,
    rankUb: r.querySelector('.col-ub')?.textContent,
    battles: r.querySelector('.col-battles')?.textContent,
    winrate: r.querySelector('.col-winrate')?.textContent,
  })));
}

// Start a battle through the API (with the page's session cookie) and wait until it is no
// longer streaming. Returns { id, battle }.
export async function apiBattle(page, base, prompt, timeoutMs = 20000) {
  const res = await page.request.post(`${base}api/battles`, { data: { prompt } });
  assert.equal(res.status(), 201, `POST /api/battles: ${res.status()} ${await res.text()}`);
  const { id } = await res.json();
  const deadline = Date.now() + timeoutMs;
  let battle;
  for (;;) {
    battle = await (await page.request.get(`${base}api/battles/${id}`)).json();
    if (battle.status !== 'streaming' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50)); // polling the API, not synchronising a page
  }
  return { id, battle };
}

export async function apiVote(page, base, id, winner) {
  const res = await page.request.post(`${base}api/battles/${id}/vote`, { data: { winner } });
  assert.equal(res.status(), 200, `vote: ${res.status()} ${await res.text()}`);
  return res.json();
}

// The page must not scroll sideways at its current width.
export async function assertNoSideways(page, when) {
  const w = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    body: document.body.scrollWidth,
    inner: window.innerWidth,
  }));
  assert.ok(w.scroll <= w.inner && w.body <= w.inner, `${when}: the page scrolls sideways (${JSON.stringify(w)})`);
}
