// The leaderboard's slice picker: language and category chips with the votes of each slice
// (from /api/leaderboard/slices), a style-control switch, the table of a slice (Bradley-Terry
// only, each row's rank change against the whole board), the heatmaps of the slice, and URLs
// that keep the choice (/leaderboard?language=ko&category=coding&style=control), restored on
// load and on back and forward.

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, clearOldFailures, checkPrerequisites, arenaTest, apiBattle, apiVote,
  answerTag, screenshot, assertNoSideways,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const MODELS = { 'sl-amber': 'echo-sla', 'sl-birch': 'echo-slb', 'sl-cedar': 'echo-slc' };
const NAME = { 'echo-sla': 'sl-amber', 'echo-slb': 'sl-birch', 'echo-slc': 'sl-cedar' };

// Real sentences, so that the language detector is sure of them.
const PROMPTS = {
  en: ['What are some good habits for getting better sleep during a busy week?',
    'Can you explain why the sky looks blue during the day and red at sunset?',
    'Write a Python function that reverses a linked list and explain its complexity.'],
  ko: ['오늘 저녁에 친구들과 함께 먹을 만한 간단한 한국 요리를 추천해 주세요.',
    '서울에서 부산까지 기차로 가면 시간이 얼마나 걸리는지 알려 주시겠어요?',
    '파이썬에서 리스트를 정렬하는 함수를 작성해 주세요. 코드와 함께 설명해 주세요.'],
  ja: ['週末に京都を観光するなら、どのお寺を訪れるのがおすすめですか？'],
};
// Who wins in each language: amber, then birch, then cedar in English; the other way round in
// Korean. English has more battles, so the whole board follows English and the Korean board
// moves cedar up and amber down.
const ORDER = { en: ['echo-sla', 'echo-slb', 'echo-slc'], ko: ['echo-slc', 'echo-slb', 'echo-sla'], ja: ['echo-sla', 'echo-slb', 'echo-slc'] };
const PLAN = [
  ...Array.from({ length: 9 }, (_, i) => ['en', [['echo-sla', 'echo-slb'], ['echo-slb', 'echo-slc'], ['echo-sla', 'echo-slc']][i % 3]]),
  ...Array.from({ length: 5 }, (_, i) => ['ko', [['echo-slc', 'echo-sla'], ['echo-slc', 'echo-slb'], ['echo-slb', 'echo-sla']][i % 3]]),
  ['ja', null],
];

function upstreamOf(text) {
  for (const up of Object.keys(NAME)) if (text.startsWith(answerTag(up))) return up;
  throw new Error(`unknown answer ${text}`);
}

// Each planned battle, with the planned pair (a battle of another pair is left unvoted and a
// new one started: the server pairs at random).
async function play(page, base) {
  let asked = 0;
  const n = { en: 0, ko: 0, ja: 0 };
  for (const [lang, pair] of PLAN) {
    for (;;) {
      assert.ok(asked++ < 60 * PLAN.length, `no battle of ${pair} after ${asked} tries`);
      const ps = PROMPTS[lang];
      const prompt = `${ps[n[lang] % ps.length]} (${asked})`;
      const { id, battle } = await apiBattle(page, base, prompt);
      assert.equal(battle.status, 'ready', JSON.stringify(battle));
      const ua = upstreamOf(battle.turns[0].a);
      const ub = upstreamOf(battle.turns[0].b);
      if (pair && (!pair.includes(ua) || !pair.includes(ub))) continue;
      const order = ORDER[lang];
      await apiVote(page, base, id, order.indexOf(ua) < order.indexOf(ub) ? 'a' : 'b');
      n[lang]++;
      break;
    }
  }
}

const api = async (page, base, path) => {
  const r = await page.request.get(`${base}${path.replace(/^\//, '')}`);
  return { status: r.status(), body: await r.json() };
};

