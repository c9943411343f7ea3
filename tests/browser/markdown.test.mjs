// Answers rendered as Markdown once a side is done, and kept safe: the server renders with
// md4c (raw HTML disabled) and the page passes that HTML through its own allowlist.
// The fake echo model answers "[TAG] turn N (M messages): you said: PROMPT", so a prompt
// written in Markdown gives an answer in Markdown.

import { before } from 'node:test';
import assert from 'node:assert/strict';
import {
  newPage, waitFor, waitPhase, screenshot, clearOldFailures, checkPrerequisites, arenaTest,
  startBattle, vote, assertNoSideways, answerTag, ECHO_RE, votesDisabled,
} from './harness.mjs';

before(async () => {
  checkPrerequisites();
  await clearOldFailures();
});

const LONG_LINE = `const answer = 42; // ${'a very long line that must scroll sideways inside its block, '.repeat(4)}end`;
const MD_PROMPT = [
  'Here is the plan.',
  '',
  '## Results heading',
  '',
  '- first item',
  '- second **item**',
  '',
  '| Name | Score |',
  '|:-----|------:|',
  '| alpha | 1 |',
  '| beta | 22 |',
  '',
  '```js',
  LONG_LINE,
  '```',
  '',
  'Visit https://example.org/docs for more.',
].join('\n');

// Record, in the page, any moment a pane's latest answer held elements (rendered Markdown)
// while its side was not done, and whether the raw Markdown was seen as plain text.
async function recordRendering(page) {
  await page.evaluate(() => {
    window.__mdLog = { early: [], plainSeen: { a: false, b: false } };
    const check = () => {
      for (const s of ['a', 'b']) {
        const boxes = document.querySelectorAll(`[data-testid=answer-${s}] .answer-text`);
        const box = boxes[boxes.length - 1];
        if (!box) continue;
        const st = document.getElementById(`status-${s}`).dataset.state;
        if (st !== 'done' && box.children.length > 0) window.__mdLog.early.push({ side: s, state: st, html: box.innerHTML.slice(0, 200) });
        if (st !== 'done' && box.children.length === 0 && box.textContent.includes('## Results heading')) window.__mdLog.plainSeen[s] = true;
      }
    };
    const mo = new MutationObserver(check);
    for (const s of ['a', 'b']) {
      mo.observe(document.querySelector(`[data-testid=answer-${s}]`), { subtree: true, childList: true, characterData: true });
      mo.observe(document.getElementById(`status-${s}`), { attributes: true });
    }
    window.__mdMo = mo;
  });
}

