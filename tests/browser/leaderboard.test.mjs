// The leaderboard page: live Elo, Bradley-Terry ratings with their 95% interval bars,
// rank (UB), sortable columns, provisional models listed apart, head-to-head heatmaps drawn
// as SVG, and live updates without reloading.

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, clearOldFailures, checkPrerequisites, arenaTest, leaderboardRows,
  apiBattle, apiVote, answerTag, screenshot,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const MODELS = { 'lb-alpha': 'echo-lba', 'lb-bravo': 'echo-lbb', 'lb-charlie': 'echo-lbc' };
const STRENGTH = { 'echo-lba': 3, 'echo-lbb': 2, 'echo-lbc': 1 };

// Which upstream wrote this answer (the fake's answer tag), without asking the server.
function upstreamOf(text) {
  for (const up of Object.keys(STRENGTH)) if (text.startsWith(answerTag(up))) return up;
  throw new Error(`unknown answer ${text}`);
}

// Play n votes through the API on a fixed schedule of pairs (alpha-bravo, bravo-charlie,
// alpha-charlie, again and again): the stronger model wins, every fourth vote is a tie. The
// server pairs models at random, so a battle of another pair is left unvoted and a new one
// started; random pairings would otherwise make the expected BT order a matter of luck.
const SCHEDULE = [['echo-lba', 'echo-lbb'], ['echo-lbb', 'echo-lbc'], ['echo-lba', 'echo-lbc']];
async function playBattles(page, base, n, offset = 0) {
  let asked = 0;
  for (let i = 0; i < n; i++) {
    const want = SCHEDULE[(offset + i) % SCHEDULE.length];
    for (;;) {
      assert.ok(asked++ < 60 * n, `no battle of ${want} after ${asked} tries`);
      const { id, battle } = await apiBattle(page, base, `Question number ${offset}.${asked}?`);
      assert.equal(battle.status, 'ready', JSON.stringify(battle));
      const ua = upstreamOf(battle.turns[0].a);
      const ub = upstreamOf(battle.turns[0].b);
      if (!want.includes(ua) || !want.includes(ub)) continue;
      const winner = (offset + i) % 4 === 3 ? 'tie' : STRENGTH[ua] > STRENGTH[ub] ? 'a' : 'b';
      await apiVote(page, base, id, winner);
      break;
    }
  }
}

const heatCells = (page, testid) => page.$$eval(`[data-testid=${testid}] svg rect.cell`, (rs) => rs.map((r) => ({
  row: r.dataset.row,
  col: r.dataset.col,
  diag: r.classList.contains('diag'),
  value: r.dataset.value === undefined ? null : Number(r.dataset.value),
  title: r.parentNode.querySelector('title')?.textContent,
})));

const sortBy = async (page, label) => {
  await page.locator('#board thead th button', { hasText: label }).first().click();
};
const ariaSort = (page) => page.$$eval('#board thead th[aria-sort]', (ths) => ths.map((t) => [t.dataset.key, t.getAttribute('aria-sort')]));
const numbers = (xs) => xs.map((x) => Number(String(x).replace(/[^0-9.-]/g, '')));
const nonIncreasing = (xs) => xs.every((x, i) => i === 0 || xs[i - 1] >= x);

