// Agon leaderboard page: polls /api/leaderboard every 2 s, renders the sortable tables (ranked
// models, then provisional ones apart), and draws the head-to-head heatmaps from
// /api/leaderboard/matrix with a little SVG code of its own. A slice picker above the table
// (language and category chips from /api/leaderboard/slices, a style-control switch) asks
// both for one slice of the battles (?language=&category=&style=control), kept in the page's
// URL; a slice's table has no Elo and shows each model's rank change against the whole
// board. With style control the board is the server's style-controlled one (its rows are the
// controlled ratings, its coefficients shown in a panel; "fitting…" while the server's first
// background fit of it is under way, picked up by the next poll). Benchmark scores (in the
// leaderboard rows) and LLM judges (/api/judges, and each judge's own leaderboard from
// /api/leaderboard?source=judge, polled every 10 s) get their own column sets and panels (on
// the whole board without style control only).
// Everything from the server is inserted as text (textContent / SVG attributes), never as HTML.

const POLL_MS = 2000;
const JUDGE_POLL_MS = 10000;
const SVG_NS = 'http://www.w3.org/2000/svg';

const byId = (id) => document.getElementById(id);
const el = {
  rows: byId('rows'),
  provRows: byId('prov-rows'),
  provSection: byId('prov-section'),
  minBattles: byId('min-battles'),
  votes: byId('votes'),
  modelCount: byId('model-count'),
  leadElo: byId('lead-elo'),
  leadBt: byId('lead-bt'),
  leadBtLabel: byId('lead-bt-label'),
  updated: byId('updated'),
  updatedWrap: byId('updated-wrap'),
  btInfo: byId('bt-info'),
  rounds: byId('rounds'),
  live: byId('live'),
  empty: byId('empty'),
  error: byId('lb-error'),
  heads: Array.from(document.querySelectorAll('#board th[data-key]')),
  board: byId('board'),
  provBoard: byId('prov-board'),
  views: byId('views'),
  viewButtons: Array.from(document.querySelectorAll('#views button[data-view]')),
  signals: byId('signals'),
  corrPanel: byId('corr-panel'),
  corrList: byId('corr-list'),
  judgesPanel: byId('judges-panel'),
  judgeList: byId('judge-list'),
  judgesNote: byId('judges-note'),
  heatWin: document.querySelector('[data-testid=heatmap-win]'),
  heatBattles: document.querySelector('[data-testid=heatmap-battles]'),
  heatPredicted: document.querySelector('[data-testid=heatmap-predicted]'),
  battlesMax: byId('battles-max'),
  langChips: byId('lang-chips'),
  catChips: byId('cat-chips'),
  styleSwitch: byId('style-switch'),
  sliceNote: byId('slice-note'),
  stylePanel: byId('style-panel'),
  styleNote: byId('style-note'),
  styleCoefs: byId('style-coefs'),
  styleCounts: byId('style-counts'),
  cardElo: byId('card-elo'),
  caption: byId('board-caption'),
  rankHead: document.querySelector('#board th[data-key=rank] button'),
  changeHead: document.querySelector('#board th[data-key=rank_change] button'),
  btSub: document.querySelector('#board th[data-key=bt] .th-sub'),
  apiLink: document.querySelector('[data-testid=api-link]'),
  matrixLink: document.querySelector('[data-testid=matrix-link]'),
  openWeights: byId('open-weights'),
  history: byId('history'),
  historyChart: byId('history-chart'),
  historyLegend: byId('history-legend'),
};

const DEFAULT_DIR = { rank: 1, model: 1, rank_ub: 1, organization: 1, license: 1 }; // everything else sorts high → low first
const SORT_KEYS = ['bt', 'elo', 'battles', 'winrate', 'rank_ub', 'model', 'rank_change'];
const sort = { key: 'rank', dir: 1 };
let last = null; // last /api/leaderboard payload
let lastRendered = '';
let matrix = null;
let matrixKey = '';
let matrixAge = 0; // polls since the matrices were fetched
let matrixRendered = '';
const prevElo = new Map();
let timer = 0;
let inflight = false;
let pollAgain = false; // the choice changed while a poll was in flight

// The slice shown: a language code and a category name ('' for all) and style control. It is
// the page's URL (?language=ko&category=coding&style=control); choiceGen counts the changes,
// so that an answer to an earlier choice is dropped.
const choice = { language: '', category: '', style: false, open: false };
let choiceGen = 0;
let slicesData = null; // last /api/leaderboard/slices payload

// Column sets: "arena" (the human-vote columns), "bench" (benchmark scores) and "judges"
// (each judge's BT rating beside the human one). Only the sets with data are offered.
const VIEWS = ['arena', 'bench', 'judges'];
let view = 'arena';
let pendingView = null; // ?view= asked for a column set that has no data yet
let benchOrder = []; // benchmark names, in a stable order (new ones appended)
let measuredOrder = []; // measured columns (agon bench): "task|mode" keys, in a stable order
let judges = null; // last /api/judges list, null until fetched
const judgeBoards = new Map(); // judge name -> Map(model -> row) from ?source=judge
let judgeVersion = 0; // bumped whenever judge data changes, to re-render the table
let judgeKey = '';
let judgeTimer = 0;
let judgeInflight = false;
let judgeBoardsAt = 0;
let columnsKey = '';
let signalsKey = '';

const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const winRate = (m) => (num(m.battles) > 0 && num(m.wins) !== null ? m.wins / m.battles : null);
const rows = (d) => (Array.isArray(d) ? d.filter((m) => m && typeof m === 'object') : []);

const benchOf = (m, name) => (m.benchmarks && typeof m.benchmarks === 'object' ? num(m.benchmarks[name]) : null);
// A measured score (agon bench, GET /api/benchmarks), never mixed with the published ones: the
// leaderboard row's `measured` entry of a task and mode, or null.
const measuredKey = (x) => `${String(x.task)}|${String(x.mode)}`;
const measuredEntry = (m, key) => (Array.isArray(m.measured)
  ? m.measured.find((x) => x && typeof x === 'object' && measuredKey(x) === key && num(x.value) !== null) || null
  : null);
const measuredOf = (m, key) => {
  const x = measuredEntry(m, key);
  return x ? x.value * 100 : null;
};
const judgeRow = (name, model) => (judgeBoards.get(name) || new Map()).get(model) || null;

function value(m, key) {
  if (key === 'winrate') return winRate(m);
  if (key === 'model') return String(m.model ?? '');
  if (key === 'organization' || key === 'license') return typeof m[key] === 'string' ? m[key] : null;
  if (key.startsWith('bench:')) return benchOf(m, key.slice(6));
  if (key.startsWith('measured:')) return measuredOf(m, key.slice(9));
  if (key.startsWith('judge:')) {
    const j = judgeRow(key.slice(6), String(m.model));
    return j ? num(j.bt) : null;
  }
  return num(m[key]);
}

function compare(a, b) {
  const va = value(a, sort.key);
  const vb = value(b, sort.key);
  // Equal ranks (and none, for provisional rows) keep the server's order.
  const byRank = (num(a.rank) ?? 0) - (num(b.rank) ?? 0) || (a.listedAt ?? 0) - (b.listedAt ?? 0)
    || String(a.model).localeCompare(String(b.model));
  if (va === null || vb === null) {
    if (va === vb) return byRank;
    return va === null ? 1 : -1; // missing values last, whichever the direction
  }
  const c = typeof va === 'string' ? va.localeCompare(vb) : va - vb;
  return c !== 0 ? c * sort.dir : byRank;
}