arenaTest('Markdown answers: plain text while streaming, then heading, list, table and code block',
  { 'md-quick': 'echo-mdq', 'md-slow': 'slow15-mds' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await recordRendering(page);
    const id = await startBattle(page, MD_PROMPT);
    await waitPhase(page, 'ready', 60000);

    const log = await page.evaluate(() => window.__mdLog);
    assert.deepEqual(log.early, [], 'no rendered Markdown before a side was done');
    assert.ok(log.plainSeen.a || log.plainSeen.b, 'the slow side showed its Markdown as plain text while streaming');

    const battle = await (await page.request.get(`${arena.url}api/battles/${id}`)).json();
    for (const s of ['a', 'b']) {
      assert.match(battle.turns[0][`${s}_html`], /<h2>Results heading<\/h2>/, `the server rendered answer ${s}`);
      const r = await page.evaluate((side) => {
        const box = document.querySelector(`[data-testid=answer-${side}] .answer-text`);
        const cs = (e) => (e ? getComputedStyle(e) : null);
        const pre = box.querySelector('pre');
        const code = box.querySelector('pre > code');
        const table = box.querySelector('table');
        const link = Array.from(box.querySelectorAll('a')).find((a) => a.textContent.includes('example.org/docs'));
        return {
          md: box.classList.contains('md'),
          h2: box.querySelector('h2')?.textContent,
          h2Size: parseFloat(cs(box.querySelector('h2'))?.fontSize || '0'),
          bodySize: parseFloat(cs(box.querySelector('p'))?.fontSize || '0'),
          items: Array.from(box.querySelectorAll('ul > li')).map((li) => li.textContent),
          strong: box.querySelector('li strong')?.textContent,
          ths: table ? Array.from(table.querySelectorAll('th')).map((th) => th.textContent) : null,
          tds: table ? Array.from(table.querySelectorAll('td')).map((td) => td.textContent) : null,
          scoreAlign: cs(table?.querySelector('td:nth-child(2)'))?.textAlign,
          tableWrapped: !!table?.parentElement.classList.contains('table-scroll'),
          thBorder: cs(table?.querySelector('td'))?.borderBottomStyle,
          code: code?.textContent,
          codeLang: code?.className,
          codeFont: cs(code)?.fontFamily,
          preOverflow: cs(pre)?.overflowX,
          preScrolls: pre ? pre.scrollWidth > pre.clientWidth : false,
          preWhite: cs(pre)?.whiteSpace,
          linkHref: link?.getAttribute('href'),
          linkTarget: link?.getAttribute('target'),
          linkRel: link?.getAttribute('rel'),
          text: box.textContent,
        };
      }, s);
      assert.equal(r.md, true, `pane ${s} rendered`);
      assert.equal(r.h2, 'Results heading');
      assert.ok(r.h2Size > r.bodySize, `the heading is larger than the text (${r.h2Size} vs ${r.bodySize})`);
      assert.deepEqual(r.items, ['first item', 'second item']);
      assert.equal(r.strong, 'item');
      assert.deepEqual(r.ths, ['Name', 'Score']);
      assert.deepEqual(r.tds, ['alpha', '1', 'beta', '22']);
      assert.equal(r.scoreAlign, 'right', 'column alignment from the Markdown kept');
      assert.equal(r.tableWrapped, true, 'the table scrolls on its own');
      assert.equal(r.thBorder, 'solid', 'the table is styled');
      assert.equal(r.code, `${LONG_LINE}\n`);
      assert.equal(r.codeLang, 'language-js');
      assert.match(r.codeFont, /monospace/, 'code in a monospace font');
      assert.equal(r.preOverflow, 'auto');
      assert.equal(r.preWhite, 'pre', 'long code lines are not wrapped');
      assert.equal(r.preScrolls, true, 'the long code line scrolls sideways inside its block');
      assert.equal(r.linkHref, 'https://example.org/docs');
      assert.equal(r.linkTarget, '_blank');
      assert.equal(r.linkRel, 'noopener noreferrer nofollow');
      assert.ok(!r.text.includes('## Results') && !r.text.includes('|:-----|'), 'no raw Markdown left');
    }
    await assertNoSideways(page, 'arena with a wide code block');

    // The copy button of a code block does not throw, whatever the clipboard allows.
    await page.locator('[data-testid=answer-a] .code-block button.copy').first().click();

    await vote(page, 'vote-a');
    await waitPhase(page, 'voted');
    assert.equal(await page.locator('[data-testid=answer-a] .answer-text h2').count(), 1, 'still rendered after the vote');
    await screenshot(page, 'arena-markdown.png');
    assert.deepEqual(page.problems, [], 'no console errors');
  });

const XSS_PROMPT = [
  'Payloads follow.',
  '',
  "<script>window.__xss='script'</script>",
  '',
  "<img src=\"/x-img\" onerror=\"window.__xss='img'\">",
  '',
  "[click me](javascript:window.__xss='link')",
  '',
  '[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '',
  "[spaced]( JaVaScRiPt:window.__xss='sp' ) and <javascript:window.__xss='auto'> and [vb](vbscript:msgbox)",
  '',
  '![tracker](/x-pixel.png) and ![remote](https://example.org/pixel.png)',
  '',
  "<a href=\"javascript:window.__xss='raw'\">raw link</a> <svg onload=\"window.__xss='svg'\"></svg>",
  '',
  '**bold** and [ok](https://example.org/safe) and [mail](mailto:someone@example.org) and [top](#top)',
].join('\n');

