// Measured benchmarks on the leaderboard page (issue 16): `agon bench` run beside the server,
// through the fake's /v1/completions (scripted log-probabilities) and /v1/chat/completions,
// shows as "measured" columns in the benchmarks view, apart from the published ones, while
// the page stays open: the API's values in %, their 95% intervals in the titles, the best one
// marked, blanks where a model was not measured, and sortable.

import { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  newPage, waitFor, clearOldFailures, checkPrerequisites, arenaTest, leaderboardRows,
  agonBin, screenshot, REPO,
} from './harness.mjs';

const run = promisify(execFile);

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

// The fake scores each upstream differently (its log-probabilities are a function of the
// model id and the text), so the three rows differ.
const MODELS = {
  'ms-one': { model: 'echo-ms1', benchmarks: 'arc_challenge:50' },
  'ms-two': 'echo-ms2',
  'ms-three': 'echo-ms3',
};

// ARC-Challenge in its dataset's layout: 26 shots to draw 25 from, and 12 items.
const arcTrain = () => Array.from({ length: 26 }, (_, i) => ({
  id: `t${i}`, question: `T${i}?`, choices: { text: [`a${i}`, `bb${i}`], label: ['A', 'B'] },
  answerKey: 'AB'[i % 2],
}));
const arcTest = () => Array.from({ length: 12 }, (_, i) => ({
  id: `q${i}`, question: `What is ${i}?`,
  choices: { text: ['one', `a much longer choice ${i}`, 'x', 'yy'], label: ['1', '2', '3', '4'] },
  answerKey: '1234'[i % 4],
}));
const jsonl = (rows) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

async function bench(arena, ...args) {
  const { stdout } = await run(agonBin(), ['bench', '--config', path.join(arena.dir, 'agon.ini'), ...args],
    { cwd: arena.dir, timeout: 60000 });
  return stdout;
}

const apiGet = async (page, url) => {
  const res = await page.request.get(url);
  assert.equal(res.status(), 200, `${url}: HTTP ${res.status()}`);
  return res.json();
};

const measuredCells = (page, key) => page.$$eval('#rows [data-testid=leaderboard-row]', (rs, k) => rs.map((r) => {
  const c = r.querySelector(`td.col-measured[data-measured="${k}"]`);
  return {
    model: r.dataset.model,
    text: c?.textContent ?? null,
    title: c?.title ?? null,
    best: !!c?.classList.contains('best'),
    visible: !!c?.offsetParent,
  };
}), key);

const pct1 = (x) => (x * 100).toFixed(1);

