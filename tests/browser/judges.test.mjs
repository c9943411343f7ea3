// Benchmarks and LLM judges on the leaderboard page: benchmark columns (sortable, blank where
// a model has no score), the "Which signal tracks your users?" correlations, each judge's
// BT rating and rank beside the human one, and the Judges panel (agreement, position bias,
// errors), all checked against the JSON API. Judges are the fake backend's judge-longer
// (picks the longer answer, as these tests' humans do), judge-first (always the first
// position, so every swapped pair disagrees) and judge-single (scores each answer 1 to 20,
// higher for longer ones).

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, clearOldFailures, checkPrerequisites, arenaTest, leaderboardRows,
  apiBattle, apiVote, screenshot, assertNoSideways,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

// Answers of known, different lengths: pad models add filler to the echo answer.
const MODELS = {
  'bx-long': { model: 'pad300-bxl', benchmarks: 'arc:80' },
  'bx-mid': { model: 'pad60-bxm', benchmarks: 'arc:70 mmlu:40.25 gsm8k:33' },
  'bx-short': { model: 'echo-bxs', benchmarks: 'arc:60 mmlu:50.5' },
  'bx-none': 'echo-bxn',
};
const JUDGES = {
  longer: { model: 'judge-longer', auto: true },
  first: { model: 'judge-first', auto: true },
  single: { model: 'judge-single', mode: 'single', auto: true },
};
const NAMES = Object.keys(MODELS);

// The page's number formats.
const pct = (x) => (x === null ? '—' : `${(x * 100).toFixed(0)}%`);
function fmtRho(r) {
  if (r === null) return '—';
  const s = r.toFixed(2);
  return r > 0 && s !== '0.00' ? `+${s}` : s.replace('-', '−');
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms)); // polling the API, not a page

// Play n battles through the API; the human picks the longer answer (a tie when equally long).
async function playBattles(page, base, n, offset = 0) {
  for (let i = 0; i < n; i++) {
    const { id, battle } = await apiBattle(page, base, `Benchmark question ${offset + i}?`);
    assert.equal(battle.status, 'ready', JSON.stringify(battle));
    const la = battle.turns[0].a.length;
    const lb = battle.turns[0].b.length;
    await apiVote(page, base, id, la > lb ? 'a' : lb > la ? 'b' : 'tie');
  }
}

const apiGet = async (page, url) => {
  const res = await page.request.get(url);
  assert.equal(res.status(), 200, `${url}: HTTP ${res.status()}`);
  return res.json();
};

const benchCells = (page, name) => page.$$eval(`#rows [data-testid=leaderboard-row]`, (rs, n) => rs.map((r) => ({
  model: r.dataset.model,
  text: r.querySelector(`td.col-bench[data-bench="${n}"]`)?.textContent ?? null,
  visible: !!r.querySelector(`td.col-bench[data-bench="${n}"]`)?.offsetParent,
})), name);

const corrRows = (page) => page.$$eval('[data-testid=correlations] [data-testid=corr-row]', (ls) => ls.map((l) => ({
  signal: l.dataset.signal,
  name: l.dataset.name,
  value: l.dataset.value === undefined ? null : Number(l.dataset.value),
  text: l.querySelector('.corr-value').textContent,
  models: l.querySelector('.corr-models').textContent,
  fill: l.querySelector('.corr-fill') ? {
    left: parseFloat(l.querySelector('.corr-fill').style.left),
    width: parseFloat(l.querySelector('.corr-fill').style.width),
    neg: l.querySelector('.corr-fill').classList.contains('neg'),
  } : null,
})));

const judgeCards = (page) => page.$$eval('[data-testid=judges] [data-testid=judge-card]', (cs) => cs.map((c) => {
  const stat = (k) => ({
    value: c.querySelector(`[data-stat=${k}] .stat-value`)?.textContent,
    sub: c.querySelector(`[data-stat=${k}] .stat-sub`)?.textContent,
  });
  return {
    name: c.dataset.judge,
    title: c.querySelector('h3').textContent,
    mode: c.querySelector('.judge-mode').textContent,
    agreement: stat('agreement'),
    noTies: stat('agreement_no_ties'),
    inconsistent: stat('inconsistent'),
    errors: stat('errors'),
    foot: c.querySelector('.judge-foot').textContent,
  };
}));