arenaTest('XSS in Markdown: script, onerror, javascript: and data: links and images do nothing',
  { 'mdx-one': 'echo-mdx1', 'mdx-two': 'slow10-mdx2' }, {}, async (arena) => {
    const page = await newPage(arena);
    const stray = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin !== new URL(arena.url).origin || /^\/x-/.test(u.pathname)) stray.push(r.url());
    });
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    const startUrl = page.url();
    await startBattle(page, XSS_PROMPT);
    await waitPhase(page, 'ready', 60000);

    for (const s of ['a', 'b']) {
      const pane = `[data-testid=answer-${s}]`;
      const r = await page.evaluate((sel) => {
        const box = document.querySelector(`${sel} .answer-text`);
        return {
          md: box.classList.contains('md'),
          bad: box.querySelectorAll('script, img, iframe, object, embed, svg, math, form, input:not([type=checkbox]), style, link, meta').length,
          handlers: Array.from(box.querySelectorAll('*')).flatMap((e) => Array.from(e.attributes).map((a) => a.name))
            .filter((n) => n.startsWith('on') || n === 'style' || n === 'src' || n === 'srcdoc' || n === 'action'),
          hrefs: Array.from(box.querySelectorAll('a[href]')).map((a) => ({
            href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel'), text: a.textContent,
          })),
          removed: Array.from(box.querySelectorAll('a.link-removed')).map((a) => a.textContent),
          text: box.textContent,
        };
      }, pane);
      assert.equal(r.md, true, `pane ${s} rendered`);
      assert.equal(r.bad, 0, `no active elements in pane ${s}`);
      assert.deepEqual(r.handlers, [], `no event handler, style or src attributes in pane ${s}`);
      for (const h of r.hrefs) {
        assert.match(h.href, /^(https?:|mailto:|#)/, `pane ${s}: only safe links keep an href: ${JSON.stringify(h)}`);
        if (!h.href.startsWith('#')) assert.equal(h.rel, 'noopener noreferrer nofollow', `rel on ${h.href}`);
      }
      const kept = r.hrefs.map((h) => h.href);
      for (const want of ['https://example.org/safe', 'mailto:someone@example.org', '#top', 'https://example.org/pixel.png']) {
        assert.ok(kept.includes(want), `pane ${s} keeps the link ${want}: ${JSON.stringify(kept)}`);
      }
      for (const t of ['click me', 'data link', 'spaced', 'vb']) {
        assert.ok(r.removed.includes(t), `pane ${s}: the link "${t}" is neutralised: ${JSON.stringify(r.removed)}`);
      }
      // Raw HTML in the answer is shown as text.
      assert.ok(r.text.includes("<script>window.__xss='script'</script>"), 'the script tag is shown as text');
      assert.ok(r.text.includes('<img src="/x-img"'), 'the img tag is shown as text');
      assert.ok(r.text.includes('raw link</a>'), 'the raw link is shown as text');
      assert.ok(r.text.includes('🖼 tracker'), 'an image becomes a label, never a load');

      // Clicking every neutralised link does nothing.
      const removed = page.locator(`${pane} a.link-removed`);
      const n = await removed.count();
      for (let i = 0; i < n; i++) await removed.nth(i).click();
      await page.locator(`${pane} .md-image`).first().click();
    }
    // Let anything that could have been scheduled run.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no payload ran');
    assert.equal(page.url(), startUrl, 'no navigation');
    assert.deepEqual(stray, [], 'nothing was fetched from the payloads');
    assert.equal(arena.context.pages().length, 1, 'no window was opened');
    assert.deepEqual(page.problems, [], 'no console errors');
  });

