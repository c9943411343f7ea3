// Agon leaderboard page: polls /api/leaderboard every 2 s and renders a sortable table.
// Everything from the server is inserted as text.

const POLL_MS = 2000;
const SVG_NS = 'http://www.w3.org/2000/svg';

const byId = (id) => document.getElementById(id);
const el = {
  rows: byId('rows'),
  votes: byId('votes'),
  votesLabel: byId('votes-label'),
  updated: byId('updated'),
  live: byId('live'),
  empty: byId('empty'),
  error: byId('lb-error'),
  provNote: byId('prov-note'),
  heads: Array.from(document.querySelectorAll('#board th[data-key]')),
};

const sort = { key: 'rank', dir: 1 };
const DEFAULT_DIR = { rank: 1, model: 1, rank_ub: 1 }; // everything else sorts high → low first
let last = null; // last payload
let lastRendered = '';
const prevElo = new Map();
let timer = 0;
let inflight = false;

const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const winRate = (m) => (num(m.battles) > 0 && num(m.wins) !== null ? m.wins / m.battles : null);

function value(m, key) {
  if (key === 'winrate') return winRate(m);
  if (key === 'model') return String(m.model ?? '');
  return num(m[key]);
}

function compare(a, b) {
  const va = value(a, sort.key);
  const vb = value(b, sort.key);
  if (va === null || vb === null) {
    if (va === vb) return (num(a.rank) ?? 0) - (num(b.rank) ?? 0);
    return va === null ? 1 : -1; // missing values last
  }
  let c = typeof va === 'string' ? va.localeCompare(vb) : va - vb;
  if (c === 0) c = ((num(a.rank) ?? 0) - (num(b.rank) ?? 0)) * sort.dir;
  return c * sort.dir;
}

function td(cls, text) {
  const c = document.createElement('td');
  if (cls) c.className = cls;
  if (text !== undefined) c.textContent = text;
  return c;
}

function fmt(x, digits = 0) {
  return x === null ? '–' : x.toFixed(digits);
}

function ciCell(m, lo, hi) {
  const c = td('col-bt');
  const bt = num(m.bt);
  if (bt === null) {
    c.textContent = '–';
    return c;
  }
  const wrap = document.createElement('span');
  wrap.className = 'ci';
  const l = num(m.ci_low);
  const h = num(m.ci_high);
  if (l !== null && h !== null && hi > lo) {
    const W = 96;
    const x = (v) => (4 + ((v - lo) / (hi - lo)) * (W - 8)).toFixed(1);
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', W);
    svg.setAttribute('height', '12');
    svg.setAttribute('viewBox', `0 0 ${W} 12`);
    svg.setAttribute('aria-hidden', 'true');
    const line = (cls, x1, x2) => {
      const e = document.createElementNS(SVG_NS, 'line');
      e.setAttribute('class', cls);
      e.setAttribute('x1', x1);
      e.setAttribute('x2', x2);
      e.setAttribute('y1', '6');
      e.setAttribute('y2', '6');
      return e;
    };
    const dot = document.createElementNS(SVG_NS, 'circle');
    dot.setAttribute('class', 'ci-point');
    dot.setAttribute('cx', x(bt));
    dot.setAttribute('cy', '6');
    dot.setAttribute('r', '3.5');
    svg.append(line('ci-track', 2, W - 2), line('ci-range', x(l), x(h)), dot);
    wrap.append(svg);
  }
  const t = document.createElement('span');
  t.textContent = fmt(bt);
  wrap.append(t);
  if (l !== null && h !== null) {
    const s = document.createElement('span');
    s.className = 'sub';
    s.textContent = `${fmt(l)}–${fmt(h)}`;
    s.title = '95% confidence interval';
    wrap.append(s);
  }
  c.append(wrap);
  return c;
}