const judgeCells = (page, judge) => page.$$eval('#rows [data-testid=leaderboard-row]', (rs, j) => rs.map((r) => {
  const c = r.querySelector(`td.col-judge[data-judge="${j}"]`);
  const h = r.querySelector('td.col-hbt');
  return {
    model: r.dataset.model,
    bt: c?.querySelector('.xval')?.textContent ?? c?.textContent ?? null,
    rank: c?.querySelector('.xrank')?.textContent ?? null,
    visible: !!c?.offsetParent,
    human: h?.querySelector('.xval')?.textContent ?? h?.textContent ?? null,
    humanRank: h?.querySelector('.xrank')?.textContent ?? null,
  };
}), judge);

// 1 + the number of models rated above (the page's rank by a rating).
function ranks(rows, get) {
  const rated = rows.filter((m) => get(m) !== null && get(m) !== undefined);
  return new Map(rated.map((m) => [m.model, 1 + rated.filter((o) => get(o) > get(m)).length]));
}

// Poll until check(page state, api state) holds (the page and the API settle on the same BT
// fit), then return both; the caller asserts on them so a failure shows the difference.
async function settle(fetchApi, readPage, same, ms = 25000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const api = await fetchApi();
    const shown = await readPage();
    if (same(api, shown) || Date.now() > deadline) return { api, shown };
    await sleep(300);
  }
}

function checkCorrelations(api, shown) {
  assert.equal(shown.length, api.correlations.length, `one line per signal: ${JSON.stringify(shown)}`);
  for (const c of api.correlations) {
    const r = shown.find((x) => x.name === c.name && x.signal === c.signal);
    assert.ok(r, `a line for ${c.signal} ${c.name}: ${JSON.stringify(shown)}`);
    assert.equal(r.text, fmtRho(c.spearman), `${c.name}: ρ`);
    assert.equal(r.models, `${c.models} model${c.models === 1 ? '' : 's'}`, `${c.name}: models`);
    if (c.spearman === null) {
      assert.equal(r.fill, null, `${c.name}: no bar without a value`);
    } else {
      assert.ok(Math.abs(r.value - c.spearman) < 1e-9, `${c.name}: data-value`);
      // The bar runs from the middle (0) to ρ on a −1..+1 scale.
      const from = c.spearman < 0 ? 50 + c.spearman * 50 : 50;
      assert.ok(Math.abs(r.fill.left - from) < 0.02, `${c.name}: bar start ${JSON.stringify(r.fill)}`);
      assert.ok(Math.abs(r.fill.width - Math.max(0.5, Math.abs(c.spearman) * 50)) < 0.02, `${c.name}: bar width ${JSON.stringify(r.fill)}`);
      assert.equal(r.fill.neg, c.spearman < 0);
    }
  }
  // The signal that tracks the users best comes first; undefined ones last.
  const vals = shown.map((r) => r.value);
  const defined = vals.filter((v) => v !== null);
  assert.deepEqual(vals.slice(0, defined.length), defined.slice().sort((a, b) => b - a), 'sorted by ρ, highest first');
  assert.ok(vals.slice(defined.length).every((v) => v === null), 'undefined correlations last');
}

const sameCorrelations = (api, shown) => shown.length === api.correlations.length
  && api.correlations.every((c) => shown.some((r) => r.name === c.name && r.text === fmtRho(c.spearman)
    && r.models.startsWith(`${c.models} `)));

