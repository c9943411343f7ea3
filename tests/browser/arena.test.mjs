// Agon's pages in a real browser: Debian's Chromium driven by playwright-core, against the
// real agon binary and tests/fake_backend.py. Run: node --test tests/browser/
// (or tests/browser/run.sh). Screenshots go to tests/browser/artifacts/.

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, waitPhase, answerTexts, screenshot, recordVoteButtons, recordStreaming,
  clearOldFailures, checkPrerequisites, arenaTest, votesDisabled, startBattle, vote, leaderboardRows, ECHO_RE,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

// ---------------------------------------------------------------------------

arenaTest('full battle: prompt, both panes stream, vote, names revealed, leaderboard',
  { 'alpha-quick': 'slow60-alpha', 'bravo-steady': 'slow250-bravo' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    assert.deepEqual(await votesDisabled(page), [true, true, true, true], 'vote buttons disabled before a battle');
    assert.equal(await page.getByTestId('send').isDisabled(), true, 'send disabled with an empty prompt');
    await recordVoteButtons(page);
    await recordStreaming(page);

    const prompt = 'Name three prime numbers, please.';
    await page.getByTestId('prompt').pressSequentially(prompt);
    assert.equal(await page.getByTestId('send').isDisabled(), false, 'send enabled once there is a prompt');
    const [created] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/battles') && r.request().method() === 'POST'),
      page.getByTestId('prompt').press('Enter'),
    ]);
    assert.equal(created.status(), 201);
    const battleId = (await created.json()).id;

    // Both panes have partial text while the battle is still streaming.
    await waitFor(page, 'both panes streaming', () => {
      const t = (s) => document.querySelector(`[data-testid=answer-${s}] .answer-text`)?.textContent || '';
      return document.body.dataset.phase === 'streaming' && t('a').length > 0 && t('b').length > 0;
    });
    assert.deepEqual(await votesDisabled(page), [true, true, true, true], 'vote buttons disabled while streaming');
    // The quicker model finishes first: still no voting while the other one writes.
    await waitFor(page, 'one side done, the other still writing', () => {
      const a = document.getElementById('status-a').dataset.state;
      const b = document.getElementById('status-b').dataset.state;
      return (a === 'done') !== (b === 'done');
    });
    assert.deepEqual(await votesDisabled(page), [true, true, true, true], 'vote buttons disabled until both answers are done');

    await waitPhase(page, 'ready', 30000);
    assert.deepEqual(await votesDisabled(page), [false, false, false, false], 'vote buttons enabled once both are done');

    // Text grew in both panes before the end (several different partial lengths per side).
    const log = await page.evaluate(() => window.__streamLog);
    const finalA = (await answerTexts(page, 'a'))[0];
    const finalB = (await answerTexts(page, 'b'))[0];
    for (const [side, final] of [['a', finalA], ['b', finalB]]) {
      const partial = new Set(log.filter((e) => e.phase === 'streaming' && e[side] > 0 && e[side] < final.length).map((e) => e[side]));
      assert.ok(partial.size >= 3, `pane ${side} grew while streaming (partial lengths seen: ${[...partial].join(',')})`);
      assert.match(final, ECHO_RE(1, 1, prompt), `pane ${side} final text`);
    }
    // The vote buttons never became enabled before both sides were done.
    const voteLog = await page.evaluate(() => window.__voteLog);
    assert.ok(voteLog.length >= 1);
    for (const e of voteLog) {
      assert.deepEqual([e.a, e.b, e.phase], ['done', 'done', 'ready'], `vote buttons enabled too early: ${JSON.stringify(e)}`);
    }
    // Names are not shown before the vote.
    for (const s of ['a', 'b']) {
      assert.equal(await page.getByTestId(`model-${s}`).isVisible(), false, `model-${s} hidden before the vote`);
    }

    const reply = await vote(page, 'vote-a');
    await waitPhase(page, 'voted');
    assert.equal(reply.winner, 'a');
    assert.deepEqual(new Set([reply.models.a, reply.models.b]), new Set(['alpha-quick', 'bravo-steady']));
    for (const s of ['a', 'b']) {
      const name = page.getByTestId(`model-${s}`);
      assert.equal(await name.isVisible(), true, `model-${s} shown after the vote`);
      assert.equal((await name.textContent()).trim(), reply.models[s], `model-${s} matches the vote reply`);
    }
    assert.deepEqual(await votesDisabled(page), [true, true, true, true], 'vote buttons locked after the vote');
    assert.equal(await page.getByTestId('new-battle').isVisible(), true, 'new battle offered after the vote');

    const battle = await (await page.request.get(`${arena.url}api/battles/${battleId}`)).json();
    assert.equal(battle.status, 'voted');
    assert.equal(battle.winner, 'a');
    assert.deepEqual(battle.models, reply.models, 'GET /api/battles/ID agrees with the vote reply');
    assert.equal(battle.turns[0].a, finalA, 'pane A shows the stored answer A');
    assert.equal(battle.turns[0].b, finalB, 'pane B shows the stored answer B');
    await screenshot(page, 'battle-voted.png');

    // The leaderboard shows the vote: winner 1002, loser 998, one battle each.
    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'two leaderboard rows', () => document.querySelectorAll('[data-testid=leaderboard-row]').length === 2);
    let rows = await leaderboardRows(board);
    const winner = rows.find((r) => r.model === reply.models.a);
    const loser = rows.find((r) => r.model === reply.models.b);
    assert.ok(winner && loser, JSON.stringify(rows));
    assert.deepEqual([winner.elo, winner.battles], ['1002', '1'], `winner row ${JSON.stringify(winner)}`);
    assert.deepEqual([loser.elo, loser.battles], ['998', '1'], `loser row ${JSON.stringify(loser)}`);
    assert.equal(rows[0].model, reply.models.a, 'the winner is ranked first');
    await screenshot(board, 'leaderboard-one-vote.png');

    // It refreshes live: a second vote (B wins this time) shows up without reloading.
    const b2 = await (await board.request.post(`${arena.url}api/battles`, { data: { prompt: 'again' } })).json();
    const deadline = Date.now() + 20000;
    let st;
    do {
      st = await (await board.request.get(`${arena.url}api/battles/${b2.id}`)).json();
      if (st.status !== 'streaming') break;
      await new Promise((r) => setTimeout(r, 100)); // polling the API, not synchronising the page
    } while (Date.now() < deadline);
    assert.equal(st.status, 'ready');
    const v2 = await board.request.post(`${arena.url}api/battles/${b2.id}/vote`, { data: { winner: 'tie' } });
    assert.equal(v2.status(), 200);
    await waitFor(board, 'leaderboard shows two battles', () => Array.from(document.querySelectorAll('[data-testid=leaderboard-row] .col-battles'))
      .every((c) => c.textContent === '2'), undefined, 15000);
    rows = await leaderboardRows(board);
    assert.equal(rows.length, 2);
    assert.deepEqual(page.problems.concat(board.problems), [], 'no console errors');
  });