function fmt(x, digits = 0) {
  return x === null ? '–' : x.toFixed(digits);
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function td(cls, text) {
  const c = document.createElement('td');
  if (cls) c.className = cls;
  if (text !== undefined) c.textContent = text;
  return c;
}

// ---------- table ----------

// The BT cell: the rating, its interval as "+x / −y", and a bar on a scale shared by all rows.
// On a style-controlled board the rating is the controlled one, and the cell says so.
function btCell(m, scale, styled) {
  const c = td('col-bt v-arena');
  const bt = num(m.bt);
  const what = styled ? 'Style-controlled BT' : 'BT';
  if (bt === null) {
    c.textContent = '–';
    c.title = 'No counted battle yet';
    return c;
  }
  const l = num(m.ci_low);
  const h = num(m.ci_high);
  const wrap = document.createElement('span');
  wrap.className = 'ci';
  const v = document.createElement('span');
  v.className = 'bt-value';
  v.textContent = fmt(bt);
  v.title = styled ? `${what} ${bt.toFixed(2)}` : bt.toFixed(2);
  v.dataset.value = String(bt);
  wrap.append(v);
  if (l !== null && h !== null) {
    const s = document.createElement('span');
    s.className = 'ci-text';
    s.textContent = `+${fmt(Math.max(0, h - bt))} / −${fmt(Math.max(0, bt - l))}`;
    s.title = `95% confidence interval ${l.toFixed(1)} to ${h.toFixed(1)}`;
    wrap.append(s);
    if (scale) {
      const W = 120;
      const x = (r) => (3 + ((r - scale.lo) / (scale.hi - scale.lo)) * (W - 6)).toFixed(1);
      const bar = svg('svg', {
        class: 'ci-bar', width: W, height: 14, viewBox: `0 0 ${W} 14`, role: 'img',
        'aria-label': `${styled ? 'Style-controlled 95%' : '95%'} interval ${fmt(l)} to ${fmt(h)}`, 'data-testid': 'ci-bar',
      });
      const title = svg('title');
      title.textContent = `${what} ${bt.toFixed(1)}, 95% CI ${l.toFixed(1)} – ${h.toFixed(1)}`;
      const x1 = x(l);
      const x2 = x(h);
      bar.append(
        title,
        svg('line', { class: 'ci-track', x1: 1, x2: W - 1, y1: 7, y2: 7 }),
        svg('rect', { class: 'ci-range', x: x1, y: 3, width: Math.max(2, x2 - x1).toFixed(1), height: 8, rx: 4 }),
        svg('line', { class: 'ci-mid', x1: x(bt), x2: x(bt), y1: 1, y2: 13 }),
      );
      wrap.prepend(bar);
    }
  }
  c.append(wrap);
  return c;
}

function rowFor(m, scale, provisional, ctx) {
  const tr = document.createElement('tr');
  tr.dataset.testid = 'leaderboard-row';
  tr.dataset.model = String(m.model ?? '');
  if (provisional) tr.classList.add('provisional');
  if (ctx.styled) tr.dataset.style = 'control';
  const elo = num(m.elo);
  const before = prevElo.get(tr.dataset.model);
  if (before !== undefined && elo !== null && before !== elo) tr.classList.add('changed');
  if (elo !== null) prevElo.set(tr.dataset.model, elo);

  const rank = num(m.rank);
  const rc = td('num rank col-rank');
  if (provisional) {
    rc.textContent = '–';
    rc.title = 'Provisional: not ranked yet';
  } else if (rank !== null && rank >= 1 && rank <= 3) {
    const b = document.createElement('span');
    b.className = `medal medal-${rank}`;
    b.textContent = String(rank);
    rc.append(b);
  } else {
    rc.textContent = rank === null ? '–' : String(rank);
  }

  const cc = changeCell(m, provisional, ctx.against);

  const mc = td('model col-model');
  mc.append(modelName(m, tr.dataset.model));
  if (provisional) {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = 'provisional';
    mc.append(tag);
  }
  const wr = winRate(m);
  // On a phone the battles and win rate columns fold into a line under the name.
  const battles = num(m.battles) ?? 0;
  const sub = document.createElement('span');
  sub.className = 'model-sub';
  sub.setAttribute('aria-hidden', 'true');
  sub.textContent = `${battles.toLocaleString()} battle${battles === 1 ? '' : 's'}`
    + (wr === null ? '' : ` · ${(wr * 100).toFixed(0)}% won`);
  mc.append(sub);

  const ec = td('num elo col-elo v-arena', fmt(elo));
  if (elo !== null) ec.title = elo.toFixed(2);

  const wc = td('num col-winrate v-arena');
  const wt = document.createElement('span');
  wt.textContent = wr === null ? '–' : `${(wr * 100).toFixed(1)}%`;
  wc.append(wt);
  if (wr !== null) {
    const bar = document.createElement('span');
    bar.className = 'winbar';
    bar.setAttribute('aria-hidden', 'true');
    const fill = document.createElement('span');
    fill.style.width = `${(wr * 100).toFixed(1)}%`; // CSSOM, allowed under the strict CSP
    bar.append(fill);
    wc.prepend(bar);
  }

  tr.append(
    rc, cc, mc, ...cardCells(m), ec, btCell(m, scale, ctx.styled),
    td('num col-ub v-arena', fmt(num(m.rank_ub))),
    td('num col-battles v-arena', fmt(num(m.battles))),
    td('num col-wlt v-arena', `${fmt(num(m.wins))} / ${fmt(num(m.losses))} / ${fmt(num(m.ties))}`),
    wc,
  );
  if (ctx.extra) tr.append(...extraCells(m, ctx));
  return tr;
}

// ---------- model cards: organization, license, the name linked to the model's page ----------

const SAFE_URL = /^https?:\/\//i;

function modelName(m, text) {
  const url = typeof m.url === 'string' && SAFE_URL.test(m.url) ? m.url : null;
  const name = document.createElement(url ? 'a' : 'span');
  name.className = 'model-label';
  name.textContent = text;
  if (url) {
    name.href = url;
    name.rel = 'noopener noreferrer';
    name.target = '_blank';
    name.dataset.testid = 'model-link';
  }
  return name;
}

function cardCells(m) {
  const org = td('col-org v-arena', typeof m.organization === 'string' ? m.organization : '–');
  org.dataset.testid = 'organization';
  const lic = td('col-license v-arena', typeof m.license === 'string' ? m.license : '–');
  lic.dataset.testid = 'license';
  if (m.open_weights === true) {
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = 'open';
    tag.title = 'Open weights';
    lic.append(tag);
  }
  return [org, lic];
}

// A slice row's (or a style-controlled row's) rank against its rank on the whole board
// (without style control): ↑2 (two places higher here), ↓1, or – (the same rank, or not
// ranked in one of them). against names that board.
function changeCell(m, provisional, against = 'the whole board') {
  const c = td('num col-change v-arena');
  const d = num(m.rank_change);
  const overall = num(m.overall_rank);
  const mark = document.createElement('span');
  mark.className = 'change-mark';
  mark.setAttribute('aria-hidden', 'true');
  const said = document.createElement('span');
  said.className = 'sr-only';
  c.dataset.change = d === null ? '' : String(d);
  if (d === null || d === 0) {
    mark.textContent = '–';
    if (d === 0) c.title = `Rank ${overall} on ${against} too`;
    else if (provisional) c.title = 'Provisional on this board';
    else c.title = `Not ranked on ${against}`;
    said.textContent = d === 0 ? `same rank as on ${against}` : 'not ranked on both boards';
  } else {
    const up = d > 0;
    c.classList.add(up ? 'up' : 'down');
    mark.textContent = `${up ? '↑' : '↓'}${Math.abs(d)}`;
    const places = `${Math.abs(d)} place${Math.abs(d) === 1 ? '' : 's'}`;
    c.title = `${places} ${up ? 'higher' : 'lower'} than on ${against} (rank ${overall})`;
    said.textContent = `${places} ${up ? 'higher' : 'lower'} than on ${against}`;
  }
  c.append(mark, said);
  return c;
}

// ---------- benchmark and judge columns ----------

// Ranks by a rating (1 = highest; equal ratings share a rank) over the rows that have one.
function ranksBy(list, get) {
  const rated = list.map((m) => [String(m.model), get(m)]).filter(([, v]) => v !== null);
  const out = new Map();
  for (const [model, v] of rated) out.set(model, 1 + rated.filter(([, w]) => w > v).length);
  return out;
}

// Keep the benchmark columns in a stable order: the names of the model with the most scores
// first (in its configured order), then any others as they appear; new names go last.
function updateBenchOrder(all) {
  const names = [];
  const byCount = all.slice().sort((a, b) => Object.keys(b.benchmarks || {}).length - Object.keys(a.benchmarks || {}).length
    || String(a.model).localeCompare(String(b.model)));
  for (const m of byCount) {
    if (!m.benchmarks || typeof m.benchmarks !== 'object') continue;
    for (const [k, v] of Object.entries(m.benchmarks)) if (num(v) !== null && !names.includes(k)) names.push(k);
  }
  benchOrder = benchOrder.filter((n) => names.includes(n));
  for (const n of names) if (!benchOrder.includes(n)) benchOrder.push(n);
  const keys = [];
  for (const m of all) {
    if (!Array.isArray(m.measured)) continue;
    for (const x of m.measured) {
      if (x && typeof x === 'object' && num(x.value) !== null && !keys.includes(measuredKey(x))) keys.push(measuredKey(x));
    }
  }
  keys.sort();
  measuredOrder = measuredOrder.filter((k) => keys.includes(k));
  for (const k of keys) if (!measuredOrder.includes(k)) measuredOrder.push(k);
}

// The best measured score of a column, for its highlight.
function measuredBest(all, key) {
  let best = null;
  for (const m of all) {
    const v = measuredOf(m, key);
    if (v !== null && (best === null || v > best)) best = v;
  }
  return best;
}

const pct1 = (x) => (x * 100).toFixed(1);

const judgeNames = () => (judges || []).map((j) => String(j.name));

// Decimals to show for a benchmark: as many as its scores use (at most 2), the same on every row.
function benchFormat(all, name) {
  let dec = 0;
  let best = null;
  for (const m of all) {
    const v = benchOf(m, name);
    if (v === null) continue;
    for (let d = dec; d < 2 && Math.abs(v * 10 ** d - Math.round(v * 10 ** d)) > 1e-6; d++) dec = d + 1;
    if (best === null || v > best) best = v;
  }
  return { dec, best };
}

function rankMark(rank) {
  const r = document.createElement('span');
  r.className = 'xrank';
  r.textContent = `#${rank}`;
  return r;
}

function extraCells(m, ctx) {
  const model = String(m.model);
  const cells = [];
  // Human BT (and its rank by BT) beside the benchmarks and the judges.
  const hc = td('num col-hbt v-extra');
  const bt = num(m.bt);
  const hr = ctx.humanRanks.get(model);
  if (bt === null) hc.textContent = '–';
  else {
    const v = document.createElement('span');
    v.className = 'xval';
    v.textContent = fmt(bt);
    hc.append(v, rankMark(hr));
    hc.title = `Human BT ${bt.toFixed(1)}, rank ${hr} by BT`;
  }
  cells.push(hc);
  for (const name of benchOrder) {
    const c = td('num col-bench v-bench');
    c.dataset.bench = name;
    const v = benchOf(m, name);
    const f = ctx.bench.get(name);
    if (v === null) c.title = `No ${name} score`;
    else {
      c.textContent = v.toFixed(f.dec);
      c.title = `${name}: ${v}`;
      if (v === f.best) c.classList.add('best');
    }
    cells.push(c);
  }
  for (const key of measuredOrder) {
    const c = td('num col-bench col-measured v-bench');
    c.dataset.measured = key;
    const x = measuredEntry(m, key);
    const [task, mode] = key.split('|');
    if (!x) c.title = `Not measured: ${task} (${mode})`;
    else {
      const v = x.value * 100;
      c.textContent = v.toFixed(1);
      c.title = `${task}, measured by agon bench through this model's endpoint (${mode} mode, ${x.shots}-shot, `
        + `${x.items} items): ${x.metric} ${pct1(x.value)}% (95% CI ${pct1(x.ci_low)}–${pct1(x.ci_high)})`;
      if (v === ctx.measured.get(key)) c.classList.add('best');
    }
    cells.push(c);
  }
  for (const j of judges || []) {
    const name = String(j.name);
    const c = td('num col-judge v-judge');
    c.dataset.judge = name;
    const row = judgeRow(name, model);
    const jbt = row ? num(row.bt) : null;
    const jr = ctx.judgeRanks.get(name)?.get(model);
    if (jbt === null) {
      c.textContent = '–';
      c.title = judgeBoards.has(name) ? `${name} has no verdict on ${model} yet` : 'Loading…';
    } else {
      const v = document.createElement('span');
      v.className = 'xval';
      v.textContent = fmt(jbt);
      c.append(v, rankMark(jr));
      let title = `${name}: BT ${jbt.toFixed(1)}, rank ${jr}`;
      if (hr !== undefined && jr !== hr) {
        const d = document.createElement('span');
        d.className = `xdelta ${jr < hr ? 'up' : 'down'}`;
        d.textContent = `${jr < hr ? '▲' : '▼'}${Math.abs(hr - jr)}`;
        c.append(d);
        title += ` (${Math.abs(hr - jr)} place${Math.abs(hr - jr) === 1 ? '' : 's'} ${jr < hr ? 'higher' : 'lower'} than with humans)`;
      } else if (hr !== undefined) {
        title += ' (as with humans)';
      }
      c.title = title;
    }
    const score = j.scores && typeof j.scores === 'object' ? num(j.scores[model]) : null;
    if (score !== null) {
      const sc = document.createElement('span');
      sc.className = 'xscore';
      sc.textContent = `${score.toFixed(1)}/20`;
      sc.title = `${name}'s mean score for ${model}, 1 to 20`;
      c.append(sc);
    }
    cells.push(c);
  }
  return cells;
}

function headerCell(cls, key, label, sub, title, sortable) {
  const th = document.createElement('th');
  th.scope = 'col';
  th.className = `${cls} dyn`;
  if (key) th.dataset.key = key;
  const box = sortable ? document.createElement('button') : th;
  if (sortable) {
    box.type = 'button';
    th.append(box);
  }
  if (title) box.title = title;
  box.append(label);
  if (sub) {
    const s = document.createElement('span');
    s.className = 'th-sub';
    s.textContent = sub;
    box.append(' ', s);
  }
  return th;
}

function onSortClick(th) {
  const k = th.dataset.key;
  if (sort.key === k) sort.dir = -sort.dir;
  else {
    sort.key = k;
    sort.dir = DEFAULT_DIR[k] || -1;
  }
  if (last) render(last);
}

// Add (or rebuild) the benchmark and judge header cells of both tables when the names change.
function syncColumns(off) {
  const benches = off ? [] : benchOrder;
  const measured = off ? [] : measuredOrder;
  const judgeCols = off ? [] : judgeNames();
  const extra = benches.length > 0 || measured.length > 0 || judgeCols.length > 0;
  const key = JSON.stringify([benches, measured, judgeCols]);
  if (key === columnsKey) return extra;
  columnsKey = key;
  for (const table of [el.board, el.provBoard]) {
    const tr = table.querySelector('thead tr');
    for (const th of tr.querySelectorAll('th.dyn')) th.remove();
    if (!extra) continue;
    const sortable = table === el.board;
    tr.append(headerCell('num col-hbt v-extra', 'bt', 'Human BT', 'rank',
      'Bradley-Terry rating from the human votes, and its rank by that rating', sortable));
    for (const name of benches) {
      tr.append(headerCell('num col-bench v-bench', `bench:${name}`, name, 'published',
        `Published score of ${name}, as set in the configuration`, sortable));
    }
    for (const k of measured) {
      const [task, mode] = k.split('|');
      const label = document.createElement('span');
      label.className = 'th-measured';
      label.textContent = task;
      tr.append(headerCell('num col-bench col-measured v-bench', `measured:${k}`, label, `measured · ${mode}`,
        `${task} measured by agon bench through each model's own endpoint (${mode} mode), in %`, sortable));
    }
    for (const name of judgeCols) {
      const label = document.createElement('span');
      label.className = 'th-judge';
      label.textContent = `Judge ${name}`;
      tr.append(headerCell('num col-judge v-judge', `judge:${name}`, label, 'BT · rank',
        `Bradley-Terry rating from ${name}'s verdicts, its rank, and the change from the human rank`, sortable));
    }
  }
  for (const th of el.board.querySelectorAll('thead th.dyn[data-key]')) {
    th.querySelector('button').addEventListener('click', () => onSortClick(th));
  }
  el.heads = Array.from(el.board.querySelectorAll('thead th[data-key]'));
  if ((sort.key.startsWith('bench:') || sort.key.startsWith('measured:') || sort.key.startsWith('judge:'))
    && !el.heads.some((th) => th.dataset.key === sort.key)) {
    sort.key = 'rank';
    sort.dir = 1;
  }
  return extra;
}

function available(v) {
  if (v === 'bench') return benchOrder.length > 0 || measuredOrder.length > 0;
  if (v === 'judges') return judgeNames().length > 0;
  return true;
}

function setView(v, focus) {
  view = available(v) ? v : 'arena';
  el.board.dataset.view = view;
  el.provBoard.dataset.view = view;
  for (const b of el.viewButtons) {
    b.hidden = !available(b.dataset.view);
    b.setAttribute('aria-pressed', String(b.dataset.view === view));
  }
  el.views.hidden = el.viewButtons.filter((b) => !b.hidden).length < 2;
  if (focus) el.viewButtons.find((b) => b.dataset.view === view)?.focus();
}

function ciScale(all) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of all) {
    const l = num(m.ci_low);
    const h = num(m.ci_high);
    if (l !== null && h !== null) {
      lo = Math.min(lo, l);
      hi = Math.max(hi, h);
    }
  }
  if (!(hi > lo)) return null;
  const pad = Math.max(2, (hi - lo) * 0.04);
  return { lo: lo - pad, hi: hi + pad };
}