arenaTest('benchmarks and judges: columns, correlations and the judges panel match the API',
  MODELS, { judges: JUDGES }, async (arena) => {
    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'four rows', () => document.querySelectorAll('#rows [data-testid=leaderboard-row]').length === 4);
    // The column sets appear once their data is there; the human-vote columns come first.
    await waitFor(board, 'the three column sets', () => ['arena', 'bench', 'judges']
      .every((v) => document.querySelector(`[data-testid=view-${v}]`)?.offsetParent));
    assert.equal(await board.getByTestId('view-arena').getAttribute('aria-pressed'), 'true');
    assert.equal(await board.locator('#board').getAttribute('data-view'), 'arena');
    assert.equal(await board.locator('#rows .col-bench').first().isVisible(), false, 'benchmarks hidden in the human-vote columns');
    assert.equal(await board.locator('#rows .col-elo').first().isVisible(), true);

    // Before any vote: the correlations are listed, all undefined.
    await waitFor(board, 'the correlation panel', () => document.querySelectorAll('[data-testid=corr-row]').length === 6);
    let lb = await apiGet(board, `${arena.url}api/leaderboard`);
    assert.deepEqual(lb.models.map((m) => m.benchmarks).sort((a, b) => Object.keys(a).length - Object.keys(b).length),
      [{}, { arc: 80 }, { arc: 60, mmlu: 50.5 }, { arc: 70, mmlu: 40.25, gsm8k: 33 }], 'the API carries the configured scores');
    checkCorrelations(lb, await corrRows(board));
    assert.ok((await corrRows(board)).every((r) => r.text === '—'), 'no correlation before any vote');
    // Judges panel: every judge, nothing judged yet.
    await waitFor(board, 'three judge cards', () => document.querySelectorAll('[data-testid=judge-card]').length === 3);
    let cards = await judgeCards(board);
    assert.deepEqual(cards.map((c) => c.name), ['longer', 'first', 'single'], 'judges in configuration order');
    for (const c of cards) {
      assert.equal(c.agreement.value, '—');
      assert.equal(c.foot, '0 battles judged');
      assert.match(c.mode, c.name === 'single' ? /^single answer, 1–20 · auto$/ : /^pairwise · both orders · auto$/);
    }
    assert.equal(await board.locator('a[href="/api/judges"]').count(), 1, 'link to the judges API');

    await playBattles(board, arena.url, 16);
    await waitFor(board, 'sixteen votes', () => document.getElementById('votes').textContent === '16', undefined, 15000);

    // The auto judges catch up in the background.
    let judges;
    for (const deadline = Date.now() + 30000; ;) {
      judges = await apiGet(board, `${arena.url}api/judges`);
      if (judges.judges.every((j) => j.judged + j.errors === 16) || Date.now() > deadline) break;
      await sleep(200);
    }
    for (const j of judges.judges) assert.equal(j.judged + j.errors, 16, `${j.name} judged every battle: ${JSON.stringify(j)}`);
    const longer = judges.judges.find((j) => j.name === 'longer');
    const first = judges.judges.find((j) => j.name === 'first');
    assert.equal(longer.agreement_no_ties, 1, `judge-longer agrees with these humans: ${JSON.stringify(longer)}`);
    assert.equal(first.inconsistent, first.judged, `judge-first flips on every swap: ${JSON.stringify(first)}`);

    // The Judges panel (refreshed every 10 s) shows the API's numbers.
    await waitFor(board, 'the judges panel catches up', () => Array.from(document.querySelectorAll('[data-testid=judge-card] .judge-foot'))
      .every((f) => f.textContent === '16 battles judged'), undefined, 25000);
    judges = await apiGet(board, `${arena.url}api/judges`);
    cards = await judgeCards(board);
    for (const j of judges.judges) {
      const c = cards.find((x) => x.name === j.name);
      assert.ok(c, `card for ${j.name}`);
      assert.equal(c.title, j.name);
      assert.equal(c.agreement.value, pct(j.agreement), `${j.name}: agreement`);
      assert.match(c.agreement.sub, new RegExp(`^on ${j.compared} battles?, ties included$`));
      assert.equal(c.noTies.value, pct(j.agreement_no_ties), `${j.name}: agreement without ties`);
      if (j.compared_no_ties) assert.match(c.noTies.sub, new RegExp(`^on ${j.compared_no_ties} battles? neither called a tie$`));
      else assert.equal(c.noTies.sub, 'no battle without a tie yet');
      if (j.mode === 'single') {
        assert.equal(c.inconsistent.value, '—', 'no position bias in single mode');
        assert.equal(c.inconsistent.sub, 'not measured in single mode');
      } else {
        assert.equal(c.inconsistent.value, pct(j.judged ? j.inconsistent / j.judged : null), `${j.name}: position bias`);
        assert.match(c.inconsistent.sub, new RegExp(`^${j.inconsistent} of ${j.judged} verdicts flipped when swapped$`));
      }
      assert.equal(c.errors.value, String(j.errors), `${j.name}: errors`);
      assert.equal(c.foot, `${j.judged} battles judged`);
    }
    assert.equal(cards.find((c) => c.name === 'longer').noTies.value, '100%');
    assert.equal(cards.find((c) => c.name === 'first').inconsistent.value, '100%');

    // Correlations: as in the API, once both show the same BT fit.
    const corr = await settle(() => apiGet(board, `${arena.url}api/leaderboard`), () => corrRows(board), sameCorrelations);
    checkCorrelations(corr.api, corr.shown);
    const arc = corr.api.correlations.find((c) => c.name === 'arc');
    assert.equal(arc.signal, 'benchmark');
    assert.equal(arc.models, 3, 'arc: the three models that have it');
    for (const name of ['mmlu', 'gsm8k']) {
      const c = corr.api.correlations.find((x) => x.name === name);
      assert.equal(c.spearman, null, `${name}: fewer than three models, no correlation`);
      assert.equal(corr.shown.find((x) => x.name === name).text, '—');
    }
    assert.ok(corr.api.correlations.some((c) => c.signal === 'judge' && c.name === 'longer'));

    // Benchmarks: one column per name, the configured scores, blank where a model has none.
    await board.getByTestId('view-bench').click();
    assert.equal(await board.getByTestId('view-bench').getAttribute('aria-pressed'), 'true');
    assert.equal(await board.locator('#rows .col-elo').first().isVisible(), false, 'human-vote columns give way');
    assert.equal(await board.locator('#rows .col-hbt').first().isVisible(), true, 'the human BT stays beside the benchmarks');
    const heads = await board.$$eval('#board thead th.col-bench', (ths) => ths.map((t) => [t.dataset.key, t.textContent.trim(), !!t.offsetParent]));
    assert.deepEqual(heads, [['bench:arc', 'arc published', true], ['bench:mmlu', 'mmlu published', true], ['bench:gsm8k', 'gsm8k published', true]]);
    const expect = { arc: { 'bx-long': '80', 'bx-mid': '70', 'bx-short': '60', 'bx-none': '' },
      mmlu: { 'bx-long': '', 'bx-mid': '40.25', 'bx-short': '50.50', 'bx-none': '' },
      gsm8k: { 'bx-long': '', 'bx-mid': '33', 'bx-short': '', 'bx-none': '' } };
    lb = await apiGet(board, `${arena.url}api/leaderboard`);
    for (const [name, want] of Object.entries(expect)) {
      const cells = await benchCells(board, name);
      assert.equal(cells.length, 4);
      for (const c of cells) {
        assert.equal(c.text, want[c.model], `${name} of ${c.model}`);
        assert.ok(c.visible);
        const m = lb.models.find((x) => x.model === c.model);
        if (c.text) assert.equal(Number(c.text), m.benchmarks[name], `${name} of ${c.model} as in the API`);
        else assert.equal(m.benchmarks[name], undefined);
      }
    }
    // Sortable: high to low first, models without a score last in both directions.
    await board.locator('#board thead th[data-key="bench:arc"] button').click();
    let order = (await leaderboardRows(board, '#rows')).map((r) => r.model);
    assert.deepEqual(order, ['bx-long', 'bx-mid', 'bx-short', 'bx-none']);
    assert.deepEqual(await board.$$eval('#board thead th[aria-sort]', (ts) => ts.map((t) => [t.dataset.key, t.getAttribute('aria-sort')])),
      [['bench:arc', 'descending']]);
    await board.locator('#board thead th[data-key="bench:arc"] button').click();
    order = (await leaderboardRows(board, '#rows')).map((r) => r.model);
    assert.deepEqual(order, ['bx-short', 'bx-mid', 'bx-long', 'bx-none']);
    await board.locator('#board thead th[data-key="bench:mmlu"] button').click();
    order = (await leaderboardRows(board, '#rows')).map((r) => r.model);
    assert.deepEqual(order.slice(0, 2), ['bx-short', 'bx-mid'], 'mmlu high to low');
    await screenshot(board, 'leaderboard-benchmarks.png');
    await board.locator('#board thead th[data-key=rank] button').click();

    // Judges: each judge's BT and rank beside the human one, from ?source=judge.
    await board.getByTestId('view-judges').click();
    assert.equal(await board.locator('#board').getAttribute('data-view'), 'judges');
    assert.equal(await board.locator('#rows .col-bench').first().isVisible(), false);
    for (const name of Object.keys(JUDGES)) {
      assert.equal(await board.locator(`#board thead th[data-key="judge:${name}"]`).isVisible(), true, `column for ${name}`);
      assert.match(await board.locator(`#board thead th[data-key="judge:${name}"]`).textContent(), new RegExp(`Judge ${name}`));
    }
    for (const name of Object.keys(JUDGES)) {
      const url = `${arena.url}api/leaderboard?source=judge&judge=${name}&sort=bt`;
      const got = await settle(() => apiGet(board, url), () => judgeCells(board, name), (api, shown) => {
        const all = api.models.concat(api.provisional);
        return shown.length === 4 && all.every((m) => shown.find((s) => s.model === m.model)?.bt === (m.bt === null ? '–' : m.bt.toFixed(0)));
      });
      assert.equal(got.api.source, 'judge');
      assert.equal(got.api.judge, name);
      const all = got.api.models.concat(got.api.provisional);
      const rk = ranks(all, (m) => m.bt);
      for (const s of got.shown) {
        const m = all.find((x) => x.model === s.model);
        assert.ok(m, `${name}: ${s.model} in the judge's leaderboard`);
        assert.ok(s.visible, `${name}: cell shown`);
        if (m.bt === null) assert.equal(s.bt, '–');
        else {
          assert.equal(s.bt, m.bt.toFixed(0), `${name}: BT of ${s.model}`);
          assert.equal(s.rank, `#${rk.get(s.model)}`, `${name}: rank of ${s.model}`);
        }
      }
    }
    // A single-mode judge's mean score (1 to 20) for each model, under its rating.
    const single = (await apiGet(board, `${arena.url}api/judges`)).judges.find((j) => j.name === 'single');
    assert.ok(Object.keys(single.scores).length >= 2, `single-mode scores: ${JSON.stringify(single)}`);
    await waitFor(board, 'the single judge\'s scores', (sc) => Object.entries(sc).every(([m, v]) => document
      .querySelector(`#rows tr[data-model="${m}"] td.col-judge[data-judge=single] .xscore`)?.textContent === `${v.toFixed(1)}/20`),
    single.scores, 15000);
    assert.equal(await board.locator('#rows td.col-judge[data-judge=longer] .xscore').count(), 0, 'no scores for a pairwise judge');

    // The human column beside them: the human BT and its rank.
    lb = await apiGet(board, `${arena.url}api/leaderboard`);
    const hr = ranks(lb.models, (m) => m.bt);
    const human = await judgeCells(board, 'longer');
    for (const m of lb.models) {
      const s = human.find((x) => x.model === m.model);
      if (m.bt === null) continue;
      if (s.human !== m.bt.toFixed(0)) continue; // a newer fit than the one just fetched
      assert.equal(s.humanRank, `#${hr.get(m.model)}`, `human rank of ${m.model}`);
    }
    // Sorting by a judge's column.
    await board.locator('#board thead th[data-key="judge:longer"] button').click();
    const sorted = await judgeCells(board, 'longer');
    const bts = sorted.map((s) => Number(s.bt)).filter((x) => !Number.isNaN(x));
    assert.ok(bts.every((x, i) => i === 0 || bts[i - 1] >= x), `sorted by the judge's BT: ${JSON.stringify(sorted)}`);
    await screenshot(board, 'leaderboard-judges.png');

    // Live: new votes reach the table within the 2 s polling, judge columns stay.
    await playBattles(board, arena.url, 2, 16);
    await waitFor(board, 'eighteen votes', () => document.getElementById('votes').textContent === '18', undefined, 15000);
    assert.equal(await board.locator('#board').getAttribute('data-view'), 'judges');

    // Phone: no sideways scrolling in any column set; dark mode too.
    await board.setViewportSize({ width: 390, height: 844 });
    for (const v of ['arena', 'bench', 'judges']) {
      await board.getByTestId(`view-${v}`).click();
      await assertNoSideways(board, `phone, ${v} columns`);
      const wrap = await board.locator('.table-wrap').first().evaluate((w) => [w.scrollWidth, w.clientWidth]);
      assert.ok(wrap[0] <= wrap[1] + 1, `phone, ${v}: the table fits its box ${JSON.stringify(wrap)}`);
    }
    await board.emulateMedia({ colorScheme: 'dark' });
    await assertNoSideways(board, 'phone, dark');
    await screenshot(board, 'leaderboard-judges-phone-dark.png');
    assert.deepEqual(board.problems, [], 'no console errors');
  });