// Wait until the fit of the whole board and of every slice covers all their votes.
async function settle(page, base) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const { body: sl } = await api(page, base, '/api/leaderboard/slices');
    const boards = ['sort=bt', ...sl.slices.map((s) => s.key)];
    let all = true;
    for (const q of boards) {
      const { body } = await api(page, base, `/api/leaderboard?${q}`);
      if (body.bt_votes !== body.votes) all = false;
    }
    if (all) return sl;
    assert.ok(Date.now() < deadline, 'the fits did not catch up with the votes');
    await new Promise((r) => setTimeout(r, 100)); // polling the API, not synchronising a page
  }
}

const change = (d) => (d === null || d === 0 ? '–' : d > 0 ? `↑${d}` : `↓${-d}`);

// What the page's tables must show for an API board: the ranked rows in order (model, BT,
// battles, rank change for a slice), the provisional ones, and the empty message.
function expectedTables(lb) {
  const row = (m) => ({ model: m.model, bt: m.bt === null ? null : m.bt.toFixed(0), battles: String(m.battles), change: lb.slice ? change(m.rank_change) : null });
  return {
    main: lb.models.map(row),
    prov: lb.provisional.map(row),
    message: lb.slice && lb.slice.ranked === false ? lb.slice.message : null,
  };
}

function pageTables() {
  const read = (sel) => Array.from(document.querySelectorAll(`${sel} [data-testid=leaderboard-row]`)).map((r) => ({
    model: r.dataset.model,
    bt: r.querySelector('.bt-value')?.textContent ?? null,
    battles: r.querySelector('.col-battles').textContent,
    change: getComputedStyle(r.querySelector('.col-change')).display === 'none' ? null : r.querySelector('.change-mark').textContent,
  }));
  const empty = document.getElementById('empty');
  return { main: read('#rows'), prov: read('#prov-rows'), message: empty.hidden ? null : empty.textContent };
}

// Read the page until it shows want (it follows its next poll), or fail with both.
async function until(page, read, want, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let got = await read();
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
    await page.waitForTimeout(100); // polling the page's state, not a duration it must meet
    got = await read();
  }
  assert.deepEqual(got, want, what);
}

const assertTables = (page, lb, what) => until(page, () => page.evaluate(pageTables), expectedTables(lb), what);

// The chips of a group as the page shows them: value, pressed, count, dimmed.
const chips = (page, group) => page.$$eval(`[data-testid=${group}] button.chip`, (bs) => bs.map((b) => ({
  value: b.dataset.value,
  pressed: b.getAttribute('aria-pressed'),
  count: b.querySelector('.chip-count').hidden ? null : b.querySelector('.chip-count').textContent,
  dimmed: b.classList.contains('chip-empty'),
})));

// The chips a picker must show, from the slices list and the choice (lang, cat): every
// language with votes and every category, each with the votes of the slice it leads to.
function expectedChips(sl, lang, cat) {
  const votes = (l, c) => {
    if (!l && !c) return null;
    const s = sl.slices.find((x) => (x.language || '') === l && (x.category || '') === c);
    return String(s ? s.votes : 0);
  };
  const chip = (value, pressed, count) => ({ value, pressed: String(pressed), count, dimmed: count === '0' });
  const langs = sl.languages.slice().sort((a, b) => b.votes - a.votes || a.code.localeCompare(b.code)).map((x) => x.code);
  return {
    language: [chip('', lang === '', votes('', cat)), ...langs.map((l) => chip(l, l === lang, votes(l, cat)))],
    category: [chip('', cat === '', votes(lang, '')), ...sl.categories.map((c) => chip(c.name, c.name === cat, votes(lang, c.name)))],
  };
}

async function assertChips(page, sl, lang, cat) {
  const read = async () => ({ language: await chips(page, 'language-chips'), category: await chips(page, 'category-chips') });
  await until(page, read, expectedChips(sl, lang, cat), `chips for language=${lang} category=${cat}`);
}