function leader(list, key) {
  let best = null;
  for (const m of list) {
    const v = num(m[key]);
    if (v !== null && (best === null || v > num(best[key]))) best = m;
  }
  return best;
}

function setLeader(node, m, key) {
  node.replaceChildren();
  if (!m) {
    node.textContent = '–';
    return;
  }
  const n = document.createElement('span');
  n.className = 'lead-name';
  n.textContent = String(m.model);
  const v = document.createElement('span');
  v.className = 'lead-score';
  v.textContent = fmt(num(m[key]));
  node.append(n, v);
  node.title = `${m.model}: ${num(m[key]).toFixed(1)}`;
}

function fmtTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString();
}

// The slice of a board's payload (null for the whole board).
const sliceOf = (data) => (data && data.slice && typeof data.slice === 'object' ? data.slice : null);

// The style part of a style-controlled board (style_control: true), null for any other board.
// Its rows are the style-controlled ratings as they are; style is {pending: true} while the
// first background fit of that board is under way (and the rows are then empty), else the
// fit's coefficients and counts.
function styleOf(data) {
  if (!data || data.style_control !== true) return null;
  return data.style && typeof data.style === 'object' ? data.style : {};
}
const stylePending = (data) => styleOf(data)?.pending === true;

function render(data) {
  const sl = sliceOf(data);
  const st = styleOf(data);
  const styled = st !== null;
  const pending = stylePending(data);
  // A slice and a style-controlled board are Bradley-Terry only: no Elo, a rank change against
  // the whole board, and none of the benchmark and judge columns (they are the whole board's).
  const open = data.open_weights === true;
  const btOnly = !!sl || styled || open;
  const listed = (list) => rows(list).map((m, i) => ({ ...m, listedAt: i }));
  const main = listed(data.models);
  const prov = listed(data.provisional);
  const all = main.concat(prov);
  const votes = num(data.votes) ?? 0;
  // While the style-controlled board is being fitted its counts are not known yet.
  el.votes.textContent = pending ? '–' : votes.toLocaleString();
  el.modelCount.textContent = pending ? '–' : all.length.toLocaleString();
  // A slice's board has no live Elo, so no time it was updated at: only its fit's.
  el.updatedWrap.hidden = typeof data.updated_at !== 'string';
  if (typeof data.updated_at === 'string') {
    el.updated.dateTime = data.updated_at;
    el.updated.textContent = fmtTime(data.updated_at);
  }
  const fitName = styled ? 'Style-controlled BT' : 'BT';
  if (pending) el.btInfo.textContent = 'Style-controlled fit under way…';
  else if (typeof data.bt_updated_at === 'string') el.btInfo.textContent = `${fitName} fitted ${fmtTime(data.bt_updated_at)}`;
  else el.btInfo.textContent = `${fitName} fit pending`;
  const rounds = num(data.bootstrap_rounds);
  if (rounds !== null) el.rounds.textContent = rounds.toLocaleString();
  const minB = num(data.min_battles) ?? 0;
  el.minBattles.textContent = `${minB.toLocaleString()} battle${minB === 1 ? '' : 's'}`;
  if (pending) el.board.setAttribute('aria-busy', 'true');
  else el.board.removeAttribute('aria-busy');

  el.board.dataset.slice = sl ? 'on' : 'off';
  el.board.dataset.style = styled ? 'on' : 'off';
  el.provBoard.dataset.slice = el.board.dataset.slice;
  el.provBoard.dataset.style = el.board.dataset.style;
  el.cardElo.hidden = btOnly;
  const against = styled ? 'the whole board without style control' : 'the whole board';
  const ratedBy = styled ? 'style-controlled Bradley-Terry rating' : 'Bradley-Terry rating';
  el.rankHead.title = btOnly ? `Rank by ${ratedBy}${sl ? ' in this slice' : ''}` : 'Rank by live Elo';
  el.caption.textContent = btOnly
    ? `Models ranked by their ${ratedBy}${sl ? ' in this slice' : ''}, with the change from their rank on ${against}. The column headers sort the table.`
    : 'Models ranked by live Elo. The column headers sort the table.';
  el.btSub.textContent = styled ? 'style-controlled, 95% CI' : '95% CI';
  el.leadBtLabel.textContent = styled ? 'Top by style-controlled BT' : 'Top by Bradley-Terry';
  el.changeHead.title = `Rank ${sl ? 'in this slice' : 'here'} against the rank on ${against} (by Bradley-Terry): ↑ higher here, ↓ lower`;
  if (btOnly && sort.key === 'elo') {
    sort.key = 'rank';
    sort.dir = 1;
  }
  if (!btOnly) updateBenchOrder(all);
  const extra = syncColumns(btOnly);
  if (btOnly) {
    el.board.dataset.view = 'arena';
    el.provBoard.dataset.view = 'arena';
    el.views.hidden = true;
  } else {
    if (pendingView && available(pendingView)) {
      view = pendingView;
      pendingView = null;
    }
    setView(view);
  }
  renderCorrelations(btOnly ? [] : data.correlations);
  renderStyle(data);

  for (const th of el.heads) {
    if (th.dataset.key === sort.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }

  const key = JSON.stringify([main, prov, sort, btOnly ? 'arena' : view, columnsKey, judgeVersion, sl, styled, pending]);
  if (key === lastRendered) return;
  lastRendered = key;

  // Leaders among ranked models (or all, while every model is provisional).
  const pool = main.length ? main : all;
  setLeader(el.leadElo, votes > 0 && !btOnly ? leader(pool, 'elo') : null, 'elo');
  setLeader(el.leadBt, leader(pool, 'bt'), 'bt');

  const scale = ciScale(all);
  const ctx = {
    extra, styled, against, humanRanks: ranksBy(all, (m) => num(m.bt)), bench: new Map(), measured: new Map(), judgeRanks: new Map(),
  };
  if (extra) {
    for (const name of benchOrder) ctx.bench.set(name, benchFormat(all, name));
    for (const k of measuredOrder) ctx.measured.set(k, measuredBest(all, k));
    for (const name of judgeNames()) {
      ctx.judgeRanks.set(name, ranksBy(all, (m) => {
        const j = judgeRow(name, String(m.model));
        return j ? num(j.bt) : null;
      }));
    }
  }
  const frag = document.createDocumentFragment();
  for (const m of main.slice().sort(compare)) frag.append(rowFor(m, scale, false, ctx));
  el.rows.replaceChildren(frag);
  const pfrag = document.createDocumentFragment();
  for (const m of prov.slice().sort(compare)) pfrag.append(rowFor(m, scale, true, ctx));
  el.provRows.replaceChildren(pfrag);
  el.provSection.hidden = prov.length === 0;
  el.empty.hidden = main.length > 0;
  el.empty.dataset.state = pending ? 'pending' : '';
  if (pending) {
    // The board of a pending fit has no rows, and its slice's counts are not known yet.
    el.empty.textContent = 'Fitting the style-controlled board… it appears here as soon as it is ready.';
  } else if (sl && sl.ranked === false) {
    el.empty.textContent = typeof sl.message === 'string' ? sl.message : 'Too few battles in this slice to rank.';
  } else {
    el.empty.textContent = all.length === 0 ? 'No models are enabled yet.'
      : `No model has ${minB.toLocaleString()} battles yet: every model is still provisional.`;
  }
}

// ---------- the slice picker ----------

const LANGUAGE_NAMES = (() => {
  try { return new Intl.DisplayNames(['en'], { type: 'language' }); } catch { return null; }
})();
function languageName(code) {
  if (code === 'und') return 'Undetermined';
  try {
    const n = LANGUAGE_NAMES && LANGUAGE_NAMES.of(code);
    if (n && n !== code) return n;
  } catch { /* not a code Intl knows */ }
  return code;
}

const CATEGORY_NAMES = {
  coding: 'Coding', multi_turn: 'Multi-turn', long_query: 'Long query', no_short: 'No short prompts',
  no_refusal: 'No refusals', hard_prompt: 'Hard prompts', math: 'Math', creative_writing: 'Creative writing',
  instruction_following: 'Instruction following',
};
const KIND_NAMES = { heuristic: 'tagged from the prompts', llm: 'tagged by an LLM', custom: 'defined by the admin' };
const categoryName = (name) => CATEGORY_NAMES[name] || name;

// The votes of the slice of language lang and category cat ('' for any), from the slices list;
// null for the whole board (not a slice).
function sliceVotes(lang, cat) {
  if (!lang && !cat) return null;
  for (const x of rows(slicesData && slicesData.slices)) {
    if ((x.language || '') === lang && (x.category || '') === cat) return num(x.votes) ?? 0;
  }
  return 0;
}

function describeChoice() {
  const bits = [];
  if (choice.language) bits.push(languageName(choice.language));
  if (choice.category) bits.push(categoryName(choice.category));
  if (choice.open) bits.push('Open weights');
  return bits.join(' · ');
}

// One group of chips: an "All" chip, then one per item ({value, label, title}), each with the
// votes of the slice it leads to. The buttons are updated in place while the list is the
// same, so that a focused chip keeps its focus across polls.
function renderChips(box, items, current, countOf, what) {
  const list = [{ value: '', label: 'All', title: `Every ${what}` }].concat(items);
  const key = JSON.stringify(list.map((x) => [x.value, x.label, x.title]));
  if (box.dataset.key !== key) {
    const focused = box.contains(document.activeElement) ? document.activeElement.dataset.value : null;
    box.dataset.key = key;
    box.replaceChildren(...list.map((x) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.dataset.value = x.value;
      b.dataset.testid = x.value ? 'chip' : 'chip-all';
      if (x.title) b.title = x.title;
      const l = document.createElement('span');
      l.className = 'chip-label';
      l.textContent = x.label;
      const n = document.createElement('span');
      n.className = 'chip-count';
      const sr = document.createElement('span');
      sr.className = 'sr-only';
      b.append(l, n, sr);
      return b;
    }));
    if (focused !== null) box.querySelector(`button[data-value="${CSS.escape(focused)}"]`)?.focus();
  }
  for (const b of box.querySelectorAll('button.chip')) {
    const n = countOf(b.dataset.value);
    const c = b.querySelector('.chip-count');
    c.textContent = n === null ? '' : n.toLocaleString();
    c.hidden = n === null;
    b.querySelector('.sr-only').textContent = n === null ? '' : ` ${n === 1 ? 'vote' : 'votes'}`;
    b.classList.toggle('chip-empty', n === 0);
    b.setAttribute('aria-pressed', String(b.dataset.value === current));
  }
}