arenaTest('a failed side: error in its pane, no voting, new battle offered',
  { 'charlie-fine': 'slow50-charlie', 'delta-broken': 'fail500-delta' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await recordVoteButtons(page);
    await startBattle(page, 'Tell me a joke.');
    await waitPhase(page, 'failed', 30000);

    // The failing side shows an error. (The server then abandons the other side if it is
    // still writing, which shows as an error in that pane too; if it had finished, it keeps
    // its answer.)
    const panes = await page.evaluate(() => ['a', 'b'].map((s) => {
      const err = document.querySelector(`[data-testid=answer-${s}] .turn-error`);
      return {
        side: s,
        state: document.getElementById(`status-${s}`).dataset.state,
        statusText: document.getElementById(`status-${s}`).textContent,
        error: err && !err.hidden && err.getClientRects().length > 0 ? err.textContent : null,
        text: document.querySelector(`[data-testid=answer-${s}] .answer-text`).textContent,
      };
    }));
    const errored = panes.filter((p) => p.state === 'error');
    assert.ok(errored.length >= 1, `a pane shows the failure: ${JSON.stringify(panes)}`);
    for (const p of panes) {
      assert.ok(['error', 'done'].includes(p.state), `pane ${p.side} state: ${JSON.stringify(p)}`);
      if (p.state === 'error') assert.ok(p.error && p.error.trim().length > 1, `pane ${p.side} shows its error message: ${JSON.stringify(p)}`);
      else assert.match(p.text, ECHO_RE(1, 1, 'Tell me a joke.'), `pane ${p.side} keeps its answer`);
    }
    const errText = errored.map((p) => p.error).join(' | ');

    assert.deepEqual(await votesDisabled(page), [true, true, true, true], 'vote buttons disabled on a failed battle');
    assert.deepEqual(await page.evaluate(() => window.__voteLog), [], 'vote buttons never became enabled');
    assert.equal(await page.getByTestId('new-battle').isVisible(), true, 'new battle offered');
    const bannerNew = page.getByRole('button', { name: 'Start a new battle' });
    assert.equal(await bannerNew.isVisible(), true, '"Start a new battle" shown with the failure');

    // Nothing about the provider leaks into the page.
    const html = await page.content();
    for (const s of ['provider-secret', 'fail500', 'delta-broken', 'charlie-fine', 'slow50', '/v1']) {
      assert.ok(!html.includes(s), `page contains ${s}: ${errText}`);
    }

    // Keyboard shortcuts do not vote either.
    await page.locator('body').press('a');
    assert.equal(await page.evaluate(() => document.body.dataset.phase), 'failed');

    await bannerNew.click();
    await waitPhase(page, 'idle');
    assert.deepEqual(await answerTexts(page, 'a'), []);
    assert.deepEqual(await answerTexts(page, 'b'), []);
    assert.equal(await page.getByTestId('prompt').evaluate((e) => document.activeElement === e), true, 'focus back in the prompt');
    assert.deepEqual(page.problems, [], 'no console errors');
  });