arenaTest('benchmarks without judges: ?view=bench, no judges panel, correlations only for benchmarks',
  { 'bo-one': { model: 'pad200-bo1', benchmarks: 'mmlu:70 arc:55' }, 'bo-two': { model: 'echo-bo2', benchmarks: 'mmlu:60' },
    'bo-three': { model: 'pad40-bo3', benchmarks: 'mmlu:65 arc:50' } }, {}, async (arena) => {
    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard?view=bench`);
    await waitFor(board, 'three rows in the benchmark columns', () => document.querySelectorAll('#rows [data-testid=leaderboard-row]').length === 3
      && document.getElementById('board').dataset.view === 'bench');
    assert.equal(await board.getByTestId('view-bench').getAttribute('aria-pressed'), 'true');
    assert.equal(await board.getByTestId('view-judges').isVisible(), false, 'no judges, no judge columns');
    assert.deepEqual(await board.$$eval('#board thead th.col-bench', (ths) => ths.map((t) => t.dataset.key)), ['bench:mmlu', 'bench:arc'],
      'in the configured order of the model with the most scores');
    assert.equal(await board.locator('#board thead th.col-judge').count(), 0);
    assert.equal(await board.getByTestId('judges').isVisible(), false, 'no judges panel');
    await waitFor(board, 'two correlation lines', () => document.querySelectorAll('[data-testid=corr-row]').length === 2);
    assert.equal(await board.getByTestId('correlations').isVisible(), true);

    await playBattles(board, arena.url, 9);
    await waitFor(board, 'nine votes', () => document.getElementById('votes').textContent === '9', undefined, 15000);
    const corr = await settle(() => apiGet(board, `${arena.url}api/leaderboard`), () => corrRows(board), sameCorrelations);
    checkCorrelations(corr.api, corr.shown);
    assert.ok(corr.shown.every((r) => r.signal === 'benchmark'));
    const mmlu = corr.api.correlations.find((c) => c.name === 'mmlu');
    assert.equal(mmlu.models, 3);
    // The best score of each benchmark stands out.
    assert.deepEqual(await board.$$eval('#rows td.col-bench.best', (tds) => tds.map((t) => [t.closest('tr').dataset.model, t.dataset.bench]).sort()),
      [['bo-one', 'arc'], ['bo-one', 'mmlu']]);
    // Back to the human-vote columns: everything from before is there.
    await board.getByTestId('view-arena').click();
    const rows = await leaderboardRows(board, '#rows');
    assert.ok(rows.every((r) => r.bt !== null && r.ciBar), `BT with intervals: ${JSON.stringify(rows)}`);
    assert.equal(await board.locator('#rows .col-bench').first().isVisible(), false);
    assert.deepEqual(board.problems, [], 'no console errors');
  });
