// Regenerate and retry on the arena page (issue 14): a "Regenerate" button before the vote
// (disabled while the answers stream, hidden once voted) re-asks both sides; a failed side
// offers "Retry with another model"; the reveal says what was replaced.

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, waitPhase, answerTexts, screenshot, clearOldFailures, checkPrerequisites,
  arenaTest, startBattle, vote,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const regen = (page) => page.getByTestId('regenerate');

arenaTest('regenerate: both answers asked again before the vote, the button gone after it',
  { 'attempt-alpha': 'attempt-alpha-up', 'attempt-bravo': 'attempt-bravo-up' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    assert.equal(await regen(page).isVisible(), false, 'no regenerate before a battle');
    await startBattle(page, 'Say something, please.');
    await waitPhase(page, 'ready', 30000);
    for (const s of ['a', 'b']) {
      const [text] = await answerTexts(page, s);
      assert.match(text, /attempt 1: /, `pane ${s} first attempt`);
    }
    assert.equal(await regen(page).isVisible(), true, 'regenerate shown before the vote');
    assert.equal(await regen(page).isDisabled(), false, 'regenerate enabled once both are done');

    // every phase the page goes through, with the button's state in it
    await page.evaluate(() => {
      window.__regenLog = [];
      const b = document.querySelector('[data-testid=regenerate]');
      new MutationObserver(() => window.__regenLog.push({ phase: document.body.dataset.phase, disabled: b.disabled }))
        .observe(document.body, { attributes: true, attributeFilter: ['data-phase'] });
    });
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/regenerate') && r.request().method() === 'POST'),
      regen(page).click(),
    ]);
    assert.equal(resp.status(), 202);
    await waitFor(page, 'streamed again', () => window.__regenLog.some((e) => e.phase === 'streaming'));
    await waitPhase(page, 'ready', 30000);
    const log = await page.evaluate(() => window.__regenLog);
    for (const e of log) {
      if (e.phase !== 'ready') assert.equal(e.disabled, true, `regenerate enabled while ${e.phase}`);
    }
    for (const s of ['a', 'b']) {
      const texts = await answerTexts(page, s);
      assert.equal(texts.length, 1, `pane ${s}: still one turn`);
      assert.match(texts[0], /attempt 2: /, `pane ${s} shows the new attempt`);
      assert.doesNotMatch(texts[0], /attempt 1/, `pane ${s} holds nothing of the old attempt`);
    }
    await screenshot(page, 'regenerate-desktop.png');

    const reply = await vote(page, 'vote-a');
    await waitPhase(page, 'voted');
    assert.equal(reply.winner, 'a');
    assert.equal(await regen(page).isVisible(), false, 'regenerate hidden after the vote');
    await waitFor(page, 'the reveal mentions the regenerate', () =>
      /regenerated once/.test(document.querySelector('[data-testid=replaced-note]')?.textContent || ''));
  });

arenaTest('retry: a failed side is asked again by another model, the other answer kept',
  { 'broken-model': 'fail500-broken', 'steady-model': 'echo-steady', 'spare-model': 'echo-spare' }, {},
  async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    // the broken model is in two battles of three: start battles until one has it
    let found = false;
    for (let i = 0; i < 12 && !found; i++) {
      if (i > 0) await page.getByTestId('new-battle').click(); // else Enter sends a follow-up
      await startBattle(page, `Question number ${i}`);
      await waitPhase(page, ['ready', 'retry', 'failed'], 30000);
      found = await page.evaluate(() => document.body.dataset.phase === 'retry');
    }
    assert.ok(found, 'a battle with the broken model');
    const failed = await page.evaluate(() => (document.getElementById('status-a').dataset.state === 'error' ? 'a' : 'b'));
    const other = failed === 'a' ? 'b' : 'a';
    const [kept] = await answerTexts(page, other);
    assert.ok(kept.length > 0, 'the other side answered');
    assert.equal(await page.getByTestId(`retry-${failed}`).isVisible(), true, 'retry offered on the failed side');
    assert.equal(await page.getByTestId(`retry-${other}`).isVisible(), false, 'no retry on the side that answered');
    assert.deepEqual(await page.$$eval('[data-testid^=vote-]', (bs) => bs.map((b) => b.disabled)),
      [true, true, true, true], 'no vote around a failed side');
    assert.equal(await regen(page).isVisible(), false, 'no regenerate while a side failed');
    const banner = await page.locator('#banner-text').textContent();
    assert.doesNotMatch(banner, /broken|steady|spare/i, 'the banner names no model');
    await screenshot(page, 'retry-offered-desktop.png');

    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/retry') && r.request().method() === 'POST'),
      page.getByTestId(`retry-${failed}`).click(),
    ]);
    assert.equal(resp.status(), 202);
    await waitPhase(page, 'ready', 30000);
    assert.equal(await page.getByTestId(`retry-${failed}`).isVisible(), false, 'retry gone once answered');
    const [now] = await answerTexts(page, other);
    assert.equal(now, kept, 'the surviving answer is kept');
    const [fresh] = await answerTexts(page, failed);
    assert.match(fresh, /you said: Question number/, 'the replacement answered');

    const reply = await vote(page, `vote-${failed}`);
    await waitPhase(page, 'voted');
    assert.notEqual(reply.models[failed], 'broken-model', 'the vote is on the replacement');
    const label = failed.toUpperCase();
    await waitFor(page, 'the reveal mentions the replaced side', (l) =>
      (document.querySelector('[data-testid=replaced-note]')?.textContent || '')
        .includes(`${l} was replaced after an error (broken-model failed`), label);
  });