// Defence in depth: even if the server sent hostile HTML in a "done" event, the page's
// allowlist keeps it inert. The event stream is replaced by a forged one.
arenaTest('the page neutralises hostile HTML even from a misbehaving server',
  { 'forge-one': 'echo-f1', 'forge-two': 'echo-f2' }, {}, async (arena) => {
    const page = await newPage(arena);
    const stray = [];
    page.on('request', (r) => { if (/\/(x|y|z|frame)\b/.test(new URL(r.url()).pathname)) stray.push(r.url()); });
    const hostile = [
      '<h3 onclick="window.__xss=1" style="color:red" id="owned">Title</h3>',
      '<img src="/x" onerror="window.__xss=2">',
      '<script>window.__xss=3</script>',
      '<iframe src="/frame"></iframe><object data="/y"></object><embed src="/z">',
      '<svg onload="window.__xss=4"><a href="javascript:window.__xss=5">svg link</a></svg>',
      '<p><a href=" &#x0A;JaVaScRiPt:window.__xss=6">tricky</a> <a href="java&#x09;script:window.__xss=7">tab</a>',
      '<a href="https://example.org/ok" target="_self" rel="opener" onmouseover="window.__xss=8">fine</a></p>',
      '<form action="/x"><input type="text" name="q" autofocus onfocus="window.__xss=9"><button>go</button></form>',
      '<ul><li class="task-list-item"><input type="checkbox" class="task-list-item-checkbox" checked>done item</li></ul>',
      '<pre><code class="language-js" onmouseover="window.__xss=10">x = 1</code></pre>',
      '<div class="btn primary" data-testid="vote-a">fake button</div><math><mi>x</mi></math>',
      '<table><tr><td align="right" style="background:url(/x)">1</td></tr></table><base href="https://example.org/">',
    ].join('');
    await page.route('**/api/battles/*/events', (route) => {
      const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
      const body = ev('delta', { side: 'a', turn: 1, text: 'streaming a' })
        + ev('delta', { side: 'b', turn: 1, text: 'streaming b' })
        + ev('done', { side: 'a', turn: 1, html: hostile })
        + ev('done', { side: 'b', turn: 1, html: hostile })
        + ev('end', { turn: 1, status: 'ready' });
      route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' }, body });
    });
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await startBattle(page, 'anything');
    await waitPhase(page, 'ready', 30000);
    for (const s of ['a', 'b']) {
      const pane = `[data-testid=answer-${s}]`;
      const r = await page.evaluate((sel) => {
        const box = document.querySelector(`${sel} .answer-text`);
        return {
          tags: Array.from(new Set(Array.from(box.querySelectorAll('*')).map((e) => e.tagName.toLowerCase()))).sort(),
          attrs: Array.from(new Set(Array.from(box.querySelectorAll('*')).flatMap((e) => Array.from(e.attributes).map((a) => `${e.tagName.toLowerCase()}[${a.name}]`)))).sort(),
          hrefs: Array.from(box.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')),
          text: box.textContent,
          checkbox: box.querySelector('input[type=checkbox]')?.disabled,
          forged: box.querySelectorAll('.btn, [data-testid], [id], input:not([type=checkbox])').length,
          buttons: Array.from(box.querySelectorAll('button')).map((b) => b.textContent),
        };
      }, pane);
      for (const t of ['script', 'img', 'iframe', 'object', 'embed', 'svg', 'form', 'math', 'base', 'style']) {
        assert.ok(!r.tags.includes(t), `pane ${s}: no <${t}>: ${r.tags.join(',')}`);
      }
      for (const a of r.attrs) {
        assert.match(a, /^(a\[(href|title|target|rel|class)\]|td\[align\]|code\[class\]|li\[class\]|input\[(type|class|checked|disabled|aria-label)\]|div\[class\]|button\[(type|class|aria-label)\]|span\[class\])$/,
          `pane ${s}: unexpected attribute ${a}`);
      }
      assert.deepEqual(r.hrefs, ['https://example.org/ok'], `pane ${s}: only the safe link keeps its href`);
      assert.equal(await page.locator(`${pane} a[href="https://example.org/ok"]`).getAttribute('rel'), 'noopener noreferrer nofollow');
      assert.equal(await page.locator(`${pane} a[href="https://example.org/ok"]`).getAttribute('target'), '_blank');
      assert.ok(r.text.includes('Title') && r.text.includes('fake button') && r.text.includes('tricky'), 'the text survives');
      assert.equal(r.forged, 0, 'no classes, ids, test hooks or form fields from the answer');
      assert.deepEqual(r.buttons, ['Copy'], 'only the page\'s own copy button');
      assert.equal(r.checkbox, true, 'task list checkboxes are disabled');
      for (const link of ['tricky', 'tab']) {
        const l = page.locator(`${pane} :text-is("${link}")`).first();
        if (await l.count()) await l.click();
      }
      await page.locator(`${pane} h3`).click();
      await page.locator(`${pane} code`).hover();
    }
    assert.equal(await page.getByTestId('vote-a').count(), 1, 'no forged vote button');
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing ran');
    assert.equal(await page.evaluate(() => document.getElementById('owned')), null, 'no ids from the answer');
    assert.deepEqual(stray, [], 'nothing was loaded');
    assert.equal(await page.evaluate(() => document.baseURI), arena.url, 'the page\'s base URL is unchanged');
    // Chromium reports, as console errors, the inline handlers, styles and <base> of the hostile
    // HTML that the page's Content-Security-Policy refused while the page parsed it in an inert
    // document for cleaning (they never reach the page). Those reports are expected here;
    // anything else is not.
    const csp = /violates the following Content Security Policy directive/;
    assert.deepEqual(page.problems.filter((p) => !csp.test(p)), [], 'no other console errors');
  });

// A reasoning model (the fake's reasoning...: reasoning_content deltas, then the answer): the
// answer is only the answer, and the reasoning is shown apart, folded, after it.
arenaTest('a reasoning model: its reasoning is folded after its answer, never in it',
  { 'deep-think': 'reasoning-dt', 'plain-echo': 'echo-pe' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await startBattle(page, 'What is the sea?');
    await waitPhase(page, 'ready', 30000);
    // blind: no reasoning block before the vote (it would tell a reasoning model)
    const before = await page.evaluate(() => ['a', 'b'].map((s) => {
      const d = document.querySelector(`[data-testid=answer-${s}] .turn details.reasoning`);
      return !!d && !d.hidden && d.getClientRects().length > 0;
    }));
    assert.deepEqual(before, [false, false], 'no reasoning shown before the vote');
    await vote(page, 'vote-tie');
    await page.waitForFunction(() => [...document.querySelectorAll('details.reasoning')]
      .some((d) => !d.hidden && d.getClientRects().length > 0), null, { timeout: 10000 });
    const panes = await page.evaluate(() => ['a', 'b'].map((s) => {
      const turn = document.querySelector(`[data-testid=answer-${s}] .turn`);
      const d = turn.querySelector('details.reasoning');
      return {
        side: s,
        answer: turn.querySelector('.answer-text').textContent,
        shown: !!d && !d.hidden && d.getClientRects().length > 0,
        open: !!d && d.open,
        afterAnswer: !!d && d.previousElementSibling === turn.querySelector('.answer-text'),
        summary: d ? d.querySelector('summary').textContent : null,
        text: d ? d.querySelector('.reasoning-text').textContent : null,
        children: d ? d.querySelector('.reasoning-text').children.length : null,
      };
    }));
    const deep = panes.find((p) => p.answer.startsWith(answerTag('reasoning-dt')));
    const plain = panes.find((p) => p !== deep);
    assert.ok(deep && plain, JSON.stringify(panes));
    assert.match(deep.answer, ECHO_RE(1, 1, 'What is the sea?'), 'the answer is only the answer');
    assert.ok(!deep.answer.includes('ponderously'), 'no reasoning in the answer');
    assert.equal(deep.shown, true, 'the reasoning is shown');
    assert.equal(deep.open, false, 'folded');
    assert.equal(deep.afterAnswer, true, 'right after the answer');
    assert.equal(deep.summary, 'Reasoning');
    assert.match(deep.text, /^Thinking [0-9a-f]{10}: the user wrote 16 characters in turn 1\. .*ponderously\.\nI will repeat it back\.$/s);
    assert.equal(deep.children, 0, 'plain text, not HTML');
    assert.equal(plain.shown, false, 'no reasoning block for a model without reasoning');

    const summary = page.locator(`[data-testid=reasoning-${deep.side}] summary`);
    await summary.click();
    assert.equal(await page.locator(`[data-testid=reasoning-${deep.side}] .reasoning-text`).isVisible(), true, 'unfolds');
    await waitPhase(page, 'voted');
    assert.deepEqual(page.problems, [], 'no console errors');
  });

arenaTest('an answer of only reasoning fails its side: "the model returned no text", no voting',
  { 'only-thinks': 'reasononly-ot', 'plain-echo': 'slow30-pe' }, {}, async (arena) => {
    const page = await newPage(arena);
    await page.goto(arena.url);
    await waitPhase(page, 'idle');
    await startBattle(page, 'Say something.');
    await waitPhase(page, 'failed', 30000);
    const errors = await page.$$eval('.turn-error', (els) => els.filter((e) => !e.hidden).map((e) => e.textContent));
    assert.ok(errors.some((e) => e.includes('the model returned no text')), JSON.stringify(errors));
    assert.equal(await page.locator('details.reasoning:visible').count(), 0, 'no reasoning shown for a failed side');
    assert.deepEqual(await votesDisabled(page), [true, true, true, true]);
    assert.deepEqual(page.problems, [], 'no console errors');
  });