const heatBattles = (page) => page.$$eval('[data-testid=heatmap-battles] svg rect.cell', (rs) => rs.map((r) => ({
  row: r.dataset.row, col: r.dataset.col, value: r.dataset.value === undefined ? null : Number(r.dataset.value),
})));

async function assertHeatmap(page, base, query) {
  const { body: mx } = await api(page, base, `/api/leaderboard/matrix${query}`);
  const total = mx.battles.flat().reduce((a, b) => a + b, 0);
  await waitFor(page, `the battle heatmap of ${query || 'the whole board'}`, (t) => {
    const vals = Array.from(document.querySelectorAll('[data-testid=heatmap-battles] rect.cell')).map((r) => Number(r.dataset.value || 0));
    return vals.length === 9 && vals.reduce((a, b) => a + b, 0) === t;
  }, total, 15000);
  for (const c of await heatBattles(page)) {
    if (c.row === c.col) continue;
    assert.equal(c.value, mx.battles[mx.models.indexOf(c.row)][mx.models.indexOf(c.col)], `${query}: ${c.row} vs ${c.col}`);
  }
  assert.equal(await page.getByTestId('matrix-link').getAttribute('href'), `/api/leaderboard/matrix${query}`);
}

const search = (page) => new URL(page.url()).search;

// Load a URL in a page already open: a poll of the page left is cut short by the navigation,
// which is not a problem of the page's own.
async function load(page, url) {
  const before = page.problems.length;
  await page.goto(url);
  const added = page.problems.splice(before);
  page.problems.push(...added.filter((p) => !/^requestfailed: GET \S+\/api\/leaderboard\S* net::ERR_ABORTED$/.test(p)));
}
const eloShown = (page) => page.locator('#board thead th.col-elo').isVisible();