arenaTest('a follow-up turn before voting shows turn 2 in both panes',
  { 'echo-one': 'echo-one', 'echo-two': 'slow20-two' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    const first = 'What is the capital of France?';
    const id = await startBattle(page, first);
    await waitPhase(page, 'ready', 30000);
    assert.equal((await page.getByTestId('send').textContent()).trim(), 'Send follow-up');

    // Shift+Enter adds a line without sending.
    const box = page.getByTestId('prompt');
    await box.pressSequentially('And of Italy?');
    await box.press('Shift+Enter');
    await box.pressSequentially('Thanks.');
    assert.equal(await box.inputValue(), 'And of Italy?\nThanks.');
    assert.equal(await page.evaluate(() => document.body.dataset.phase), 'ready', 'Shift+Enter did not send');
    const second = 'And of Italy?\nThanks.';

    const [turnResp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/battles/${id}/turns`) && r.request().method() === 'POST'),
      box.press('Enter'),
    ]);
    assert.equal(turnResp.status(), 202);
    await waitFor(page, 'two turns in both panes', () => ['a', 'b'].every(
      (s) => document.querySelectorAll(`[data-testid=answer-${s}] .turn`).length === 2));
    await waitPhase(page, 'ready', 30000);

    for (const s of ['a', 'b']) {
      const texts = await answerTexts(page, s);
      assert.equal(texts.length, 2);
      assert.match(texts[0], ECHO_RE(1, 1, first), `pane ${s} keeps turn 1`);
      assert.match(texts[1], ECHO_RE(2, 3, second), `pane ${s} shows turn 2 with its own history`);
      const prompts = await page.$$eval(`[data-testid=answer-${s}] .turn-prompt`, (els) => els.map((e) => e.textContent));
      assert.deepEqual(prompts, [first, second]);
    }
    const battle = await (await page.request.get(`${arena.url}api/battles/${id}`)).json();
    assert.equal(battle.turns.length, 2);
    assert.equal(battle.turns[1].a, (await answerTexts(page, 'a'))[1]);
    assert.equal(battle.turns[1].b, (await answerTexts(page, 'b'))[1]);
    assert.equal(await box.inputValue(), '', 'prompt cleared after sending');

    // Vote by keyboard: Esc leaves the prompt, T votes "Tie".
    await box.press('Escape');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/vote')),
      page.keyboard.press('t'),
    ]);
    assert.equal((await resp.json()).winner, 'tie');
    await waitPhase(page, 'voted');
    assert.deepEqual(page.problems, [], 'no console errors');
  });

arenaTest('XSS payloads in prompts, answers and model names are shown as text and never run',
  { '<img src=x onerror=window.__xss=1>': 'echo-x1', '<script>window.__xss=1</script>': 'slow20-x2' }, {},
  async (arena) => {
    const page = await newPage(arena);
    const stray = [];
    page.on('request', (r) => { if (/\/x$/.test(new URL(r.url()).pathname)) stray.push(r.url()); });
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    const payload = 'Hi <img src=x onerror="window.__xss=1"> and <script>window.__xss=1</script> and <b>bold</b> end';
    const id = await startBattle(page, payload);
    await waitPhase(page, 'ready', 30000);

    for (const s of ['a', 'b']) {
      assert.match((await answerTexts(page, s))[0], ECHO_RE(1, 1, payload), `pane ${s} shows the payload literally`);
      const injected = await page.$$eval(`[data-testid=answer-${s}] img, [data-testid=answer-${s}] script, [data-testid=answer-${s}] b`, (e) => e.length);
      assert.equal(injected, 0, `no elements injected into pane ${s}`);
      const p = await page.$eval(`[data-testid=answer-${s}] .turn-prompt`, (e) => e.textContent);
      assert.equal(p, payload);
    }
    const reply = await vote(page, 'vote-b');
    await waitPhase(page, 'voted');
    for (const s of ['a', 'b']) {
      assert.equal(await page.getByTestId(`model-${s}`).textContent(), reply.models[s], `model-${s} shows the name literally`);
    }
    assert.equal(await page.$$eval('.pane-head img, .pane-head script, #status img', (e) => e.length), 0);

    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'two leaderboard rows', () => document.querySelectorAll('[data-testid=leaderboard-row]').length === 2);
    const names = await board.$$eval('[data-testid=leaderboard-row] td.model', (tds) => tds.map((t) => t.firstChild.textContent));
    assert.deepEqual(new Set(names), new Set(['<img src=x onerror=window.__xss=1>', '<script>window.__xss=1</script>']));
    assert.equal(await board.$$eval('#rows img, #rows script', (e) => e.length), 0);

    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script ran on the arena page');
    assert.equal(await board.evaluate(() => window.__xss), undefined, 'no script ran on the leaderboard');
    assert.deepEqual(stray, [], 'no injected <img src=x> was ever requested');
    const battle = await (await page.request.get(`${arena.url}api/battles/${id}`)).json();
    assert.equal(battle.turns[0].prompt, payload);
  });

arenaTest('phone width 390 px: panes stack, no sideways scrolling on either page',
  { 'echo-phone-a': 'echo-pa', 'echo-phone-b': 'slow20-pb' },
  { contextOptions: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } },
  async (arena) => {
    const page = await newPage(arena);
    const noSideways = async (p, when) => {
      const w = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, inner: window.innerWidth }));
      assert.ok(w.scroll <= 390, `${when}: scrollWidth ${w.scroll} > 390 (${JSON.stringify(w)})`);
    };
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await noSideways(page, 'arena, idle');
    // A long unbroken word (a URL), a wide table and a long code line in the prompt, and so in
    // both answers (rendered as Markdown once complete).
    const prompt = [
      `Please summarise https://example.org/${'very-long-path-segment-'.repeat(8)}end and explain it in a few words.`,
      '',
      `| ${Array.from({ length: 12 }, (_, i) => `column${i}`).join(' | ')} |`,
      `|${'---|'.repeat(12)}`,
      `| ${Array.from({ length: 12 }, (_, i) => `value-number-${i}`).join(' | ')} |`,
      '',
      '```',
      `${'x = 1; '.repeat(40)}`,
      '```',
    ].join('\n');
    await startBattle(page, prompt);
    await waitPhase(page, 'ready', 30000);
    assert.equal(await page.locator('[data-testid=answer-a] table').count(), 1, 'the table is rendered');
    await noSideways(page, 'arena, answers shown');
    const boxes = await page.evaluate(() => ['a', 'b'].map((s) => {
      const r = document.getElementById(`pane-${s}`).getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
    }));
    assert.ok(boxes[1].top >= boxes[0].bottom - 1, `panes stack on a phone: ${JSON.stringify(boxes)}`);
    await vote(page, 'vote-a');
    await waitPhase(page, 'voted');
    await noSideways(page, 'arena, after the vote');
    await screenshot(page, 'phone-arena.png');

    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'two leaderboard rows and the heatmaps', () => document.querySelectorAll('[data-testid=leaderboard-row]').length === 2
      && document.querySelectorAll('[data-testid=heatmap-win] rect.cell').length === 4);
    await noSideways(board, 'leaderboard');
    // The heatmaps fit the phone's width.
    const heat = await board.$eval('[data-testid=heatmap-win] svg', (s) => s.getBoundingClientRect().right);
    assert.ok(heat <= 390, `heatmap inside the screen: right edge ${heat}`);
    await screenshot(board, 'phone-leaderboard.png');
    assert.deepEqual(page.problems.concat(board.problems), [], 'no console errors');
  });