// Languages: those with votes, most voted first, and the chosen one even without any.
// Categories: every one a board can be asked for (without votes: dimmed), and the chosen one.
// The counts are those of the slice a chip leads to, with the other choice kept.
function renderPicker() {
  const langs = rows(slicesData && slicesData.languages)
    .filter((x) => typeof x.code === 'string')
    .sort((a, b) => (num(b.votes) ?? 0) - (num(a.votes) ?? 0) || a.code.localeCompare(b.code))
    .map((x) => x.code);
  if (choice.language && !langs.includes(choice.language)) langs.push(choice.language);
  renderChips(el.langChips, langs.map((c) => ({ value: c, label: languageName(c), title: `Prompts in ${languageName(c)} (${c})` })),
    choice.language, (v) => sliceVotes(v, choice.category), 'language');

  const cats = rows(slicesData && slicesData.categories).filter((x) => typeof x.name === 'string');
  if (choice.category && !cats.some((x) => x.name === choice.category)) cats.push({ name: choice.category });
  renderChips(el.catChips, cats.map((x) => ({
    value: x.name, label: categoryName(x.name), title: `${x.name}${KIND_NAMES[x.kind] ? `: ${KIND_NAMES[x.kind]}` : ''}`,
  })), choice.category, (v) => sliceVotes(choice.language, v), 'category');

  el.styleSwitch.setAttribute('aria-pressed', String(choice.style));
  el.openWeights.checked = choice.open;
}

