// The leaderboard's slice picker: language and category chips with the votes of each slice
// (from /api/leaderboard/slices), a style-control switch, the table of a slice (Bradley-Terry
// only, each row's rank change against the whole board), the heatmaps of the slice, and URLs
// that keep the choice (/leaderboard?language=ko&category=coding&style=control), restored on
// load and on back and forward. Style control shows the server's own style-controlled boards
// (GET /api/leaderboard?style=control…): "fitting…" while the first background fit of a board
// is under way, then its rows and its coefficients exactly as the API gives them.

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

// Answers of three lengths, varying from battle to battle (the fake backend's padNNNvarMMM),
// so that the style-controlled boards have a length coefficient to show.
const SLA = 'pad0var150-sla';
const SLB = 'pad60var150-slb';
const SLC = 'pad120var150-slc';
const MODELS = { 'sl-amber': SLA, 'sl-birch': SLB, 'sl-cedar': SLC };
const NAME = { [SLA]: 'sl-amber', [SLB]: 'sl-birch', [SLC]: 'sl-cedar' };

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
const ORDER = { en: [SLA, SLB, SLC], ko: [SLC, SLB, SLA], ja: [SLA, SLB, SLC] };
const PLAN = [
  ...Array.from({ length: 9 }, (_, i) => ['en', [[SLA, SLB], [SLB, SLC], [SLA, SLC]][i % 3]]),
  ...Array.from({ length: 5 }, (_, i) => ['ko', [[SLC, SLA], [SLC, SLB], [SLB, SLA]][i % 3]]),
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
const f0 = (x) => (x === null || x === undefined ? '–' : x.toFixed(0));

// What the page's tables must show for an API board: the ranked rows in order (model, rank,
// BT and its interval, rank (UB), battles, W / L / T; the Elo on the whole board, the rank
// change on a slice or a style-controlled board; marked style-controlled on one), the
// provisional ones, and the empty message.
function expectedTables(lb) {
  const btOnly = !!lb.slice || lb.style_control === true;
  const row = (m) => ({
    model: m.model,
    rank: m.rank === null ? '–' : String(m.rank),
    bt: m.bt === null ? null : String(m.bt),
    ci: m.bt === null || m.ci_low === null || m.ci_high === null ? null
      : `+${f0(Math.max(0, m.ci_high - m.bt))} / −${f0(Math.max(0, m.bt - m.ci_low))}`,
    ub: f0(m.rank_ub),
    battles: String(m.battles),
    wlt: `${m.wins} / ${m.losses} / ${m.ties}`,
    elo: btOnly ? null : f0(m.elo),
    change: btOnly ? change(m.rank_change) : null,
    styled: lb.style_control === true,
  });
  return {
    main: lb.models.map(row),
    prov: lb.provisional.map(row),
    message: lb.slice && lb.slice.ranked === false ? lb.slice.message : null,
  };
}

function pageTables() {
  const read = (sel) => Array.from(document.querySelectorAll(`${sel} [data-testid=leaderboard-row]`)).map((r) => {
    const shown = (c) => getComputedStyle(r.querySelector(c)).display !== 'none';
    return {
      model: r.dataset.model,
      rank: r.querySelector('.col-rank').textContent,
      bt: r.querySelector('.bt-value')?.dataset.value ?? null,
      ci: r.querySelector('.col-bt .ci-text')?.textContent ?? null,
      ub: r.querySelector('.col-ub').textContent,
      battles: r.querySelector('.col-battles').textContent,
      wlt: r.querySelector('.col-wlt').textContent,
      elo: shown('.col-elo') ? r.querySelector('.col-elo').textContent : null,
      change: shown('.col-change') ? r.querySelector('.change-mark').textContent : null,
      styled: r.dataset.style === 'control',
    };
  });
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

    // The style switch: style=control in the URL, and the server's style-controlled board of
    // the slice. Nothing has asked for that board yet, so the server's first answer is
    // {"pending": true} (and it starts the fit): the page says it is fitting, then shows the
    // board on a later poll, by itself. Every state the panel goes through is recorded.
    const styleAnswers = [];
    page.on('response', (r) => {
      if (/\/api\/leaderboard\?(.*&)?style=control/.test(r.url())) styleAnswers.push(r.json().catch(() => null));
    });
    await page.evaluate(() => {
      const panel = document.querySelector('[data-testid=style-panel]');
      const snap = () => ({
        state: panel.dataset.state,
        busy: document.getElementById('board').getAttribute('aria-busy'),
        note: document.querySelector('[data-testid=style-note]').textContent,
        empty: document.getElementById('empty').hidden ? null : document.getElementById('empty').textContent,
        rows: document.querySelectorAll('[data-testid=leaderboard-row]').length,
        votes: document.querySelector('[data-testid=votes]').textContent,
      });
      window.__styleStates = [];
      new MutationObserver(() => window.__styleStates.push(snap())).observe(panel, { attributes: true, childList: true, subtree: true });
    });
    const sw = page.getByTestId('style-switch');
    assert.equal(await sw.getAttribute('aria-pressed'), 'false');
    await sw.click();
    assert.equal(search(page), '?language=ja&style=control');
    assert.equal(await sw.getAttribute('aria-pressed'), 'true');
    const jaStyle = await assertStyle(page, base, '?language=ja&style=control');
    const firstAnswer = await styleAnswers[0];
    assert.equal(firstAnswer.style.pending, true, `the server's first answer for a new board: ${JSON.stringify(firstAnswer)}`);
    assert.deepEqual(firstAnswer.models, []);
    const states = await page.evaluate(() => window.__styleStates);
    const fitting = states.find((x) => x.state === 'pending');
    assert.ok(fitting, `the page showed the pending fit: ${JSON.stringify(states)}`);
    assert.match(fitting.note, /^Fitting…/);
    assert.match(fitting.empty, /^Fitting the style-controlled board…/, 'and not the slice\'s "too few battles" of an empty board');
    assert.equal(fitting.rows, 0);
    assert.equal(fitting.busy, 'true');
    assert.equal(fitting.votes, '–');
    assert.equal(states.at(-1).state, 'coefficients', JSON.stringify(states));
    assert.equal(jaStyle.slice.ranked, false, 'one battle in Japanese: not ranked with style control either');
    assert.equal(await page.locator('#empty').isVisible(), true);
    await sw.press('Space');
    assert.equal(search(page), '?language=ja');
    assert.equal(await page.getByTestId('style-panel').isVisible(), false);
    await assertTables(page, ja, 'the Japanese slice without style control again');

    // A slice and a category with style control, loaded from its URL.
    await load(page, `${base}leaderboard?language=ko&category=${first}&style=control&sort=bt`);
    await assertChips(page, sl, 'ko', first);
    assert.equal(await sw.getAttribute('aria-pressed'), 'true');
    await assertStyle(page, base, `?language=ko&category=${first}&style=control`);
    await page.locator('[data-testid=language-chips] button.chip[data-value=""]').click();
    assert.equal(search(page), `?category=${first}&style=control&sort=bt`, 'the other arguments stay');
    await assertStyle(page, base, `?category=${first}&style=control`);

    // The whole board with style control: no slice, the rank change against the plain board.
    await page.locator('[data-testid=category-chips] button.chip[data-value=""]').click();
    assert.equal(search(page), '?style=control&sort=bt');
    const whole = await assertStyle(page, base, '?style=control');
    assert.equal(whole.slice, null);
    assert.equal(whole.style.battles, 15);
    assert.equal(whole.style.skipped, 0);
    assert.notEqual(whole.style.coefficients.length.beta, 0, 'the answers differ in length: a length coefficient');
    assert.match(await page.locator('#board th[data-key=rank_change] button').getAttribute('title'), /without style control/);
    assert.equal(await page.locator('#card-elo').isVisible(), false, 'no Elo card');
    await screenshot(page, 'leaderboard-style.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await assertNoSideways(page, 'the style-controlled board at 390 px');
    await page.setViewportSize({ width: 1280, height: 900 });

    await load(page, `${base}leaderboard?language=ko`);
    await assertTables(page, ko, 'the Korean board for the screenshot');
    await screenshot(page, 'leaderboard-slice.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await assertNoSideways(page, 'a slice at 390 px');
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(page.problems, [], 'no console errors');

    // A slice the server refuses: its error, and no rows of another board; with style control
    // asked for, the style panel says why there is none.
    const bad = await newPage(arena);
    await bad.goto(`${base}leaderboard?language=K0&style=control`);
    const refused = await api(bad, base, '/api/leaderboard?language=K0&style=control');
    assert.equal(refused.status, 400);
    await waitFor(bad, 'the error', (m) => !document.getElementById('lb-error').hidden
      && document.getElementById('lb-error').textContent.includes(m), refused.body.error.message);
    assert.match(await bad.locator('#lb-error').textContent(), new RegExp(refused.body.error.code));
    assert.equal(await bad.locator('[data-testid=leaderboard-row]').count(), 0);
    assert.equal(await bad.locator('[data-testid=language-chips] button.chip[data-value=K0]').getAttribute('aria-pressed'), 'true');
    assert.equal(await bad.getByTestId('style-panel').getAttribute('data-state'), 'error');
    assert.ok((await bad.getByTestId('style-note').textContent()).includes(refused.body.error.message));

    // Hostile names, as text: the server's own answer for the whole style-controlled board
    // (fitted above), in its real shape, with a model and a coefficient renamed in the
    // browser (neither can be made through the server: model names are the configuration's,
    // the coefficients' are fixed).
    const HOSTILE = '<img src=x onerror=window.__pwned=1>';
    const styled = await newPage(arena);
    let injected = null;
    await styled.route(/\/api\/leaderboard\?(.*&)?style=control/, async (route) => {
      const real = await route.fetch();
      const body = await real.json();
      assert.equal(body.style.pending, false, 'the whole style board was fitted above');
      body.models[0].model = HOSTILE;
      body.style.coefficients[HOSTILE] = { beta: 0.5, ci_low: 0.25, ci_high: 0.75 };
      injected = body;
      await route.fulfill({ response: real, json: body });
    });
    await styled.goto(`${base}leaderboard?style=control`);
    await waitFor(styled, 'the coefficients', (n) => document.querySelector('[data-testid=style-panel]').dataset.state === 'coefficients'
      && document.querySelectorAll('[data-testid=style-coef]').length === n, Object.keys(whole.style.coefficients).length + 1);
    assert.deepEqual(await styled.evaluate(pageStyle), expectedStyle(injected));
    const last = (await styled.evaluate(pageStyle)).coefs.at(-1);
    assert.deepEqual(last, [HOSTILE, HOSTILE, '0.5', '0.25', '0.75', '0.500 (95% CI 0.250 to 0.750)']);
    await assertTables(styled, injected, 'the board with a hostile name');
    assert.equal(await styled.locator('[data-testid=leaderboard-row]').first().locator('.model-label').textContent(), HOSTILE);
    assert.equal(await styled.locator('main img').count(), 0, 'no element made from the names');
    assert.equal(await styled.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(styled.problems, [], 'no console errors');
  });

const STYLE_NAMES = { length: 'Answer length (tokens)', headers: 'Markdown headers', lists: 'List items', bold: 'Bold spans' };

// What the style panel shows: each coefficient (name, label, beta, its interval, as shown) and
// the battles fitted and votes left out.
function pageStyle() {
  const coefs = Array.from(document.querySelectorAll('[data-testid=style-coef]')).map((d) => {
    const dd = d.querySelector('dd');
    return [d.dataset.name, d.querySelector('dt').textContent, dd.dataset.value ?? null, dd.dataset.low ?? null,
      dd.dataset.high ?? null, dd.textContent];
  });
  const count = (id) => {
    const e = document.querySelector(`[data-testid=${id}]`);
    return e ? [e.dataset.value, e.textContent] : null;
  };
  return { coefs, battles: count('style-battles'), skipped: count('style-skipped') };
}

function expectedStyle(lb) {
  const f3 = (x) => x.toFixed(3);
  const coefs = Object.entries(lb.style.coefficients).map(([k, c]) => {
    const ci = c.beta !== null && c.ci_low !== null && c.ci_high !== null;
    return [k, STYLE_NAMES[k] || k, c.beta === null ? null : String(c.beta), ci ? String(c.ci_low) : null,
      ci ? String(c.ci_high) : null,
      c.beta === null ? '–' : `${f3(c.beta)}${ci ? ` (95% CI ${f3(c.ci_low)} to ${f3(c.ci_high)})` : ''}`];
  });
  const n = lb.style.battles;
  const s = lb.style.skipped;
  return {
    coefs,
    battles: [String(n), `Fitted on ${n} battle${n === 1 ? '' : 's'}`],
    skipped: [String(s), s === 0 ? 'no vote left out' : `${s} vote${s === 1 ? '' : 's'} left out (no style counts stored for ${s === 1 ? 'it' : 'them'})`],
  };
}

// Wait until the page shows the coefficients of a style-controlled board, then check that it
// shows what GET /api/leaderboard<query> answers: the coefficients with their intervals, the
// battles fitted and the votes left out, and the table rows (the models' style-controlled
// ratings, as they are), with the Elo hidden and the BT column marked style-controlled.
async function assertStyle(page, base, query) {
  await waitFor(page, `the style coefficients of ${query}`, () => document.querySelector('[data-testid=style-panel]').dataset.state === 'coefficients');
  const { status, body: lb } = await api(page, base, `/api/leaderboard${query}`);
  assert.equal(status, 200, JSON.stringify(lb));
  assert.equal(lb.style_control, true);
  assert.equal(lb.style.pending, false, 'the page shows coefficients only once the board is fitted');
  assert.deepEqual(Object.keys(lb.style.coefficients), ['length', 'headers', 'lists', 'bold']);
  assert.equal(lb.models.some((m) => 'elo' in m || 'style' in m), false, 'the rows are the style-controlled ratings');
  assert.equal(await page.getByTestId('style-panel').isVisible(), true);
  await until(page, () => page.evaluate(pageStyle), expectedStyle(lb), `the style panel of ${query}`);
  await assertTables(page, lb, `the style-controlled board of ${query}`);
  assert.equal(await eloShown(page), false, 'a style-controlled board hides the Elo');
  assert.equal(await page.locator('#board thead th.col-change').isVisible(), true, 'and shows the rank change');
  assert.match(await page.locator('#board thead th[data-key=bt] .th-sub').textContent(), /style-controlled/);
  assert.match(await page.locator('#lead-bt-label').textContent(), /style-controlled/);
  assert.equal(await page.locator('#board').getAttribute('aria-busy'), null);
  assert.match(await page.getByTestId('slice-note').textContent(), /With style control/);
  return lb;
}
