// The arena page's modes (issue 14) in Chromium: side by side with two chosen models (names
// shown at once, the vote not counted), a direct chat with one (no side B, no vote, follow-ups),
// and identical answers (no vote buttons: a message and a "New battle" button).

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, waitPhase, answerTexts, screenshot, clearOldFailures, checkPrerequisites,
  arenaTest, votesDisabled, startBattle, vote, answerTag, ECHO_RE,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const MODELS = { 'alpha-quick': 'echo-alpha', 'bravo-steady': 'echo-bravo', 'charlie-calm': 'echo-charlie' };

async function pickMode(page, mode) {
  await page.getByTestId(`mode-${mode}`).check();
  await waitFor(page, `mode ${mode}`, (m) => document.body.dataset.mode === m, mode);
}

arenaTest('side by side: chosen models, names at once, vote not counted', MODELS, {}, async (arena) => {
  const page = await newPage(arena);
  await page.goto(arena.url);
  await waitPhase(page, 'idle');
  // anonymous by default: no pickers
  assert.equal(await page.getByTestId('pick-a').isVisible(), false);
  await pickMode(page, 'named');
  await waitFor(page, 'the pickers filled', () => document.querySelectorAll('#pick-a option').length === 3);
  assert.match(await page.getByTestId('mode-note').textContent(), /do not count on the leaderboard/);
  await page.getByTestId('pick-a').selectOption('charlie-calm');
  await page.getByTestId('pick-b').selectOption('alpha-quick');

  const id = await startBattle(page, 'Who are you?');
  // the names are shown at once, in the order chosen
  await waitFor(page, 'names shown', () => document.querySelector('[data-testid=model-a]').textContent === 'charlie-calm' &&
    !document.querySelector('[data-testid=model-a]').hidden);
  assert.equal(await page.getByTestId('model-b').textContent(), 'alpha-quick');
  await waitPhase(page, 'ready');
  const [a] = await answerTexts(page, 'a');
  const [b] = await answerTexts(page, 'b');
  assert.ok(a.startsWith(answerTag('echo-charlie')), a);
  assert.ok(b.startsWith(answerTag('echo-alpha')), b);
  assert.match(await page.locator('#status').textContent(), /not counted on the leaderboard/);
  assert.deepEqual(await votesDisabled(page), [false, false, false, false]);
  await screenshot(page, 'modes-named.png');

  const reply = await vote(page, 'vote-a');
  await waitPhase(page, 'voted');
  assert.equal(reply.counted, false);
  assert.match(await page.locator('#status').textContent(), /not counted in the ratings/);
  const battle = await (await page.request.get(`${arena.url}api/battles/${id}`)).json();
  assert.equal(battle.mode, 'named');
  const lb = await (await page.request.get(`${arena.url}api/leaderboard`)).json();
  assert.equal(lb.votes, 0, 'a side-by-side vote counts on no board');
  assert.deepEqual(page.problems, []);
});

arenaTest('direct chat: one model, no vote, follow-ups', MODELS, {}, async (arena) => {
  const page = await newPage(arena);
  await page.goto(arena.url);
  await waitPhase(page, 'idle');
  await pickMode(page, 'direct');
  await waitFor(page, 'the pickers filled', () => document.querySelectorAll('#pick-a option').length === 3);
  assert.equal(await page.getByTestId('pick-b').isVisible(), false, 'one picker only');
  await page.getByTestId('pick-a').selectOption('bravo-steady');
  await startBattle(page, 'Tell me a fact.');
  await waitPhase(page, 'ready');
  assert.equal(await page.locator('#pane-b').isVisible(), false, 'no side B');
  assert.equal(await page.locator('#votes').isVisible(), false, 'no vote buttons');
  assert.equal(await page.getByTestId('model-a').textContent(), 'bravo-steady');
  assert.match((await answerTexts(page, 'a'))[0], ECHO_RE(1, 1, 'Tell me a fact.'));

  // a follow-up: the model sees the conversation
  await page.getByTestId('prompt').fill('And another?');
  await page.getByTestId('prompt').press('Enter');
  await waitFor(page, 'the second answer', () => document.querySelectorAll('[data-testid=answer-a] .answer-text').length === 2 &&
    document.body.dataset.phase === 'ready');
  assert.match((await answerTexts(page, 'a'))[1], ECHO_RE(2, 3, 'And another?'));
  // keyboard votes do nothing either
  await page.locator('body').press('Escape');
  await page.keyboard.press('a');
  assert.equal(await page.evaluate(() => document.body.dataset.phase), 'ready');
  await screenshot(page, 'modes-direct.png');

  // back to anonymous: two panes again, names hidden, and no model listed anywhere
  await pickMode(page, 'anony');
  assert.equal(await page.locator('#pick-a option').count(), 0, 'the pickers are emptied');
  assert.ok(!(await page.content()).includes('bravo-steady'), 'no model name on the anonymous page');
  await startBattle(page, 'Blind again');
  await waitPhase(page, 'ready');
  assert.equal(await page.locator('#pane-b').isVisible(), true);
  assert.equal(await page.getByTestId('model-a').isVisible(), false);
  assert.deepEqual(await votesDisabled(page), [false, false, false, false]);
  assert.deepEqual(page.problems, []);
});

arenaTest('identical answers: no vote, a new battle offered',
  { 'twin-one': 'same-one', 'twin-two': 'sameloud-two' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await startBattle(page, 'Say the same thing');
    await waitPhase(page, 'ready');
    await waitFor(page, 'the identical message', () => !document.getElementById('identical').hidden);
    assert.equal(await page.locator('#votes').isVisible(), false, 'the vote buttons are replaced');
    assert.match(await page.getByTestId('identical').textContent(), /the same/);
    await screenshot(page, 'modes-identical.png');
    await page.getByTestId('identical-new').click();
    await waitPhase(page, 'idle');
    assert.equal(await page.locator('#votes').isVisible(), true);
    assert.equal(await page.getByTestId('identical').isVisible(), false);
    const lb = await (await page.request.get(`${arena.url}api/leaderboard`)).json();
    assert.equal(lb.votes, 0);
    assert.deepEqual(page.problems, []);
  });