arenaTest('no console errors during a normal battle and on the leaderboard',
  { 'echo-calm-a': 'slow30-ca', 'echo-calm-b': 'slow30-cb', 'echo-calm-c': 'echo-cc' }, {}, async (arena) => {
    const page = await newPage(arena);
    const bad = [];
    page.on('response', (r) => { if (r.status() >= 400) bad.push(`${r.status()} ${r.url()}`); });
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await startBattle(page, 'Write a haiku about the sea.');
    await waitPhase(page, 'ready', 30000);
    await vote(page, 'vote-bothbad');
    await waitPhase(page, 'voted');
    await page.getByTestId('new-battle').click();
    await waitPhase(page, 'idle');

    const board = await newPage(arena);
    board.on('response', (r) => { if (r.status() >= 400) bad.push(`${r.status()} ${r.url()}`); });
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'three leaderboard rows', () => document.querySelectorAll('[data-testid=leaderboard-row]').length === 3);
    // Let at least one live refresh happen (the page polls /api/leaderboard).
    await board.waitForResponse((r) => r.url().endsWith('/api/leaderboard'), { timeout: 10000 });
    await board.getByRole('button', { name: 'Elo' }).click(); // sorting must not throw either
    assert.deepEqual(page.problems, [], 'arena page: no console errors or page errors');
    assert.deepEqual(board.problems, [], 'leaderboard page: no console errors or page errors');
    assert.deepEqual(bad, [], 'no HTTP errors (favicon included)');
  });