function renderSliceNote(data) {
  const sl = sliceOf(data);
  const st = styleOf(data);
  let text;
  if (!data) text = '';
  else if (stylePending(data)) text = `${describeChoice() || 'All battles'}: fitting the style-controlled board…`;
  else if (!sl) text = 'All battles.';
  else {
    const v = num(sl.votes) ?? num(data.votes) ?? 0;
    text = `${describeChoice()}: ${v.toLocaleString()} vote${v === 1 ? '' : 's'}, rated by a Bradley-Terry fit of these battles alone; “vs all” is each model's rank change against the whole board.`;
  }
  if (st && !stylePending(data)) {
    text += ' With style control: the answers\' length and Markdown are taken out of the ratings'
      + (sl ? ', and “vs all” compares with the whole board without it.' : '; “vs all” is each model\'s rank change against the board without it.');
  } else if (choice.style && data && !st) {
    text += ' Style control asked for, not given.';
  }
  text += openWeightsNote(data);
  if (el.sliceNote.textContent !== text) el.sliceNote.textContent = text;
}

// What the slice note says of the open-weights board: its fit under way, or what it covers.
function openWeightsNote(data) {
  if (!data || data.open_weights !== true) return '';
  if (data.pending === true) return ' Open weights only: fitting that board…';
  const v = num(data.bt_votes) ?? 0;
  return ` Open weights only: ${v.toLocaleString()} vote${v === 1 ? '' : 's'} between two models with open weights, ranked among themselves.`;
}

const STYLE_NAMES = { length: 'Answer length (tokens)', headers: 'Markdown headers', lists: 'List items', bold: 'Bold spans' };
let styleRendered = '';

const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

// What a style-controlled board says about style: that its first fit is under way, or its
// coefficients (style.coefficients[name] = {beta, ci_low, ci_high}) with the battles fitted
// and the votes left out, or that the board given is not style-controlled, or the error it
// was refused with. Rebuilt only when that changes, so that the note is announced once.
function renderStyle(data, error) {
  el.stylePanel.hidden = !choice.style;
  if (!choice.style) {
    styleRendered = '';
    return;
  }
  const st = styleOf(data);
  let state;
  if (error) state = 'error';
  else if (!data) state = 'loading';
  else if (!st) state = 'none';
  else if (st.pending === true) state = 'pending';
  else state = 'coefficients';
  const key = JSON.stringify([state, error ? error.message : null, st]);
  if (key === styleRendered) return;
  styleRendered = key;
  el.stylePanel.dataset.state = state;
  if (state === 'pending' || state === 'loading') el.stylePanel.setAttribute('aria-busy', 'true');
  else el.stylePanel.removeAttribute('aria-busy');

  const items = [];
  const counts = [];
  if (state === 'error') {
    el.styleNote.textContent = `The server could not give a style-controlled board: ${error.message}`;
  } else if (state === 'loading') {
    el.styleNote.textContent = 'Loading the style-controlled board…';
  } else if (state === 'none') {
    el.styleNote.textContent = 'The server gave a board without style control: the ratings shown are not style-controlled.';
  } else if (state === 'pending') {
    el.styleNote.textContent = 'Fitting… the style-controlled board is being fitted in the background and will be shown here by itself.';
  } else {
    el.styleNote.textContent = 'How much each style feature (A minus B, normalised) moves the log-odds of a win, fitted with the ratings.'
      + ' The heatmaps are not style-controlled.';
    const n = num(st.battles);
    const skipped = num(st.skipped);
    const iterations = num(st.iterations);
    if (n !== null) {
      const b = document.createElement('span');
      b.dataset.testid = 'style-battles';
      b.dataset.value = String(n);
      b.textContent = `Fitted on ${plural(n, 'battle', 'battles')}`;
      if (iterations !== null) b.title = `${plural(iterations, 'iteration', 'iterations')} of the fit`;
      counts.push(b);
    }
    if (skipped !== null) {
      const s = document.createElement('span');
      s.dataset.testid = 'style-skipped';
      s.dataset.value = String(skipped);
      s.textContent = skipped === 0 ? 'no vote left out'
        : `${plural(skipped, 'vote', 'votes')} left out (no style counts stored for ${skipped === 1 ? 'it' : 'them'})`;
      counts.push(s);
    }
    const coefs = st.coefficients && typeof st.coefficients === 'object' ? st.coefficients : {};
    for (const [k, c] of Object.entries(coefs)) {
      const co = c && typeof c === 'object' ? c : {};
      const x = num(co.beta);
      const d = document.createElement('div');
      d.className = 'style-coef';
      d.dataset.testid = 'style-coef';
      d.dataset.name = k;
      const dt = document.createElement('dt');
      dt.textContent = STYLE_NAMES[k] || k;
      const dd = document.createElement('dd');
      dd.textContent = x === null ? '–' : x.toFixed(3);
      if (x !== null) dd.dataset.value = String(x);
      const l = num(co.ci_low);
      const h = num(co.ci_high);
      if (x !== null && l !== null && h !== null) {
        dd.dataset.low = String(l);
        dd.dataset.high = String(h);
        const ci = document.createElement('span');
        ci.className = 'ci-text';
        ci.textContent = ` (95% CI ${l.toFixed(3)} to ${h.toFixed(3)})`;
        dd.append(ci);
      }
      d.append(dt, dd);
      items.push(d);
    }
  }
  el.styleCounts.replaceChildren(...counts.flatMap((c, i) => (i ? ['; ', c] : [c])));
  if (counts.length) el.styleCounts.append('.');
  el.styleCounts.hidden = counts.length === 0;
  el.styleCoefs.replaceChildren(...items);
  el.styleCoefs.hidden = items.length === 0;
}

// The query of the board for the current choice: language, category, style=control (not for
// the matrices, which are the plain fit's), open_weights=true.
function sliceParams(withStyle) {
  const q = new URLSearchParams();
  if (choice.language) q.set('language', choice.language);
  if (choice.category) q.set('category', choice.category);
  if (withStyle && choice.style) q.set('style', 'control');
  if (choice.open) q.set('open_weights', 'true');
  return q;
}
const withQuery = (path, q) => (q.toString() ? `${path}?${q}` : path);
const boardUrl = () => withQuery('/api/leaderboard', sliceParams(true));
const matrixUrl = () => withQuery('/api/leaderboard/matrix', sliceParams(false));

// The page's own URL for the choice: the slice first, then the page's other arguments (sort,
// view) as they were.
function pageUrl() {
  const q = sliceParams(true);
  for (const [k, v] of new URLSearchParams(window.location.search)) {
    if (!['language', 'category', 'style', 'open_weights'].includes(k)) q.append(k, v);
  }
  return withQuery(window.location.pathname, q) + window.location.hash;
}

function readChoice() {
  const p = new URLSearchParams(window.location.search);
  choice.language = p.get('language') || '';
  choice.category = p.get('category') || '';
  choice.style = p.get('style') === 'control';
  // style control and the open-weights board do not combine (the server says so)
  choice.open = !choice.style && p.get('open_weights') === 'true';
}

// A new choice: forget the last board (its rows are not this slice's), show the picker and
// the links for it, and ask again at once.
function choiceChanged() {
  choiceGen++;
  last = null;
  lastRendered = '';
  matrix = null;
  matrixKey = '';
  matrixRendered = '';
  el.rows.replaceChildren();
  el.provRows.replaceChildren();
  el.provSection.hidden = true;
  el.empty.hidden = true;
  el.board.setAttribute('aria-busy', 'true');
  el.apiLink.href = boardUrl();
  el.matrixLink.href = matrixUrl();
  const what = describeChoice();
  document.title = `Agon · Leaderboard${what ? ` · ${what}` : ''}`;
  renderPicker();
  renderSliceNote(null);
  renderStyle(null);
  poll();
}

function choose(change) {
  const next = { ...choice, ...change };
  if (next.language === choice.language && next.category === choice.category && next.style === choice.style
    && next.open === choice.open) return;
  Object.assign(choice, next);
  const url = pageUrl();
  if (url !== window.location.pathname + window.location.search + window.location.hash) {
    window.history.pushState(null, '', url);
  }
  choiceChanged();
}

