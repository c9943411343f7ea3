// Model cards and the rating history in the browser (issue 14): the leaderboard's
// organization and license columns with each name linked to its model page, the "Open
// weights only" checkbox (the table refitted over the open-weights models, the choice kept in
// the URL), the chart of each model's rating over time (one line per model, named in the
// legend), and the arena page showing the cards under the names once the battle is voted.

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, waitPhase, clearOldFailures, checkPrerequisites, arenaTest, startBattle, vote,
  apiBattle, apiVote, screenshot,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const MODELS = {
  'open-owl': {
    model: 'echo-owl', organization: 'Owl Labs', license: 'Apache-2.0', url: 'https://example.org/owl',
    open_weights: true, context: 32768,
  },
  'open-otter': {
    model: 'echo-otter', organization: 'Otter Inc.', license: 'MIT', url: 'https://example.org/otter',
    open_weights: true,
  },
  'closed-crow': {
    model: 'echo-crow', organization: 'Crow Corp', license: 'proprietary', url: 'https://example.org/crow',
    open_weights: false, price: '$1 in / $2 out per 1M tokens',
  },
};

const tableRows = (page) => page.$$eval('#rows [data-testid=leaderboard-row]', (rs) => rs.map((r) => ({
  model: r.dataset.model,
  org: r.querySelector('[data-testid=organization]')?.textContent,
  license: r.querySelector('[data-testid=license]')?.textContent,
  href: r.querySelector('a[data-testid=model-link]')?.getAttribute('href') ?? null,
})));

// n votes through the API, the first-named model of each pair winning.
async function playVotes(page, base, n) {
  for (let i = 0; i < n; i++) {
    const { id, battle } = await apiBattle(page, base, `Card question ${i}?`);
    assert.equal(battle.status, 'ready', JSON.stringify(battle));
    await apiVote(page, base, id, i % 3 === 2 ? 'b' : 'a');
  }
}

arenaTest('leaderboard: card columns, the open-weights board in the URL, the history chart',
  MODELS, { ratings: { min_battles: 0, bootstrap_rounds: 10 } }, async (arena) => {
    const page = await newPage(arena);
    await playVotes(page, arena.url, 12);
    await page.goto(`${arena.url}leaderboard`);
    await waitFor(page, 'three rows', () => document.querySelectorAll('#rows [data-testid=leaderboard-row]').length === 3);
    const rows = await tableRows(page);
    for (const r of rows) {
      const card = MODELS[r.model];
      assert.equal(r.org, card.organization, JSON.stringify(r));
      assert.equal(r.license, card.license + (card.open_weights ? 'open' : ''), JSON.stringify(r));
      assert.equal(r.href, card.url, JSON.stringify(r));
    }

    // the chart: a line per model that has votes, its name in the legend
    await waitFor(page, 'the history chart', () => document.querySelectorAll('[data-testid=history-line]').length === 3);
    const lines = await page.$$eval('[data-testid=history-line]', (ps) => ps.map((p) => ({
      model: p.dataset.model, d: p.getAttribute('d'),
    })));
    assert.deepEqual(lines.map((l) => l.model).sort(), Object.keys(MODELS).sort());
    for (const l of lines) assert.match(l.d, /^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/, `a drawn line: ${l.d}`);
    const legend = await page.$$eval('[data-testid=history-legend-item]', (li) => li.map((x) => x.textContent));
    assert.deepEqual(legend.slice().sort(), Object.keys(MODELS).sort());
    // its last points are the current Elo of each model
    const api = await (await page.request.get(`${arena.url}api/leaderboard/history`)).json();
    const board = await (await page.request.get(`${arena.url}api/leaderboard`)).json();
    for (const m of api.models) {
      const row = board.models.concat(board.provisional).find((r) => r.model === m.model);
      assert.ok(Math.abs(m.elo[m.elo.length - 1] - row.elo) < 1e-6, `${m.model}: ${m.elo.at(-1)} vs ${row.elo}`);
    }

    // open weights only: the two open models, refitted; the URL keeps the choice
    await page.getByTestId('open-weights').check();
    await waitFor(page, 'the open-weights board', () => {
      const names = Array.from(document.querySelectorAll('#rows [data-testid=leaderboard-row], #prov-rows [data-testid=leaderboard-row]'))
        .map((r) => r.dataset.model);
      return names.length === 2 && !names.includes('closed-crow');
    });
    assert.match(page.url(), /[?&]open_weights=true/);
    let open;
    for (let tries = 0; ; tries++) { // polling the API, not synchronising a page
      open = await (await page.request.get(`${arena.url}api/leaderboard?open_weights=true`)).json();
      if (!open.pending || tries > 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(open.open_weights, true);
    assert.equal(open.pending, false);
    const want = open.models.map((r) => [r.model, r.bt === null ? '–' : r.bt.toFixed(0)]);
    await waitFor(page, 'the table is the open-weights fit', (w) => JSON.stringify(
      Array.from(document.querySelectorAll('#rows [data-testid=leaderboard-row]'))
        .map((r) => [r.dataset.model, r.querySelector('.bt-value')?.textContent ?? '–'])) === JSON.stringify(w), want);
    // and the heatmaps are the open-weights board's: two models, 2 × 2 cells
    await waitFor(page, 'the open-weights heatmaps', () => document.querySelectorAll('[data-testid=heatmap-battles] svg rect.cell').length === 4);
    await screenshot(page, 'leaderboard-open-weights.png');

    // a reload keeps it; unchecking drops it from the URL
    await page.reload();
    await waitFor(page, 'the checkbox restored', () => document.getElementById('open-weights').checked);
    await page.getByTestId('open-weights').uncheck();
    await waitFor(page, 'three rows again', () => document.querySelectorAll('#rows [data-testid=leaderboard-row]').length === 3);
    assert.doesNotMatch(page.url(), /open_weights/);
  });

arenaTest('arena: the cards are shown under the names after the vote only', MODELS, {}, async (arena) => {
  const page = await newPage(arena);
  await page.goto(arena.url);
  await waitPhase(page, 'idle');
  await startBattle(page, 'Tell me about owls, otters and crows.');
  await waitPhase(page, 'ready', 30000);
  for (const s of ['a', 'b']) {
    assert.equal(await page.getByTestId(`card-${s}`).isVisible(), false, `no card ${s} before the vote`);
    assert.equal(await page.getByTestId(`card-${s}`).textContent(), '');
  }
  const r = await vote(page, 'vote-a');
  for (const [i, s] of [[0, 'a'], [1, 'b']]) {
    const name = r.models[s];
    const card = MODELS[name];
    await waitFor(page, `card ${s} shown`, (side) => !document.querySelector(`[data-testid=card-${side}]`).hidden, s);
    const text = await page.getByTestId(`card-${s}`).textContent();
    assert.ok(text.includes(card.organization) && text.includes(card.license), text);
    assert.ok(text.includes(card.open_weights ? 'open weights' : 'closed weights'), text);
    assert.equal(r.cards[i].name, name);
    assert.equal(await page.locator(`[data-testid=card-${s}] a`).getAttribute('href'), card.url);
  }
  await screenshot(page, 'arena-cards.png');
});