arenaTest('anonymity: the page names neither model before the vote',
  { 'zeta-secretname': 'slow80-zupstream', 'omega-hiddenname': 'slow80-oupstream' }, {}, async (arena) => {
    const page = await newPage(arena);
    const secrets = ['zeta-secretname', 'omega-hiddenname', 'zupstream', 'oupstream', 'slow80'];
    const assertAnonymous = async (when) => {
      const html = await page.content();
      for (const s of secrets) assert.ok(!html.includes(s), `${when}: the page contains "${s}"`);
      const title = await page.title();
      for (const s of secrets) assert.ok(!title.includes(s), `${when}: the title contains "${s}"`);
    };
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await assertAnonymous('idle');
    await startBattle(page, 'Who are you? Tell me your model name.');
    await waitFor(page, 'both panes streaming', () => {
      const t = (s) => document.querySelector(`[data-testid=answer-${s}] .answer-text`)?.textContent || '';
      return document.body.dataset.phase === 'streaming' && t('a').length > 0 && t('b').length > 0;
    });
    await assertAnonymous('while streaming');
    await waitPhase(page, 'ready', 30000);
    await assertAnonymous('ready, before the vote');
    await vote(page, 'vote-tie');
    await waitPhase(page, 'voted');
    const html = await page.content();
    assert.ok(html.includes('zeta-secretname') && html.includes('omega-hiddenname'), 'names revealed after the vote');
  });