// Left and right arrows move between the chips of a group; Home and End to its ends.
function chipKeys(box) {
  box.addEventListener('keydown', (ev) => {
    const chips = Array.from(box.querySelectorAll('button.chip'));
    const i = chips.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') j = (i + 1) % chips.length;
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') j = (i - 1 + chips.length) % chips.length;
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'End') j = chips.length - 1;
    if (j === null) return;
    ev.preventDefault();
    chips[j].focus();
  });
}

// ---------- signals: correlations and judges ----------

function updateSignals() {
  el.signals.hidden = el.corrPanel.hidden && el.judgesPanel.hidden;
}

function fmtRho(r) {
  if (r === null) return '—';
  const s = r.toFixed(2);
  return r > 0 && s !== '0.00' ? `+${s}` : s.replace('-', '−');
}

// One line per benchmark and per judge: its name, a bar from −1 to +1, ρ, and over how many
// models; the best-tracking signal first, the undefined ones (null) last.
function renderCorrelations(list) {
  const items = rows(list).map((c, i) => ({
    signal: c.signal === 'judge' || c.signal === 'measured' ? c.signal : 'benchmark',
    name: c.signal === 'measured' ? `${String(c.name ?? '')} (${String(c.mode ?? '')})` : String(c.name ?? ''),
    rho: num(c.spearman),
    models: num(c.models) ?? 0,
    i,
  }));
  const key = JSON.stringify(items);
  if (key === signalsKey) return;
  signalsKey = key;
  items.sort((a, b) => (a.rho === null) - (b.rho === null) || (b.rho ?? 0) - (a.rho ?? 0) || a.i - b.i);
  const frag = document.createDocumentFragment();
  for (const c of items) {
    const li = document.createElement('li');
    li.className = 'corr-row';
    li.dataset.testid = 'corr-row';
    li.dataset.signal = c.signal;
    li.dataset.name = c.name;
    if (c.rho !== null) li.dataset.value = String(c.rho);

    const label = document.createElement('span');
    label.className = 'corr-name';
    const n = document.createElement('span');
    n.className = 'corr-label';
    n.textContent = c.name;
    const tag = document.createElement('span');
    tag.className = `tag ${c.signal}`;
    tag.textContent = c.signal === 'judge' ? 'judge' : c.signal === 'measured' ? 'measured' : 'published';
    label.append(n, tag);

    const bar = document.createElement('span');
    bar.className = 'corr-bar';
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', c.rho === null ? 'not enough models' : `rho ${fmtRho(c.rho)}`);
    const zero = document.createElement('span');
    zero.className = 'corr-zero';
    bar.append(zero);
    if (c.rho !== null) {
      const r = Math.max(-1, Math.min(1, c.rho));
      const fill = document.createElement('span');
      fill.className = `corr-fill ${r < 0 ? 'neg' : 'pos'}`;
      fill.style.left = `${(50 + Math.min(0, r) * 50).toFixed(2)}%`;
      fill.style.width = `${Math.max(0.5, Math.abs(r) * 50).toFixed(2)}%`;
      bar.append(fill);
    }

    const v = document.createElement('span');
    v.className = 'corr-value';
    v.textContent = fmtRho(c.rho);
    if (c.rho === null) v.title = 'Not defined: needs at least 3 ranked models with both, and some spread in each';
    else v.title = `Spearman ρ = ${c.rho.toFixed(3)}`;

    const m = document.createElement('span');
    m.className = 'corr-models';
    m.textContent = `${c.models} model${c.models === 1 ? '' : 's'}`;
    li.append(label, bar, v, m);
    frag.append(li);
  }
  el.corrList.replaceChildren(frag);
  el.corrPanel.hidden = items.length === 0;
  updateSignals();
}

const pct = (x) => (x === null ? '—' : `${(x * 100).toFixed(0)}%`);

function stat(name, label, valueText, sub, ratio, tone) {
  const d = document.createElement('div');
  d.className = 'stat';
  d.dataset.stat = name;
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  const v = document.createElement('span');
  v.className = 'stat-value';
  v.textContent = valueText;
  dd.append(v);
  if (ratio !== undefined) {
    const meter = document.createElement('span');
    meter.className = `meter ${tone || ''}`.trim();
    meter.setAttribute('aria-hidden', 'true');
    if (ratio !== null) {
      const fill = document.createElement('span');
      fill.style.width = `${(Math.max(0, Math.min(1, ratio)) * 100).toFixed(1)}%`;
      meter.append(fill);
    }
    dd.append(meter);
  }
  if (sub) {
    const s = document.createElement('span');
    s.className = 'stat-sub';
    s.textContent = sub;
    dd.append(s);
  }
  d.append(dt, dd);
  return d;
}

const battles = (n) => `${n.toLocaleString()} battle${n === 1 ? '' : 's'}`;

function judgeCard(j) {
  const name = String(j.name ?? '');
  const judged = num(j.judged) ?? 0;
  const errors = num(j.errors) ?? 0;
  const inconsistent = num(j.inconsistent) ?? 0;
  const compared = num(j.compared) ?? 0;
  const comparedNt = num(j.compared_no_ties) ?? 0;
  const agree = num(j.agreement);
  const agreeNt = num(j.agreement_no_ties);
  const single = j.mode === 'single';

  const card = document.createElement('article');
  card.className = 'judge-card';
  card.dataset.testid = 'judge-card';
  card.dataset.judge = name;
  const head = document.createElement('header');
  const h = document.createElement('h3');
  h.textContent = name;
  const mode = document.createElement('span');
  mode.className = 'judge-mode';
  const bits = [single ? 'single answer, 1–20' : 'pairwise'];
  if (!single && j.swap === true) bits.push('both orders');
  if (num(j.few_shot) > 0) bits.push(`${j.few_shot}-shot`);
  if (j.auto === true) bits.push('auto');
  mode.textContent = bits.join(' · ');
  head.append(h, mode);

  const dl = document.createElement('dl');
  dl.className = 'judge-stats';
  dl.append(
    stat('agreement', 'Agrees with humans', pct(agree),
      compared ? `on ${battles(compared)}, ties included` : 'no battle judged by both yet', agree, 'good'),
    stat('agreement_no_ties', 'Without ties', pct(agreeNt),
      comparedNt ? `on ${battles(comparedNt)} neither called a tie` : 'no battle without a tie yet', agreeNt, 'good'),
  );
  if (single) {
    dl.append(stat('inconsistent', 'Position bias', '—', 'not measured in single mode'));
  } else if (j.swap === false) {
    dl.append(stat('inconsistent', 'Position bias', '—', 'not measured (swap = false)'));
  } else {
    const rate = judged ? inconsistent / judged : null;
    dl.append(stat('inconsistent', 'Position bias', pct(rate),
      `${inconsistent.toLocaleString()} of ${judged.toLocaleString()} verdicts flipped when swapped`, rate, 'bad'));
  }
  const replies = judged + errors;
  dl.append(stat('errors', 'Errors', errors.toLocaleString(),
    replies ? `of ${replies.toLocaleString()} repl${replies === 1 ? 'y' : 'ies'} had no verdict` : 'no reply yet'));
  const foot = document.createElement('p');
  foot.className = 'judge-foot';
  foot.textContent = `${battles(judged)} judged`;
  card.append(head, dl, foot);
  return card;
}

function renderJudges() {
  const list = judges || [];
  const key = JSON.stringify(list);
  if (key === judgeKey) return;
  judgeKey = key;
  judgeVersion++;
  el.judgeList.replaceChildren(...list.map(judgeCard));
  el.judgesPanel.hidden = list.length === 0;
  updateSignals();
}

// ---------- heatmaps ----------

// Cell colours, blended over the page by their opacity: indigo where the row model wins more
// often, orange where it loses more often, teal for counts; lighter shades in dark mode.
const DARK = window.matchMedia('(prefers-color-scheme: dark)');
const PALETTE = {
  light: { pos: [79, 70, 229], neg: [234, 88, 12], count: [13, 148, 136] },
  dark: { pos: [129, 140, 248], neg: [251, 146, 60], count: [45, 212, 191] },
};
const palette = () => PALETTE[DARK.matches ? 'dark' : 'light'];

function shortName(s, n = 22) {
  const chars = Array.from(s);
  return chars.length > n ? `${chars.slice(0, n - 1).join('')}…` : s;
}

// Order the matrix like the leaderboard: ranked models by rating, then provisional ones.
function orderedIndices(mx) {
  const names = mx.models;
  const order = [];
  if (last) {
    const listed = rows(last.models).concat(rows(last.provisional)).map((m) => String(m.model));
    for (const n of listed) {
      const i = names.indexOf(n);
      if (i >= 0 && !order.includes(i)) order.push(i);
    }
  }
  for (let i = 0; i < names.length; i++) if (!order.includes(i)) order.push(i);
  return order;
}