arenaTest('leaderboard slices: chips with counts, a slice table with rank changes, heatmaps, URLs, style switch',
  MODELS, { ratings: { min_battles: 2, bootstrap_rounds: 50 } }, async (arena) => {
    const base = arena.url;
    const page = await newPage(arena);
    await page.goto(`${base}leaderboard`);
    await waitFor(page, 'the picker', () => document.querySelectorAll('[data-testid=category-chips] button.chip').length > 5);
    await play(page, base);
    const sl = await settle(page, base);
    const langs = Object.fromEntries(sl.languages.map((x) => [x.code, x.votes]));
    assert.deepEqual(langs, { en: 9, ko: 5, ja: 1 }, 'the server put each battle in its language');

    // The chips follow the votes without reloading: each with its slice's votes.
    await assertChips(page, sl, '', '');
    assert.equal(search(page), '');
    assert.equal(await eloShown(page), true, 'the whole board shows the Elo');
    assert.equal(await page.locator('#board thead th.col-change').isVisible(), false, 'and no rank change');
    await assertTables(page, (await api(page, base, '/api/leaderboard')).body, 'the whole board');

    // A language chip: the URL, the pressed chip, the table and the heatmaps of the slice.
    await page.locator('[data-testid=language-chips] button.chip[data-value=ko]').click();
    assert.equal(search(page), '?language=ko');
    const ko = (await api(page, base, '/api/leaderboard?language=ko')).body;
    assert.equal(ko.slice.ranked, true);
    await assertTables(page, ko, 'the Korean board');
    assert.equal(await eloShown(page), false, 'a slice hides the Elo');
    assert.equal(await page.locator('#board thead th.col-change').isVisible(), true, 'and shows the rank change');
    const rows = await page.evaluate(pageTables);
    assert.equal(rows.main[0].model, 'sl-cedar', `cedar leads in Korean: ${JSON.stringify(rows)}`);
    assert.match(rows.main[0].change, /^↑[12]$/, 'cedar is higher in Korean than on the whole board');
    assert.equal(rows.main.find((r) => r.model === 'sl-amber').change, '↓2', 'amber leads the whole board, last in Korean');
    assert.equal(await page.getByTestId('votes').textContent(), '5');
    await assertChips(page, sl, 'ko', '');
    await assertHeatmap(page, base, '?language=ko');
    assert.equal(await page.getByTestId('api-link').getAttribute('href'), '/api/leaderboard?language=ko');
    assert.match(await page.getByTestId('slice-note').textContent(), /Korean: 5 votes/);

    // Back and forward.
    await page.goBack();
    assert.equal(search(page), '');
    await assertTables(page, (await api(page, base, '/api/leaderboard')).body, 'the whole board after back');
    await assertChips(page, sl, '', '');
    assert.equal(await eloShown(page), true);
    await assertHeatmap(page, base, '');
    await page.goForward();
    assert.equal(search(page), '?language=ko');
    await assertTables(page, ko, 'the Korean board after forward');
    await assertChips(page, sl, 'ko', '');

    // The keyboard: from the category group's "All" chip, arrows and Enter.
    await page.locator('[data-testid=category-chips] button.chip[data-value=""]').focus();
    const first = sl.categories[0].name;
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.value), first);
    await page.keyboard.press('Enter');
    assert.equal(search(page), `?language=ko&category=${first}`);
    await assertTables(page, (await api(page, base, `/api/leaderboard?language=ko&category=${first}`)).body, `ko & ${first}`);
    await assertChips(page, sl, 'ko', first);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.value), first, 'the chip keeps the focus');

    // Loading a URL restores its choice.
    await load(page, `${base}leaderboard?language=ko`);
    await assertTables(page, ko, 'the Korean board, loaded');
    await assertChips(page, sl, 'ko', '');
    await assertHeatmap(page, base, '?language=ko');

    // A slice where no model has min_battles battles: its message, its models apart.
    await page.locator('[data-testid=language-chips] button.chip[data-value=ja]').click();
    assert.equal(search(page), '?language=ja');
    const ja = (await api(page, base, '/api/leaderboard?language=ja')).body;
    assert.equal(ja.slice.ranked, false, JSON.stringify(ja.slice));
    assert.ok(ja.slice.message.length > 0);
    await assertTables(page, ja, 'the unranked Japanese slice');
    assert.equal(await page.locator('#empty').isVisible(), true);
    assert.equal(await page.getByTestId('provisional').isVisible(), true);

    // The style switch: style=control in the URL, and what the server answers shown.
    const sw = page.getByTestId('style-switch');
    assert.equal(await sw.getAttribute('aria-pressed'), 'false');
    await sw.click();
    assert.equal(search(page), '?language=ja&style=control');
    assert.equal(await sw.getAttribute('aria-pressed'), 'true');
    await assertStyle(page, base, '?language=ja&style=control');
    await sw.press('Space');
    assert.equal(search(page), '?language=ja');
    assert.equal(await page.getByTestId('style-panel').isVisible(), false);

    await load(page, `${base}leaderboard?language=ko&category=${first}&style=control&sort=bt`);
    await assertChips(page, sl, 'ko', first);
    assert.equal(await sw.getAttribute('aria-pressed'), 'true');
    await assertStyle(page, base, `?language=ko&category=${first}&style=control`);
    await page.locator('[data-testid=language-chips] button.chip[data-value=""]').click();
    assert.equal(search(page), `?category=${first}&style=control&sort=bt`, 'the other arguments stay');

    await load(page, `${base}leaderboard?language=ko`);
    await assertTables(page, ko, 'the Korean board for the screenshot');
    await screenshot(page, 'leaderboard-slice.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await assertNoSideways(page, 'a slice at 390 px');
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(page.problems, [], 'no console errors');

    // A slice the server refuses: its error, and no rows of another board.
    const bad = await newPage(arena);
    await bad.goto(`${base}leaderboard?language=K0`);
    const refused = await api(bad, base, '/api/leaderboard?language=K0');
    assert.equal(refused.status, 400);
    await waitFor(bad, 'the error', (m) => !document.getElementById('lb-error').hidden
      && document.getElementById('lb-error').textContent.includes(m), refused.body.error.message);
    assert.match(await bad.locator('#lb-error').textContent(), new RegExp(refused.body.error.code));
    assert.equal(await bad.locator('[data-testid=leaderboard-row]').count(), 0);
    assert.equal(await bad.locator('[data-testid=language-chips] button.chip[data-value=K0]').getAttribute('aria-pressed'), 'true');

    // The coefficients as a style-controlled board gives them (the server's board, with a
    // style object added in the browser, in the shape agon ratings --style-control --json
    // prints): shown, as text.
    const styled = await newPage(arena);
    await styled.route(/\/api\/leaderboard\?.*style=control/, async (route) => {
      const real = await route.fetch();
      const body = await real.json();
      body.style = {
        coefficients: { length: 0.25, bold: -0.125, '<img src=x onerror=window.__pwned=1>': 0.5 },
        ci_low: { length: 0.2, bold: -0.2 },
        ci_high: { length: 0.3, bold: -0.05 },
        battles: body.votes,
      };
      for (const m of body.models) m.style = { rating: m.bt + 10, ci_low: m.ci_low + 10, ci_high: m.ci_high + 10, rank_ub: m.rank_ub };
      await route.fulfill({ response: real, json: body });
    });
    await styled.goto(`${base}leaderboard?language=ko&style=control`);
    await waitFor(styled, 'the coefficients', () => document.querySelector('[data-testid=style-panel]').dataset.state === 'coefficients'
      && document.querySelectorAll('[data-testid=style-coef]').length === 3);
    const coefs = await styled.$$eval('[data-testid=style-coef]', (ds) => ds.map((d) => [d.dataset.name, d.querySelector('dt').textContent, d.querySelector('dd').textContent]));
    assert.deepEqual(coefs, [
      ['length', 'Answer length (tokens)', '0.250 (95% CI 0.200 to 0.300)'],
      ['bold', 'Bold spans', '-0.125 (95% CI -0.200 to -0.050)'],
      ['<img src=x onerror=window.__pwned=1>', '<img src=x onerror=window.__pwned=1>', '0.500'],
    ]);
    assert.equal(await styled.locator('[data-testid=style-panel] img').count(), 0);
    assert.equal(await styled.evaluate(() => window.__pwned), undefined);
    // The rows show each model's style-controlled rating.
    await assertTables(styled, { ...ko, models: ko.models.map((m) => ({ ...m, bt: m.bt + 10 })) }, 'the style-controlled ratings');
    assert.match(await styled.locator('#board thead th[data-key=bt] .th-sub').textContent(), /style-controlled/);
    assert.deepEqual(styled.problems, [], 'no console errors');
  });

