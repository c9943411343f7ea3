// Around the vote (issue 14) in a real browser: reasons and a comment chosen beside the vote
// buttons and sent with the vote, the "Share" link after it, the shared page opened in another
// browser context (no cookie: names, answers, reasons, the comment as text), the link taken
// back, and the "Your votes" board on the leaderboard page (private to the session).

import { before } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import {
  newPage, waitFor, waitPhase, answerTexts, screenshot, clearOldFailures, checkPrerequisites,
  arenaTest, startBattle, assertNoSideways, CHROMIUM, CHROMIUM_ARGS,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const COMMENT = 'Clearer <b>by far</b> & "shorter"';

arenaTest('reasons and a comment go with the vote; the voted battle is shared and read elsewhere',
  { 'alpha-quick': 'echo-alpha', 'bravo-steady': 'echo-bravo' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    assert.equal(await page.getByTestId('feedback').isVisible(), false, 'no reasons before a battle');
    const prompt = 'Name two colours, please.';
    await startBattle(page, prompt);
    await waitPhase(page, 'ready', 30000);
    // the chips come from GET /api/arena
    await waitFor(page, 'reason chips', () => document.querySelectorAll('#reasons .chip').length === 4);
    assert.equal(await page.getByTestId('feedback').isVisible(), true, 'reasons offered beside the vote buttons');
    const chip = (r) => page.locator(`#reasons .chip[data-reason="${r}"]`);
    await chip('clearer').click();
    await chip('safer').click();
    await chip('safer').click(); // toggled off again
    await chip('more accurate').click();
    assert.equal(await chip('clearer').getAttribute('aria-pressed'), 'true');
    assert.equal(await chip('safer').getAttribute('aria-pressed'), 'false');
    // typing in the comment never votes (the shortcuts are off in text boxes)
    await page.getByTestId('comment').fill(COMMENT);
    await page.getByTestId('comment').press('a');
    assert.equal(await page.evaluate(() => document.body.dataset.phase), 'ready');
    await page.getByTestId('comment').fill(COMMENT);
    assert.equal(await page.getByTestId('share').isVisible(), false, 'no share button before the vote');

    const [req, resp] = await Promise.all([
      page.waitForRequest((r) => /\/vote$/.test(r.url()) && r.method() === 'POST'),
      page.waitForResponse((r) => /\/vote$/.test(r.url()) && r.request().method() === 'POST'),
      page.getByTestId('vote-b').click(),
    ]);
    assert.deepEqual(req.postDataJSON(), { winner: 'b', reasons: ['more accurate', 'clearer'], comment: COMMENT });
    const reply = await resp.json();
    assert.deepEqual(reply.reasons, ['more accurate', 'clearer']);
    await waitPhase(page, 'voted');
    assert.equal(await chip('clearer').isDisabled(), true, 'the reasons are sent: read-only now');
    assert.equal(await page.getByTestId('comment').isDisabled(), true);
    const answers = { a: (await answerTexts(page, 'a'))[0], b: (await answerTexts(page, 'b'))[0] };

    // share: a link with a copy button
    assert.equal(await page.getByTestId('share').isVisible(), true, 'share offered after the vote');
    const [shared] = await Promise.all([
      page.waitForResponse((r) => /\/share$/.test(r.url()) && r.request().method() === 'POST'),
      page.getByTestId('share-btn').click(),
    ]);
    assert.equal(shared.status(), 200);
    await waitFor(page, 'the link', () => document.getElementById('share-url').value !== '');
    const url = await page.getByTestId('share-url').inputValue();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/s\/[0-9a-f]{32}$/);
    assert.equal(await page.getByTestId('share-copy').isVisible(), true);
    await screenshot(page, 'arena-shared.png');
    await page.setViewportSize({ width: 375, height: 800 });
    await assertNoSideways(page, 'the reasons and the link on a phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // another browser, no cookie of the voter's
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const ctx = await browser.newContext();
      const other = await ctx.newPage();
      const problems = [];
      other.on('pageerror', (e) => problems.push(e.message));
      const nav = await other.goto(url);
      assert.equal(nav.status(), 200);
      assert.equal(nav.headers()['x-robots-tag'], 'noindex');
      assert.equal(nav.headers()['referrer-policy'], 'no-referrer');
      await waitFor(other, 'the shared battle', () => document.querySelectorAll('[data-testid=shared-answer-a]').length === 1);
      assert.equal(await other.getByTestId('shared-model-a').textContent(), reply.models.a);
      assert.equal(await other.getByTestId('shared-model-b').textContent(), reply.models.b);
      assert.equal((await other.getByTestId('shared-answer-a').textContent()).trim(), answers.a);
      assert.equal((await other.getByTestId('shared-answer-b').textContent()).trim(), answers.b);
      assert.equal(await other.getByTestId('shared-prompt').textContent(), prompt);
      assert.match(await other.getByTestId('shared-summary').textContent(), /B is better/);
      assert.match(await other.getByTestId('shared-reasons').textContent(), /more accurate, clearer/);
      assert.equal(await other.getByTestId('shared-comment').textContent(), COMMENT, 'the comment shown as text');
      assert.equal(await other.locator('[data-testid=shared-comment] b').count(), 0, 'never as HTML');
      assert.deepEqual(await ctx.cookies(), [], 'the shared page gives no session');
      await screenshot(other, 'shared-battle.png');
      await other.setViewportSize({ width: 375, height: 800 });
      await assertNoSideways(other, 'the shared battle on a phone');
      // the other browser has no votes of its own: no "Your votes"
      await other.goto(new URL('/leaderboard', url).href);
      await waitFor(other, 'the board', () => document.querySelectorAll('[data-testid=leaderboard-row]').length > 0);
      assert.equal(await other.getByTestId('own-board').isVisible(), false);

      // taken back: the link is dead
      await Promise.all([
        page.waitForResponse((r) => /\/share$/.test(r.url()) && r.request().method() === 'DELETE'),
        page.getByTestId('share-stop').click(),
      ]);
      const gone = await other.goto(url);
      assert.equal(gone.status(), 404);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }

    // the voter's own board on the leaderboard page
    await page.goto(new URL('/leaderboard', url).href);
    await waitFor(page, 'your votes', () => document.querySelectorAll('[data-testid=own-row]').length === 2);
    assert.equal(await page.getByTestId('own-board').isVisible(), true);
    const rows = await page.$$eval('[data-testid=own-row]', (rs) => rs.map((r) => ({
      model: r.dataset.model, wlt: r.querySelector('.col-wlt').textContent })));
    assert.deepEqual(rows, [{ model: reply.models.b, wlt: '1 / 0 / 0' }, { model: reply.models.a, wlt: '0 / 1 / 0' }]);
    await screenshot(page, 'leaderboard-own.png');
    assert.deepEqual(page.problems, []);
  });