function cellFill(kind, v, max) {
  const p = palette();
  if (kind === 'battles') {
    if (!(v > 0)) return null;
    return { rgb: p.count, a: 0.12 + 0.78 * (v / max) };
  }
  if (v === null) return null;
  const d = v - 0.5;
  return { rgb: d >= 0 ? p.pos : p.neg, a: 0.06 + Math.min(1, Math.abs(d) * 2) * 0.84 };
}

function cellText(kind, v, big) {
  if (kind === 'battles') return String(v);
  const p = Math.round(v * 100);
  return big ? `${p}%` : String(p);
}

function describe(kind, row, col, v, games) {
  if (kind === 'battles') return `${row} vs ${col}: ${v} battle${v === 1 ? '' : 's'}`;
  if (kind === 'win') {
    if (v === null) return `${row} vs ${col}: no battles yet`;
    return `${row} vs ${col}: ${row} won ${(v * 100).toFixed(1)}% of ${games} battle${games === 1 ? '' : 's'}`;
  }
  if (v === null) return `${row} vs ${col}: no prediction (not connected by battles)`;
  return `${row} vs ${col}: Bradley-Terry predicts ${row} wins ${(v * 100).toFixed(1)}%`;
}

function drawHeatmap(box, kind, mx) {
  const names = mx.models;
  const grid = kind === 'battles' ? mx.battles : kind === 'win' ? mx.win_fraction : mx.predicted;
  const order = orderedIndices(mx);
  const n = order.length;
  if (n < 2) {
    const p = document.createElement('p');
    p.className = 'heat-empty';
    p.textContent = 'Needs at least two models.';
    box.replaceChildren(p);
    return 0;
  }
  const val = (i, j) => {
    const row = Array.isArray(grid) ? grid[i] : null;
    return row ? num(row[j]) : null;
  };
  let max = 0;
  for (const i of order) for (const j of order) if (i !== j) max = Math.max(max, val(i, j) ?? 0);

  const cell = n <= 6 ? 52 : n <= 10 ? 42 : n <= 16 ? 30 : 22;
  const font = cell >= 40 ? 12 : cell >= 30 ? 10.5 : 9;
  const labels = order.map((i) => shortName(String(names[i])));
  const longest = Math.max(...labels.map((l) => Array.from(l).length));
  const labelW = Math.min(160, 14 + longest * 6.6);
  const top = Math.round(Math.min(160, longest * 6.6) * 0.72 + 14);
  const left = Math.round(labelW);
  const W = left + n * cell + 6;
  const H = top + n * cell + 6;
  const kindName = { win: 'Win fraction', battles: 'Battle counts', predicted: 'Predicted win probability' }[kind];

  const root = svg('svg', {
    class: `heatmap heatmap-${kind}`, width: W, height: H, viewBox: `0 0 ${W} ${H}`,
    role: 'img', 'aria-label': `${kindName}, ${n} models, rows against columns`,
  });
  const rowsG = svg('g', { class: 'labels rows' });
  const colsG = svg('g', { class: 'labels cols' });
  const cellsG = svg('g', { class: 'cells' });
  order.forEach((i, r) => {
    const full = String(names[i]);
    const y = top + r * cell + cell / 2;
    const t = svg('text', { x: left - 8, y, 'text-anchor': 'end', 'dominant-baseline': 'central', 'font-size': 11.5 });
    t.textContent = labels[r];
    const tt = svg('title');
    tt.textContent = full;
    t.append(tt);
    rowsG.append(t);
    const cx = left + r * cell + cell / 2;
    const c = svg('text', {
      x: 0, y: 0, 'text-anchor': 'end', 'dominant-baseline': 'central', 'font-size': 11.5,
      transform: `translate(${cx.toFixed(1)} ${top - 8}) rotate(45)`,
    });
    c.textContent = labels[r];
    const ct = svg('title');
    ct.textContent = full;
    c.append(ct);
    colsG.append(c);
  });
  order.forEach((i, r) => {
    order.forEach((j, k) => {
      const x = left + k * cell;
      const y = top + r * cell;
      const g = svg('g', { class: 'cell-g' });
      const rect = svg('rect', {
        class: 'cell', x: x + 1, y: y + 1, width: cell - 2, height: cell - 2, rx: 4,
        'data-row': String(names[i]), 'data-col': String(names[j]),
      });
      const title = svg('title');
      g.append(rect);
      if (i === j) {
        rect.classList.add('diag');
        title.textContent = String(names[i]);
      } else {
        const v = val(i, j);
        const games = num(Array.isArray(mx.battles) && mx.battles[i] ? mx.battles[i][j] : null) ?? 0;
        title.textContent = describe(kind, String(names[i]), String(names[j]), v, games);
        const f = cellFill(kind, v, max || 1);
        if (v !== null) rect.setAttribute('data-value', String(v));
        if (f) {
          rect.setAttribute('fill', `rgb(${f.rgb.join(' ')})`);
          rect.setAttribute('fill-opacity', f.a.toFixed(3));
        } else {
          rect.classList.add('none');
        }
        if (v !== null && (kind !== 'battles' || v > 0) && cell >= 28) {
          const t = svg('text', {
            x: x + cell / 2, y: y + cell / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central',
            'font-size': font, class: f && f.a > 0.58 ? 'ink-strong' : 'ink',
          });
          t.textContent = cellText(kind, v, cell >= 42);
          g.append(t);
        }
      }
      g.append(title);
      cellsG.append(g);
    });
  });
  root.append(cellsG, rowsG, colsG);
  box.replaceChildren(root);
  return max;
}

function renderMatrix(mx) {
  if (!mx || !Array.isArray(mx.models)) return;
  const order = last ? JSON.stringify(rows(last.models).concat(rows(last.provisional)).map((m) => m.model)) : '';
  const key = JSON.stringify([mx, order]);
  if (key === matrixRendered) return;
  matrixRendered = key;
  drawHeatmap(el.heatWin, 'win', mx);
  const max = drawHeatmap(el.heatBattles, 'battles', mx);
  el.battlesMax.textContent = String(max || 1);
  drawHeatmap(el.heatPredicted, 'predicted', mx);
}

// ---------- rating history: a line per model over time ----------

let historyRendered = '';
let historyAge = 0; // polls since the series was fetched
const LINE_COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777',
  '#4b5563', '#65a30d'];
const lineColour = (i) => (i < LINE_COLOURS.length ? LINE_COLOURS[i] : `hsl(${(i * 137.5) % 360} 60% 45%)`);

// h: /api/leaderboard/history. Each model's Elo at the series' instants, as one path (broken
// where it has no value yet), on a shared time and rating scale; the names in the legend.
function renderHistory(h) {
  const times = Array.isArray(h && h.points) ? h.points.map((t) => Date.parse(t)) : [];
  const series = rows(h && h.models).filter((m) => typeof m.model === 'string' && Array.isArray(m.elo));
  const key = JSON.stringify([times, series]);
  if (key === historyRendered) return;
  historyRendered = key;
  const shown = times.length > 0 && times.every(Number.isFinite) && series.length > 0;
  el.history.hidden = !shown;
  if (!shown) {
    el.historyChart.replaceChildren();
    el.historyLegend.replaceChildren();
    return;
  }
  const W = 640;
  const H = 220;
  const pad = { l: 44, r: 12, t: 10, b: 24 };
  const vals = series.flatMap((m) => m.elo.map(num).filter((x) => x !== null));
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (hi - lo < 10) {
    lo -= 5;
    hi += 5;
  }
  const t0 = times[0];
  const t1 = times[times.length - 1];
  const x = (t) => pad.l + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r) : (W - pad.l - pad.r) / 2);
  const y = (v) => pad.t + ((hi - v) / (hi - lo)) * (H - pad.t - pad.b);
  const box = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Elo of each model over time' });
  for (const v of [lo, (lo + hi) / 2, hi]) {
    box.append(svg('line', { class: 'grid', x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }));
    const label = svg('text', { class: 'axis', x: pad.l - 4, y: y(v) + 4, 'text-anchor': 'end' });
    label.textContent = v.toFixed(0);
    box.append(label);
  }
  const day = (t) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  for (const [t, anchor] of [[t0, 'start'], [t1, 'end']]) {
    const label = svg('text', { class: 'axis', x: x(t), y: H - 6, 'text-anchor': anchor });
    label.textContent = day(t);
    box.append(label);
  }
  const legend = [];
  series.forEach((m, i) => {
    let d = '';
    let pen = 'M';
    m.elo.forEach((v, k) => {
      const e = num(v);
      if (e === null || k >= times.length) {
        pen = 'M';
        return;
      }
      d += `${pen}${x(times[k]).toFixed(1)},${y(e).toFixed(1)} `;
      pen = 'L';
    });
    const colour = lineColour(i);
    const path = svg('path', {
      d: d.trim() || 'M0,0', fill: 'none', stroke: colour, 'stroke-width': 2, 'data-testid': 'history-line',
      'data-model': m.model,
    });
    const last = num(m.elo[m.elo.length - 1]);
    const title = svg('title');
    title.textContent = `${m.model}${last === null ? '' : `: Elo ${last.toFixed(1)} now`}`;
    path.append(title);
    box.append(path);
    const li = document.createElement('li');
    li.dataset.testid = 'history-legend-item';
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.backgroundColor = colour; // CSSOM, allowed under the strict CSP
    li.append(sw, m.model);
    legend.push(li);
  });
  el.historyChart.replaceChildren(box);
  el.historyLegend.replaceChildren(...legend);
}