function render(data) {
  const models = Array.isArray(data.models) ? data.models.slice() : [];
  const votes = num(data.votes) ?? 0;
  el.votes.textContent = votes.toLocaleString();
  el.votesLabel.textContent = votes === 1 ? ' vote' : ' votes';
  if (data.updated_at) {
    const d = new Date(data.updated_at);
    el.updated.dateTime = data.updated_at;
    el.updated.textContent = Number.isNaN(d.getTime()) ? String(data.updated_at) : d.toLocaleTimeString();
    el.updated.title = Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
  }

  const hasBt = models.some((m) => num(m.bt) !== null);
  const hasUb = models.some((m) => num(m.rank_ub) !== null);
  const minBattles = num(data.min_battles);
  const provisional = (m) => m.provisional === true || (minBattles !== null && (num(m.battles) ?? 0) < minBattles);
  for (const th of el.heads) {
    if (th.dataset.key === 'bt') th.hidden = !hasBt;
    if (th.dataset.key === 'rank_ub') th.hidden = !hasUb;
    if (th.dataset.key === sort.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }

  const key = JSON.stringify([models, sort]);
  if (key === lastRendered) return;
  lastRendered = key;

  models.sort(compare);
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of models) {
    const l = num(m.ci_low);
    const h = num(m.ci_high);
    if (l !== null) lo = Math.min(lo, l);
    if (h !== null) hi = Math.max(hi, h);
  }

  const frag = document.createDocumentFragment();
  let anyProvisional = false;
  for (const m of models) {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'leaderboard-row';
    tr.dataset.model = String(m.model ?? '');
    const prov = provisional(m);
    if (prov) {
      tr.classList.add('provisional');
      anyProvisional = true;
    }
    const elo = num(m.elo);
    const before = prevElo.get(tr.dataset.model);
    if (before !== undefined && elo !== null && before !== elo) tr.classList.add('changed');
    if (elo !== null) prevElo.set(tr.dataset.model, elo);

    const rank = num(m.rank);
    const rc = td('num rank');
    if (rank !== null && rank >= 1 && rank <= 3) {
      const b = document.createElement('span');
      b.className = `medal medal-${rank}`;
      b.textContent = String(rank);
      rc.append(b);
    } else {
      rc.textContent = rank === null ? '–' : String(rank);
    }

    const mc = td('model', tr.dataset.model);
    if (prov) {
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = 'provisional';
      mc.append(tag);
    }

    const ec = td('num elo', fmt(elo));
    if (elo !== null) ec.title = elo.toFixed(2);

    const cells = [rc, mc, ec];
    if (hasBt) cells.push(ciCell(m, lo, hi));
    if (hasUb) cells.push(td('num col-ub', fmt(num(m.rank_ub))));
    cells.push(td('num col-battles', fmt(num(m.battles))));
    cells.push(td('num col-wlt', `${fmt(num(m.wins))} / ${fmt(num(m.losses))} / ${fmt(num(m.ties))}`));
    const wr = winRate(m);
    const wc = td('num', wr === null ? '–' : `${(wr * 100).toFixed(1)}%`);
    if (wr !== null) {
      const bar = document.createElement('span');
      bar.className = 'winbar';
      bar.setAttribute('aria-hidden', 'true');
      const fill = document.createElement('span');
      fill.style.width = `${(wr * 100).toFixed(1)}%`; // CSSOM, allowed under a strict CSP
      bar.append(fill);
      wc.append(bar);
    }
    cells.push(wc);
    tr.append(...cells);
    frag.append(tr);
  }
  el.rows.replaceChildren(frag);
  el.empty.hidden = models.length > 0;
  el.provNote.hidden = !anyProvisional;
}

function setLive(ok, message) {
  el.live.dataset.state = ok ? 'ok' : 'err';
  el.live.textContent = ok ? 'Live' : 'Offline, retrying…';
  el.error.hidden = ok;
  if (!ok) el.error.textContent = message;
}

async function poll() {
  clearTimeout(timer);
  if (inflight) return;
  inflight = true;
  try {
    const res = await fetch('/api/leaderboard', { cache: 'no-cache', headers: { Accept: 'application/json' } });
    let data = null;
    try { data = await res.json(); } catch { /* handled below */ }
    if (!res.ok || !data) {
      const msg = (data && data.error && data.error.message) || `HTTP ${res.status}`;
      throw new Error(msg);
    }
    last = data;
    render(data);
    setLive(true);
  } catch (e) {
    setLive(false, `Could not load the leaderboard: ${e.message}`);
  } finally {
    inflight = false;
    if (!document.hidden) timer = setTimeout(poll, POLL_MS);
  }
}

for (const th of el.heads) {
  th.querySelector('button').addEventListener('click', () => {
    const k = th.dataset.key;
    if (sort.key === k) sort.dir = -sort.dir;
    else {
      sort.key = k;
      sort.dir = DEFAULT_DIR[k] || -1;
    }
    if (last) render(last);
  });
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) poll();
  else clearTimeout(timer);
});

poll();