arenaTest('measured benchmarks: agon bench beside the server shows as measured columns, apart from the published ones',
  MODELS, {}, async (arena) => {
    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'three rows', () => document.querySelectorAll('#rows [data-testid=leaderboard-row]').length === 3);
    await waitFor(board, 'the benchmarks view (a published score)', () => document.querySelector('[data-testid=view-bench]')?.offsetParent);
    await board.getByTestId('view-bench').click();
    assert.equal(await board.locator('#board thead th.col-measured').count(), 0, 'nothing measured yet');

    // Two runs beside the server: ARC in likelihood mode for every model, GSM8K in generate
    // mode for one of them.
    await writeFile(path.join(arena.dir, 'arc_train.jsonl'), jsonl(arcTrain()));
    await writeFile(path.join(arena.dir, 'arc_test.jsonl'), jsonl(arcTest()));
    await bench(arena, '--task', 'arc_challenge', '--data', path.join(arena.dir, 'arc_test.jsonl'),
      '--shots', path.join(arena.dir, 'arc_train.jsonl'));
    const data = path.join(REPO, 'tests', 'data', 'benchmarks');
    await bench(arena, '--task', 'gsm8k', '--mode', 'generate', '--model', 'ms-two', '--limit', '6',
      '--data', path.join(data, 'gsm8k_test_head12.jsonl'), '--shots', path.join(data, 'gsm8k_train_head40.jsonl'));

    // The open page picks them up on its own.
    await waitFor(board, 'two measured columns', () => document.querySelectorAll('#board thead th.col-measured').length === 2,
      undefined, 15000);
    const heads = await board.$$eval('#board thead th.col-bench', (ths) => ths.map((t) => [t.dataset.key, t.textContent.trim()]));
    assert.deepEqual(heads, [
      ['bench:arc_challenge', 'arc_challenge published'],
      ['measured:arc_challenge|likelihood', 'arc_challenge measured · likelihood'],
      ['measured:gsm8k|generate', 'gsm8k measured · generate'],
    ], 'published and measured columns apart, each labelled');

    // Each header stays inside its cell, and the table inside its frame (a header button
    // wider than its column once stuck out past the right edge).
    const overflow = await board.$eval('#board', (t) => ({
      table: t.scrollWidth - t.parentElement.clientWidth,
      heads: Array.from(t.querySelectorAll('thead th.col-bench')).map((th) => th.querySelector('button')
        .getBoundingClientRect().right - th.getBoundingClientRect().right),
    }));
    assert.ok(overflow.table <= 0 && overflow.heads.every((d) => d <= 0.5), JSON.stringify(overflow));

    const lb = await apiGet(board, `${arena.url}api/leaderboard`);
    const runs = (await apiGet(board, `${arena.url}api/benchmarks`)).runs;
    assert.equal(runs.filter((r) => r.task === 'arc_challenge').length, 3, JSON.stringify(runs));
    const rows = Object.fromEntries(lb.models.concat(lb.provisional).map((m) => [m.model, m]));
    assert.deepEqual(rows['ms-one'].benchmarks, { arc_challenge: 50 }, 'the published score is untouched');
    for (const key of ['arc_challenge|likelihood', 'gsm8k|generate']) {
      const [task, mode] = key.split('|');
      const cells = await measuredCells(board, `${key}`);
      assert.equal(cells.length, 3);
      const values = [];
      for (const c of cells) {
        const x = rows[c.model].measured.find((e) => e.task === task && e.mode === mode);
        assert.ok(c.visible, `${key} of ${c.model} shown`);
        if (!x) {
          assert.equal(c.text, '', `${key}: ${c.model} not measured`);
          assert.equal(c.title, `Not measured: ${task} (${mode})`);
          continue;
        }
        values.push(x.value);
        assert.equal(c.text, pct1(x.value), `${key} of ${c.model} as in the API`);
        assert.ok(c.title.includes(`${x.metric} ${pct1(x.value)}% (95% CI ${pct1(x.ci_low)}–${pct1(x.ci_high)})`), c.title);
        assert.ok(c.title.includes(`${mode} mode, ${x.shots}-shot, ${x.items} items`), c.title);
      }
      const best = Math.max(...values);
      for (const c of cells.filter((e) => e.text)) {
        assert.equal(c.best, Number(c.text) === Number(pct1(best)), `${key}: the best marked, ${c.model}`);
      }
      if (task === 'arc_challenge') {
        assert.equal(values.length, 3);
        assert.ok(new Set(values).size > 1, `the fake scores the models apart: ${values}`);
      } else {
        assert.equal(values.length, 1, 'gsm8k was asked of one model');
      }
    }

    // Sortable by a measured column: high to low, then low to high.
    const arcOf = (m) => rows[m].measured.find((e) => e.task === 'arc_challenge').value;
    const want = Object.keys(MODELS).sort((a, b) => arcOf(b) - arcOf(a) || a.localeCompare(b));
    await board.locator('#board thead th[data-key="measured:arc_challenge|likelihood"] button').click();
    let order = (await leaderboardRows(board, '#rows')).map((r) => r.model);
    if (new Set(Object.keys(MODELS).map(arcOf)).size === 3) assert.deepEqual(order, want);
    else assert.deepEqual(order.map(arcOf), want.map(arcOf));
    await board.locator('#board thead th[data-key="measured:arc_challenge|likelihood"] button').click();
    order = (await leaderboardRows(board, '#rows')).map((r) => r.model);
    assert.deepEqual(order.map(arcOf), want.map(arcOf).reverse());
    await screenshot(board, 'leaderboard-measured.png');
  });