// The series is refetched when the board's votes moved, and every 10 polls in any case; while
// it is being computed ({"pending": true}) the last one stays.
let historyVotes = -1;
async function historyPoll(votes) {
  if (votes === historyVotes && ++historyAge < 10) return;
  let h;
  try { h = await getJson('/api/leaderboard/history'); } catch { return; /* the chart is optional */ }
  historyAge = 0;
  if (h && h.pending === true) return;
  historyVotes = votes;
  renderHistory(h);
}

// ---------- polling ----------

// The judges (every 10 s), and each judge's own leaderboard while the judge columns are shown.
let judgeAgain = false;
async function judgePoll(force) {
  clearTimeout(judgeTimer);
  if (judgeInflight) {
    judgeAgain ||= force === true;
    return;
  }
  judgeInflight = true;
  let changed = false;
  try {
    const data = await getJson('/api/judges');
    const list = rows(data.judges).filter((j) => typeof j.name === 'string');
    if (JSON.stringify(list) !== JSON.stringify(judges)) changed = true;
    judges = list;
    renderJudges();
    for (const name of Array.from(judgeBoards.keys())) {
      if (!judgeNames().includes(name)) judgeBoards.delete(name);
    }
    if (view === 'judges' || pendingView === 'judges') {
      if (force === true || Date.now() - judgeBoardsAt >= JUDGE_POLL_MS - 500) {
        judgeBoardsAt = Date.now();
        for (const name of judgeNames()) {
          const b = await getJson(`/api/leaderboard?source=judge&judge=${encodeURIComponent(name)}&sort=bt`);
          const map = new Map(rows(b.models).concat(rows(b.provisional)).map((m) => [String(m.model), m]));
          const before = judgeBoards.get(name);
          if (!before || JSON.stringify(Array.from(before)) !== JSON.stringify(Array.from(map))) changed = true;
          judgeBoards.set(name, map);
        }
      }
    }
    el.judgesNote.hidden = true;
  } catch (e) {
    el.judgesNote.hidden = false;
    el.judgesNote.textContent = `Could not load the judges: ${e.message}`;
  } finally {
    judgeInflight = false;
    if (changed) {
      judgeVersion++;
      if (last) render(last);
    }
    if (judgeAgain) {
      judgeAgain = false;
      judgePoll(true);
    } else if (!document.hidden) {
      judgeTimer = setTimeout(judgePoll, JUDGE_POLL_MS);
    }
  }
}

function setLive(ok, message) {
  el.live.dataset.state = ok ? 'ok' : 'err';
  el.live.textContent = ok ? 'Live' : 'Offline, retrying…';
  el.error.hidden = ok;
  if (!ok) el.error.textContent = message;
}

// An error the server answered with (a 4xx with its code) is not being offline.
async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  let data = null;
  try { data = await res.json(); } catch { /* handled below */ }
  if (!res.ok || !data) {
    const msg = (data && data.error && data.error.message) || `HTTP ${res.status}`;
    const e = new Error(msg);
    e.status = res.status;
    e.code = data && data.error && typeof data.error.code === 'string' ? data.error.code : '';
    throw e;
  }
  return data;
}

// The board asked for could not be given (a slice or style the server refuses): say so where
// the table is, with the server's own words, and show no rows of another board.
function boardRefused(e) {
  setLive(true);
  el.board.removeAttribute('aria-busy');
  el.error.hidden = false;
  el.error.textContent = `This board could not be loaded: ${e.message}${e.code ? ` (${e.code})` : ''}`;
  el.rows.replaceChildren();
  el.provRows.replaceChildren();
  el.provSection.hidden = true;
  el.empty.hidden = true;
  lastRendered = '';
  renderSliceNote(null);
  renderStyle(null, e);
}

async function poll() {
  clearTimeout(timer);
  if (inflight) {
    pollAgain = true;
    return;
  }
  inflight = true;
  const gen = choiceGen;
  try {
    const slices = await getJson('/api/leaderboard/slices');
    if (gen !== choiceGen) return;
    slicesData = slices;
    renderPicker();
    const data = await getJson(boardUrl());
    if (gen !== choiceGen) return;
    last = data;
    render(data); // and aria-busy off, unless a style-controlled fit is still under way
    renderSliceNote(data);
    // The matrices come from the background Bradley-Terry fit: fetch them again when it has
    // been redone (bt_updated_at has whole seconds, so the fitted values are compared too),
    // and every 20 s in any case.
    const fit = rows(data.models).concat(rows(data.provisional)).map((m) => [m.model, m.bt, m.ci_low, m.ci_high]);
    const mkey = JSON.stringify([matrixUrl(), data.votes, data.bt_updated_at, data.bt_fit, fit]);
    if (mkey !== matrixKey || !matrix || ++matrixAge >= 10) {
      const mx = await getJson(matrixUrl());
      if (gen !== choiceGen) return;
      matrix = mx;
      matrixKey = mkey;
      matrixAge = 0;
    }
    renderMatrix(matrix);
    await historyPoll(num(data.votes) ?? 0);
    setLive(true);
  } catch (e) {
    if (gen !== choiceGen) return;
    if (e.status >= 400 && e.status < 500) boardRefused(e);
    else setLive(false, `Could not load the leaderboard: ${e.message}`);
  } finally {
    inflight = false;
    if (pollAgain || gen !== choiceGen) {
      pollAgain = false;
      poll();
    } else if (!document.hidden) {
      timer = setTimeout(poll, POLL_MS);
    }
  }
}

for (const th of el.heads) {
  th.querySelector('button').addEventListener('click', () => onSortClick(th));
}

for (const b of el.viewButtons) {
  b.addEventListener('click', () => {
    pendingView = null;
    if (b.dataset.view === view) return;
    setView(b.dataset.view);
    if (last) render(last);
    if (view === 'judges') judgePoll(true);
  });
}

DARK.addEventListener('change', () => {
  matrixRendered = '';
  if (matrix) renderMatrix(matrix);
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) {
    poll();
    judgePoll();
  } else {
    clearTimeout(timer);
    clearTimeout(judgeTimer);
  }
});

for (const [box, dim] of [[el.langChips, 'language'], [el.catChips, 'category']]) {
  box.addEventListener('click', (ev) => {
    const b = ev.target.closest('button.chip');
    if (b && box.contains(b)) choose({ [dim]: b.dataset.value });
  });
  chipKeys(box);
}
el.styleSwitch.addEventListener('click', () => choose({ style: !choice.style, open: false }));
el.openWeights.addEventListener('change', () => choose({ open: el.openWeights.checked, style: false }));

// Back and forward: the URL is the choice.
window.addEventListener('popstate', () => {
  readChoice();
  choiceChanged();
});

// /leaderboard?sort=bt opens the table sorted by the Bradley-Terry rating; ?view=bench or
// ?view=judges with those columns shown (once there are any); ?language=ko&category=coding
// &style=control with that slice chosen.
const params = new URLSearchParams(window.location.search);
const initial = params.get('sort');
if (initial && SORT_KEYS.includes(initial)) {
  sort.key = initial;
  sort.dir = DEFAULT_DIR[initial] || -1;
}
if (VIEWS.includes(params.get('view')) && params.get('view') !== 'arena') pendingView = params.get('view');

readChoice();
choiceChanged();
judgePoll();

// ---------- your own votes (GET /api/leaderboard/mine) ----------
// A section of its own: the board of this session's own votes, hidden while it has none.

const OWN_POLL_MS = 15000;
let ownLast = '';

function renderOwnBoard(data) {
  const section = document.getElementById('own-section');
  const rows = document.getElementById('own-rows');
  const models = data && Array.isArray(data.models) ? data.models : [];
  const key = JSON.stringify(models);
  if (key === ownLast) return;
  ownLast = key;
  section.hidden = models.length === 0;
  rows.replaceChildren();
  models.forEach((m, i) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'own-row';
    tr.dataset.model = String(m.model);
    const cells = [
      ['num col-rank', String(i + 1)],
      ['col-model', String(m.model)],
      ['num col-elo', Number.isFinite(m.elo) ? String(Math.round(m.elo)) : '–'],
      ['num col-battles', String(m.battles)],
      ['num col-wlt', `${m.wins} / ${m.losses} / ${m.ties}`],
    ];
    for (const [cls, text] of cells) {
      const td = document.createElement('td');
      td.className = cls;
      td.textContent = text;
      if (cls === 'num col-elo' && Number.isFinite(m.elo)) td.title = m.elo.toFixed(2);
      tr.append(td);
    }
    rows.append(tr);
  });
  const note = document.getElementById('own-note');
  note.dataset.votes = String(data && Number.isInteger(data.votes) ? data.votes : 0);
}

async function ownBoardPoll() {
  try {
    renderOwnBoard(await getJson('/api/leaderboard/mine'));
  } catch { /* the main board says when the server is away */ }
  setTimeout(ownBoardPoll, OWN_POLL_MS);
}

ownBoardPoll();
