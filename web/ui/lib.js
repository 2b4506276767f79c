// Helpers shared by the views: the API client, DOM building (text only,
// never HTML strings, so data cannot inject markup) and SVG charts.

export class AuthError extends Error {}

// api GETs (or sends) JSON. State-changing requests carry the CSRF header
// the server requires; the session cookie is sent by the browser.
export async function api(path, opts = {}) {
  const init = { method: opts.method || 'GET', headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (init.method !== 'GET') {
    init.headers['X-PacketSleuth-CSRF'] = '1';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body || {});
  }
  const res = await fetch(path, init);
  if (res.status === 401) throw new AuthError('authentication required');
  if (res.status === 204) return null;
  const body = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

// qs builds a query string from the non-empty values.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

// el creates an element: el('td', {class: 'num'}, 'text', child, ...).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function bytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n) || 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + u[i];
}

export function num(n) { return (Number(n) || 0).toLocaleString('en-US'); }

export function time(t) {
  if (!t) return '';
  const d = new Date(t);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function dur(sec) {
  sec = Number(sec) || 0;
  if (sec < 1) return (sec * 1000).toFixed(0) + ' ms';
  if (sec < 120) return sec.toFixed(1) + ' s';
  if (sec < 7200) return (sec / 60).toFixed(1) + ' min';
  return (sec / 3600).toFixed(1) + ' h';
}

// table builds a table from column specs {title, num, get(row) -> text|Node,
// sort(row) -> value, field}. A click on a column's title sorts the rows
// shown by it (by sort(row), else the cell's text; again: the other way).
// With server ({sort, order, set(field, order)}, a paged list) a click on
// a column with a field asks the server to sort the whole result instead.
export function table(id, cols, rows, empty = 'Nothing here.', server = null) {
  const sortable = c => server ? !!c.field : !!c.title;
  const head = el('tr', {}, cols.map(c => el('th', { class: c.num ? 'num' : null, title: sortable(c) ? 'sort by ' + c.title : null,
    'data-field': server && c.field ? c.field : null,
    'data-dir': server && c.field && server.sort === c.field ? server.order : null }, c.title)));
  const body = rows.map(r => el('tr', {}, cols.map(c => {
    const v = c.sort ? c.sort(r) : undefined;
    return el('td', { class: c.num ? 'num' : null, 'data-sort': v === undefined || v === null ? null : String(v) }, c.get(r));
  })));
  if (rows.length === 0) body.push(el('tr', {}, el('td', { colspan: cols.length, class: 'muted' }, empty)));
  const tbody = el('tbody', {}, body);
  const t = el('table', { id, class: 'sortable' }, el('thead', {}, head), tbody);
  if (server) {
    head.querySelectorAll('th').forEach((th, i) => {
      if (!cols[i].field) return;
      th.addEventListener('click', () => server.set(cols[i].field, th.dataset.dir === 'asc' ? 'desc' : 'asc'));
    });
  } else if (rows.length > 1) {
    head.querySelectorAll('th').forEach((th, i) => th.addEventListener('click', () => {
      const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
      head.querySelectorAll('th').forEach(x => delete x.dataset.dir);
      th.dataset.dir = dir;
      const key = tr => { const td = tr.children[i]; return td.dataset.sort !== undefined ? td.dataset.sort : td.textContent; };
      const trs = [...tbody.children].sort((a, b) => {
        const x = key(a), y = key(b);
        const nx = Number(x), ny = Number(y);
        const c = x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
        return dir === 'asc' ? c : -c;
      });
      tbody.replaceChildren(...trs);
    }));
  }
  return t;
}

// areaChart draws a time series as an area with its peaks marked. With
// onSelect, dragging across it selects a time range: onSelect(since, until).
export function areaChart(id, points, peaks, value, fmt, onSelect) {
  const W = 900, H = 220, L = 70, R = 10, T = 10, B = 28;
  const root = svg('svg', { id, viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': 'traffic over time' });
  if (points.length === 0) {
    root.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no traffic in this range'));
    return root;
  }
  const t0 = Date.parse(points[0].time), t1 = Date.parse(points[points.length - 1].time);
  const maxV = Math.max(1, ...points.map(value));
  const x = t => L + (t1 === t0 ? 0 : (t - t0) / (t1 - t0)) * (W - L - R);
  const y = v => H - B - (v / maxV) * (H - T - B);
  let d = `M${x(t0)},${y(0)}`;
  for (const p of points) d += ` L${x(Date.parse(p.time)).toFixed(1)},${y(value(p)).toFixed(1)}`;
  d += ` L${x(t1)},${y(0)} Z`;
  root.append(
    svg('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }),
    svg('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
    svg('text', { x: L - 6, y: T + 10, 'text-anchor': 'end' }, fmt(maxV)),
    svg('text', { x: L - 6, y: H - B, 'text-anchor': 'end' }, '0'),
    svg('text', { x: L, y: H - 8 }, time(points[0].time)),
    svg('text', { x: W - R, y: H - 8, 'text-anchor': 'end' }, time(points[points.length - 1].time)),
    svg('path', { class: 'area', d }),
  );
  if (onSelect && t1 > t0) dragSelect(root, W, L, R, T, H - B, px => t0 + (px - L) / (W - L - R) * (t1 - t0), onSelect);
  for (const pk of peaks) {
    const t = Date.parse(pk.time);
    root.append(svg('circle', { class: 'peak', cx: x(t).toFixed(1), cy: y(pk.value).toFixed(1), r: 5, 'data-time': pk.time },
      svg('title', {}, `peak ${time(pk.time)}: ${fmt(pk.value)} (baseline ${fmt(pk.baseline)})`)));
  }
  return root;
}

// dragSelect lets a drag across the plot (x from left to W-right) pick a
// time range; toTime maps a viewBox x to a time in ms.
function dragSelect(root, W, left, right, top, bottom, toTime, onSelect) {
  const sel = svg('rect', { class: 'selection', x: 0, y: top, width: 0, height: bottom - top, visibility: 'hidden' });
  root.append(sel);
  const toX = e => {
    const r = root.getBoundingClientRect();
    return Math.min(W - right, Math.max(left, (e.clientX - r.left) / r.width * W));
  };
  let x0 = null;
  root.addEventListener('mousedown', e => { x0 = toX(e); e.preventDefault(); });
  root.addEventListener('mousemove', e => {
    if (x0 === null) return;
    const x = toX(e);
    sel.setAttribute('x', Math.min(x0, x)); sel.setAttribute('width', Math.abs(x - x0)); sel.setAttribute('visibility', 'visible');
  });
  const end = e => {
    if (x0 === null) return;
    const x = toX(e);
    const a = Math.min(x0, x), b = Math.max(x0, x);
    x0 = null;
    sel.setAttribute('visibility', 'hidden');
    if (b - a >= 3) onSelect(new Date(toTime(a)).toISOString(), new Date(toTime(b)).toISOString());
  };
  root.addEventListener('mouseup', end);
  root.addEventListener('mouseleave', () => { x0 = null; sel.setAttribute('visibility', 'hidden'); });
}

// barChart draws labelled horizontal bars.
export function barChart(id, rows, fmt) {
  const W = 420, rowH = 24, L = 110, R = 80;
  const H = Math.max(rowH, rows.length * rowH) + 4;
  const root = svg('svg', { id, viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': 'protocol mix' });
  const maxV = Math.max(1, ...rows.map(r => r.value));
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    const w = Math.max(1, (r.value / maxV) * (W - L - R));
    root.append(
      svg('text', { x: L - 6, y: y + 15, 'text-anchor': 'end' }, r.label),
      svg('rect', { class: 'bar', x: L, y: y + 3, width: w.toFixed(1), height: rowH - 8, rx: 2, 'data-label': r.label, 'data-value': r.value }),
      svg('text', { x: L + w + 6, y: y + 15 }, fmt(r.value)),
    );
  });
  if (rows.length === 0) root.append(svg('text', { x: W / 2, y: 16, 'text-anchor': 'middle' }, 'no flows in this range'));
  return root;
}