arenaTest('leaderboard: BT with interval bars, rank (UB), heatmaps, sorting, live updates',
  MODELS, {}, async (arena) => {
    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'three rows', () => document.querySelectorAll('[data-testid=leaderboard-row]').length === 3);
    let rows = await leaderboardRows(board);
    for (const r of rows) {
      assert.equal(r.bt, null, `no BT before any vote: ${JSON.stringify(r)}`);
      assert.equal(r.ciBar, false);
      assert.equal(r.elo, '1000');
    }
    // the matrices come after the board (its own request): wait for them
    for (const id of ['heatmap-win', 'heatmap-battles', 'heatmap-predicted']) {
      await waitFor(board, `${id}: 3 × 3 cells before any vote`,
        (t) => document.querySelectorAll(`[data-testid=${t}] svg rect.cell`).length === 9, id);
      assert.equal((await heatCells(board, id)).length, 9, `${id}: 3 × 3 cells before any vote`);
    }
    assert.equal(await board.locator('a[href="/api/leaderboard"]').count() >= 1, true, 'link to the JSON API');
    assert.equal(await board.locator('a[href="/api/leaderboard/matrix"]').count(), 1, 'link to the matrix API');
    assert.equal(await board.locator('#prov-section').isVisible(), false, 'no provisional section by default');
    await board.evaluate(() => { window.__noReload = true; });

    await playBattles(board, arena.url, 9);

    // The page catches up by itself: votes, BT with interval bars and rank (UB) for every model.
    await waitFor(board, 'nine votes with BT intervals', () => {
      const rs = Array.from(document.querySelectorAll('[data-testid=leaderboard-row]'));
      return document.getElementById('votes').textContent === '9' && rs.length === 3
        && rs.every((r) => r.querySelector('svg[data-testid=ci-bar] .ci-range') && /^\d+$/.test(r.querySelector('.col-ub').textContent));
    }, undefined, 20000);

    // What the page shows is what the API says (once both have settled on the last BT fit).
    let api;
    const deadline = Date.now() + 15000;
    for (;;) {
      api = await (await board.request.get(`${arena.url}api/leaderboard`)).json();
      rows = await leaderboardRows(board);
      const same = api.models.every((m) => {
        const r = rows.find((x) => x.model === m.model);
        return r && r.bt === m.bt.toFixed(0) && r.rankUb === String(m.rank_ub) && r.elo === m.elo.toFixed(0)
          && r.battles === String(m.battles);
      });
      if (same || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(api.votes, 9);
    for (const m of api.models) {
      const r = rows.find((x) => x.model === m.model);
      assert.ok(r, `row for ${m.model}`);
      assert.equal(r.elo, m.elo.toFixed(0), `${m.model} Elo`);
      assert.equal(r.bt, m.bt.toFixed(0), `${m.model} BT`);
      assert.equal(r.rankUb, String(m.rank_ub), `${m.model} rank (UB)`);
      assert.equal(r.battles, String(m.battles), `${m.model} battles`);
      assert.equal(r.winrate, `${((m.wins / m.battles) * 100).toFixed(1)}%`, `${m.model} win rate`);
      assert.equal(r.ciText, `+${Math.max(0, m.ci_high - m.bt).toFixed(0)} / −${Math.max(0, m.bt - m.ci_low).toFixed(0)}`);
      assert.ok(m.ci_low <= m.bt && m.bt <= m.ci_high, `interval contains the rating: ${JSON.stringify(m)}`);
    }
    // The interval bars share one scale: the bar of the best model lies right of the worst's.
    const bars = await board.$$eval('[data-testid=leaderboard-row]', (rs) => rs.map((r) => {
      const range = r.querySelector('.ci-range');
      const mid = r.querySelector('.ci-mid');
      return {
        model: r.dataset.model,
        x: Number(range.getAttribute('x')),
        w: Number(range.getAttribute('width')),
        mid: Number(mid.getAttribute('x1')),
        svgW: Number(r.querySelector('svg[data-testid=ci-bar]').getAttribute('width')),
      };
    }));
    for (const b of bars) {
      assert.ok(b.x >= 0 && b.x + b.w <= b.svgW + 0.01 && b.w > 0, `bar inside its box: ${JSON.stringify(b)}`);
      assert.ok(b.mid >= b.x - 0.01 && b.mid <= b.x + b.w + 0.01, `rating mark inside its interval: ${JSON.stringify(b)}`);
    }
    const byBt = api.models.slice().sort((p, q) => q.bt - p.bt);
    const top = bars.find((b) => b.model === byBt[0].model);
    const bottom = bars.find((b) => b.model === byBt[byBt.length - 1].model);
    assert.ok(top.mid > bottom.mid, `the best model's mark is right of the worst's: ${JSON.stringify(bars)}`);
    assert.equal(byBt[0].model, 'lb-alpha', 'the strongest model leads on BT');

    // Heatmaps: 3 × 3 cells each, diagonal marked, values as in the matrix API, in leaderboard order.
    await waitFor(board, 'battle counts heatmap shows all votes', () => {
      const vals = Array.from(document.querySelectorAll('[data-testid=heatmap-battles] rect.cell'))
        .map((r) => Number(r.dataset.value || 0));
      return vals.reduce((a, b) => a + b, 0) === 18;
    }, undefined, 15000);
    // the matrix of the same fit: read once the page shows every vote (a
    // read before could come from a fit made before the last vote)
    let mx = null;
    for (let tries = 0; tries < 150; tries++) {
      mx = await (await board.request.get(`${arena.url}api/leaderboard/matrix`)).json();
      if (mx.battles.flat().reduce((a, b) => a + b, 0) === 18) break;
      await board.waitForTimeout(100);
    }
    assert.equal(mx.battles.flat().reduce((a, b) => a + b, 0), 18, 'the matrix API has every vote');
    for (const [id, key] of [['heatmap-win', 'win_fraction'], ['heatmap-battles', 'battles'], ['heatmap-predicted', 'predicted']]) {
      const cells = await heatCells(board, id);
      assert.equal(cells.length, 9, `${id}: 9 cells`);
      assert.equal(cells.filter((c) => c.diag).length, 3, `${id}: 3 diagonal cells`);
      for (const c of cells) {
        if (c.diag) continue;
        const i = mx.models.indexOf(c.row);
        const j = mx.models.indexOf(c.col);
        assert.equal(c.value, mx[key][i][j], `${id} ${c.row} vs ${c.col}`);
        assert.ok(c.title && c.title.includes(c.row) && c.title.includes(c.col), `${id}: the cell says what it is: ${c.title}`);
      }
    }
    const rowOrder = await board.$$eval('[data-testid=heatmap-win] svg .labels.rows text', (ts) => ts.map((t) => t.querySelector('title').textContent));
    rows = await leaderboardRows(board);
    assert.deepEqual(rowOrder, rows.map((r) => r.model), 'heatmap rows in leaderboard order');
    assert.equal(await board.$$eval('[data-testid=heatmap-win] svg', (s) => s.length), 1, 'the heatmap is an inline SVG');

    // Sorting by column.
    await sortBy(board, 'Model');
    rows = await leaderboardRows(board);
    assert.deepEqual(rows.map((r) => r.model), ['lb-alpha', 'lb-bravo', 'lb-charlie']);
    assert.deepEqual(await ariaSort(board), [['model', 'ascending']]);
    await sortBy(board, 'Model');
    rows = await leaderboardRows(board);
    assert.deepEqual(rows.map((r) => r.model), ['lb-charlie', 'lb-bravo', 'lb-alpha']);
    assert.deepEqual(await ariaSort(board), [['model', 'descending']]);
    await sortBy(board, 'Battles');
    rows = await leaderboardRows(board);
    assert.ok(nonIncreasing(numbers(rows.map((r) => r.battles))), `sorted by battles: ${JSON.stringify(rows)}`);
    assert.deepEqual(await ariaSort(board), [['battles', 'descending']]);
    await sortBy(board, 'BT rating');
    rows = await leaderboardRows(board);
    assert.ok(nonIncreasing(numbers(rows.map((r) => r.bt))), `sorted by BT: ${JSON.stringify(rows)}`);
    assert.equal(rows[0].model, 'lb-alpha');
    await sortBy(board, 'Win rate');
    rows = await leaderboardRows(board);
    assert.ok(nonIncreasing(numbers(rows.map((r) => r.winrate))), `sorted by win rate: ${JSON.stringify(rows)}`);
    await sortBy(board, 'Elo');
    rows = await leaderboardRows(board);
    assert.ok(nonIncreasing(numbers(rows.map((r) => r.elo))), `sorted by Elo: ${JSON.stringify(rows)}`);
    await sortBy(board, 'Rank');
    rows = await leaderboardRows(board);
    assert.deepEqual(await ariaSort(board), [['rank', 'ascending']]);
    assert.ok(nonIncreasing(numbers(rows.map((r) => r.elo))), 'back in rank order');
    // Keyboard: the header buttons sort too.
    await board.locator('#board thead th[data-key=battles] button').focus();
    await board.keyboard.press('Enter');
    assert.deepEqual(await ariaSort(board), [['battles', 'descending']]);
    await sortBy(board, 'Rank');

    // Live: more votes show up, in the table and in the heatmaps, without reloading.
    await playBattles(board, arena.url, 3, 9);
    await waitFor(board, 'twelve votes', () => document.getElementById('votes').textContent === '12', undefined, 15000);
    await waitFor(board, 'battle counts heatmap shows twelve votes', () => {
      const vals = Array.from(document.querySelectorAll('[data-testid=heatmap-battles] rect.cell'))
        .map((r) => Number(r.dataset.value || 0));
      return vals.reduce((a, b) => a + b, 0) === 24;
    }, undefined, 15000);
    rows = await leaderboardRows(board);
    assert.equal(numbers(rows.map((r) => r.battles)).reduce((a, b) => a + b, 0), 24);
    assert.equal(await board.evaluate(() => window.__noReload), true, 'the page was not reloaded');
    await screenshot(board, 'leaderboard-sorted.png');
    assert.deepEqual(board.problems, [], 'no console errors');
  });

arenaTest('provisional models are listed apart when [ratings] min_battles is above their battles',
  { 'pv-one': 'echo-pv1', 'pv-two': 'echo-pv2', 'pv-three': 'echo-pv3' }, { ratings: { min_battles: 1 } }, async (arena) => {
    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    // Before any vote every model is provisional: the main table is empty and says why.
    await waitFor(board, 'three provisional rows', () => document.querySelectorAll('#prov-rows [data-testid=leaderboard-row]').length === 3);
    assert.equal(await board.locator('#rows [data-testid=leaderboard-row]').count(), 0);
    assert.equal(await board.locator('#empty').isVisible(), true);
    assert.match(await board.locator('#empty').textContent(), /provisional/);
    assert.equal(await board.getByTestId('provisional').isVisible(), true);

    const { id, battle } = await apiBattle(board, arena.url, 'Which is larger, 3 or 5?');
    assert.equal(battle.status, 'ready');
    const reply = await apiVote(board, arena.url, id, 'a');
    const voted = new Set([reply.models.a, reply.models.b]);
    const left = ['pv-one', 'pv-two', 'pv-three'].find((m) => !voted.has(m));

    await waitFor(board, 'two ranked rows and one provisional', () => document.querySelectorAll('#rows [data-testid=leaderboard-row]').length === 2
      && document.querySelectorAll('#prov-rows [data-testid=leaderboard-row]').length === 1, undefined, 15000);
    const main = await leaderboardRows(board, '#rows');
    const prov = await leaderboardRows(board, '#prov-rows');
    assert.deepEqual(new Set(main.map((r) => r.model)), voted);
    assert.ok(main.every((r) => !r.provisional));
    assert.equal(prov[0].model, left);
    assert.equal(prov[0].provisional, true);
    assert.equal(prov[0].battles, '0');
    assert.equal(prov[0].rank, '–', 'a provisional model is not ranked');
    assert.match(await board.locator('#prov-rows tr .tag').textContent(), /provisional/);
    assert.equal(await board.locator('#empty').isVisible(), false);
    assert.match(await board.getByTestId('provisional').textContent(), /Fewer than 1 battle so far/);
    // Set apart: below the ranked table.
    const mainBox = await board.locator('#board').boundingBox();
    const provBox = await board.getByTestId('provisional').boundingBox();
    assert.ok(provBox.y >= mainBox.y + mainBox.height, 'the provisional section comes after the table');
    const api = await (await board.request.get(`${arena.url}api/leaderboard`)).json();
    assert.deepEqual(api.provisional.map((m) => m.model), [left]);
    // The heatmaps still cover every model (drawn after the board: waited for).
    await waitFor(board, 'heatmap-win: 3 × 3 cells',
      () => document.querySelectorAll('[data-testid=heatmap-win] svg rect.cell').length === 9);
    assert.equal((await heatCells(board, 'heatmap-win')).length, 9);
    await screenshot(board, 'leaderboard-provisional.png');
    assert.deepEqual(board.problems, [], 'no console errors');
  });