// The style panel shows what the server answered for this query: its coefficients, or that it
// gave none, or its error.
async function assertStyle(page, base, query) {
  const r = await api(page, base, `/api/leaderboard${query}`);
  const panel = page.getByTestId('style-panel');
  let state = 'none';
  if (r.status >= 400) state = 'error';
  else if (r.body.style && typeof r.body.style === 'object') state = 'coefficients';
  await waitFor(page, `style panel ${state}`, (s) => document.querySelector('[data-testid=style-panel]').dataset.state === s, state);
  assert.equal(await panel.isVisible(), true);
  if (state === 'error') {
    assert.match(await page.getByTestId('style-note').textContent(), new RegExp(r.body.error.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await page.locator('#lb-error').isVisible(), true);
  } else if (state === 'coefficients') {
    const coefs = r.body.style.coefficients || {};
    const shown = await page.$$eval('[data-testid=style-coef]', (ds) => ds.map((d) => [d.dataset.name, d.querySelector('dd').dataset.value]));
    assert.deepEqual(shown.map(([k]) => k), Object.keys(coefs));
    for (const [k, v] of shown) assert.ok(Math.abs(Number(v) - coefs[k]) < 1e-9, `${k}: ${v} vs ${coefs[k]}`);
  } else {
    assert.match(await page.getByTestId('style-note').textContent(), /no style coefficients/);
  }
}
