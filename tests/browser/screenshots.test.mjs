// Screenshots of both pages, desktop and phone, light and dark, on an arena with some
// history (90 votes among five models, drawn from known strengths), saved to
// tests/browser/artifacts/. Also checks that both colour schemes apply and that neither
// page scrolls sideways at 390 px in either.
//
// AGON_UPDATE_SCREENSHOTS=1 also copies the desktop light screenshots to
// docs/screenshots/arena.png and docs/screenshots/leaderboard.png (linked from the README).

import { before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  newPage, waitFor, waitPhase, screenshot, clearOldFailures, checkPrerequisites, arenaTest,
  startBattle, vote, apiBattle, apiVote, answerTag, assertNoSideways, ARTIFACTS, REPO,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const MODELS = {
  'atlas-70b-chat': 'echo-atlas',
  'borealis-34b': 'echo-borealis',
  'cirrus-13b': 'echo-cirrus',
  'dune-8b-instruct': 'echo-dune',
  'ember-3b': 'echo-ember',
};
const TRUE_ELO = { 'echo-atlas': 1250, 'echo-borealis': 1150, 'echo-cirrus': 1060, 'echo-dune': 980, 'echo-ember': 860 };
const BATTLES = 90;

// A small deterministic PRNG (mulberry32), so every run plays the same outcomes.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function upstreamOf(text) {
  for (const up of Object.keys(TRUE_ELO)) if (text.startsWith(answerTag(up))) return up;
  throw new Error(`unknown answer ${text}`);
}

async function seed(page, base) {
  const rnd = prng(20240607);
  let next = 0;
  let limit = 1; // the first battle alone: it gets the session cookie the others share
  const worker = async () => {
    while (next < limit) {
      const i = next++;
      const { id, battle } = await apiBattle(page, base, `Seed question ${i}: explain something briefly.`);
      assert.equal(battle.status, 'ready');
      const ra = TRUE_ELO[upstreamOf(battle.turns[0].a)];
      const rb = TRUE_ELO[upstreamOf(battle.turns[0].b)];
      const u = rnd();
      const pa = 1 / (1 + 10 ** ((rb - ra) / 400));
      const winner = u < 0.12 ? 'tie' : u < 0.16 ? 'bothbad' : rnd() < pa ? 'a' : 'b';
      await apiVote(page, base, id, winner);
    }
  };
  await worker();
  limit = BATTLES;
  await Promise.all([worker(), worker(), worker()]);
}

const PROMPT = [
  'Compare two ways to reverse a list in Python.',
  '',
  '### Options',
  '',
  '1. **Slicing** returns a new list.',
  '2. **`list.reverse()`** works in place.',
  '',
  '| Method | Copies | In place |',
  '|--------|:------:|:--------:|',
  '| `xs[::-1]` | yes | no |',
  '| `xs.reverse()` | no | yes |',
  '',
  '```python',
  'xs = [1, 2, 3]',
  'print(xs[::-1])  # [3, 2, 1]',
  '```',
].join('\n');

async function background(page) {
  return page.evaluate(() => {
    const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = m.slice(1, 4).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  });
}

// Light and dark, at the current size: screenshots, the right colours, no sideways scroll.
async function bothSchemes(page, name, size) {
  for (const scheme of ['light', 'dark']) {
    // Reduced motion: no row highlight or pulse caught half-way in a picture.
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
    // Two frames: media query listeners (the heatmap colours) run before the next paint.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const lum = await background(page);
    if (scheme === 'dark') assert.ok(lum < 0.2, `${name} ${size} dark: background luminance ${lum}`);
    else assert.ok(lum > 0.8, `${name} ${size} light: background luminance ${lum}`);
    await assertNoSideways(page, `${name} ${size} ${scheme}`);
    if (name === 'leaderboard') {
      // The heatmaps switch to their own palette for the scheme.
      const fills = await page.$$eval('svg.heatmap rect.cell[fill]', (rs) => [...new Set(rs.map((r) => r.getAttribute('fill')))]);
      const want = scheme === 'dark' ? ['rgb(129 140 248)', 'rgb(251 146 60)', 'rgb(45 212 191)'] : ['rgb(79 70 229)', 'rgb(234 88 12)', 'rgb(13 148 136)'];
      assert.ok(fills.length > 0 && fills.every((f) => want.includes(f)), `${scheme} heatmap colours: ${fills}`);
    }
    await screenshot(page, `${name}-${size}-${scheme}.png`);
  }
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
}

arenaTest('screenshots: both pages, desktop and phone, light and dark', MODELS, {}, async (arena) => {
  const page = await newPage(arena);
  await page.goto(arena.url);
  await waitPhase(page, 'idle');
  await seed(page, arena.url);

  await startBattle(page, PROMPT);
  await waitPhase(page, 'ready', 30000);
  await vote(page, 'vote-a');
  await waitPhase(page, 'voted');
  await page.evaluate(() => window.scrollTo(0, 0));
  await bothSchemes(page, 'arena', 'desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await bothSchemes(page, 'arena', 'phone');

  const board = await newPage(arena);
  await board.goto(`${arena.url}leaderboard`);
  await waitFor(board, 'five rows with BT and a full battle heatmap', (battles) => {
    const rows = Array.from(document.querySelectorAll('[data-testid=leaderboard-row]'));
    const votes = Number(document.getElementById('votes').textContent.replace(/\D/g, ''));
    const cells = Array.from(document.querySelectorAll('[data-testid=heatmap-battles] rect.cell'));
    const total = cells.reduce((a, r) => a + Number(r.dataset.value || 0), 0);
    return rows.length === 5 && rows.every((r) => r.querySelector('svg[data-testid=ci-bar]'))
      && votes === battles + 1 && cells.length === 25 && total === 2 * votes;
  }, BATTLES, 30000);
  await bothSchemes(board, 'leaderboard', 'desktop');
  await board.setViewportSize({ width: 390, height: 844 });
  await bothSchemes(board, 'leaderboard', 'phone');

  if (process.env.AGON_UPDATE_SCREENSHOTS) {
    const docs = path.join(REPO, 'docs', 'screenshots');
    await mkdir(docs, { recursive: true });
    await copyFile(path.join(ARTIFACTS, 'arena-desktop-light.png'), path.join(docs, 'arena.png'));
    await copyFile(path.join(ARTIFACTS, 'leaderboard-desktop-light.png'), path.join(docs, 'leaderboard.png'));
  }
  assert.deepEqual(page.problems.concat(board.problems), [], 'no console errors');
});