arenaTest('accessibility basics and a battle by keyboard alone',
  { 'kb-one': 'echo-kb1', 'kb-two': 'echo-kb2' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    const audit = (p) => p.evaluate(() => {
      const name = (e) => (e.getAttribute('aria-label') || e.textContent || '').trim()
        || (e.getAttribute('aria-labelledby') || '').split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
      const problems = [];
      if (!document.documentElement.lang) problems.push('no lang');
      if (!document.title) problems.push('no title');
      if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
      for (const b of document.querySelectorAll('button, a[href]')) {
        if (b.getClientRects().length && !name(b)) problems.push(`unnamed ${b.outerHTML.slice(0, 80)}`);
      }
      for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push(`img without alt ${img.outerHTML.slice(0, 80)}`);
      for (const f of document.querySelectorAll('textarea, input, select')) {
        if (!f.labels?.length && !f.getAttribute('aria-label')) problems.push(`unlabelled field ${f.outerHTML.slice(0, 80)}`);
      }
      for (const s of document.querySelectorAll('svg.heatmap')) {
        if (s.getAttribute('role') !== 'img' || !s.getAttribute('aria-label')) problems.push('heatmap without role=img and a label');
      }
      const ids = Array.from(document.querySelectorAll('[id]')).map((e) => e.id);
      const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
      if (dup.length) problems.push(`duplicate ids ${dup}`);
      return problems;
    });
    assert.deepEqual(await audit(page), [], 'arena page');
    for (const s of ['a', 'b']) {
      const pane = page.getByTestId(`answer-${s}`);
      assert.equal(await pane.getAttribute('aria-live'), 'polite', `pane ${s} is a live region`);
      assert.ok(await pane.getAttribute('aria-labelledby'), `pane ${s} is labelled`);
    }
    for (const [id, key] of [['vote-a', 'A'], ['vote-b', 'B'], ['vote-tie', 'T'], ['vote-bothbad', 'X']]) {
      assert.equal(await page.getByTestId(id).getAttribute('aria-keyshortcuts'), key);
      assert.equal((await page.getByTestId(id).locator('kbd').textContent()).trim(), key, `${id} shows its shortcut`);
    }

    // Keyboard only: "/" focuses the prompt, Enter sends, Esc leaves it, B votes, N starts over.
    await page.locator('body').press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'prompt');
    await page.keyboard.type('A question typed on the keyboard.');
    await page.keyboard.press('Enter');
    await waitPhase(page, 'ready', 30000);
    await page.keyboard.press('Escape');
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/vote')),
      page.keyboard.press('b'),
    ]);
    assert.equal((await resp.json()).winner, 'b');
    await waitPhase(page, 'voted');
    assert.equal(await page.getByTestId('model-a').isVisible(), true);
    assert.match(await page.locator('#rating-a').textContent(), /Elo \d+ [▲▼±]/, 'the rating change is shown');
    await page.keyboard.press('n');
    await waitPhase(page, 'idle');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'prompt', 'focus back in the prompt');

    const board = await newPage(arena);
    await board.goto(`${arena.url}leaderboard`);
    await waitFor(board, 'rows and heatmaps', () => document.querySelectorAll('[data-testid=leaderboard-row]').length === 2
      && document.querySelectorAll('svg.heatmap').length === 3);
    assert.deepEqual(await audit(board), [], 'leaderboard page');
    assert.ok(await board.locator('#board caption').textContent(), 'the table has a caption');
    assert.deepEqual(page.problems.concat(board.problems), [], 'no console errors');
  });
