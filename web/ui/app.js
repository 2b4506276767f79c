// PacketSleuth web UI: a small single-page app over /api/v1 (hash routes,
// no framework, no build step). Every value from the API is inserted as
// text, never as HTML.
import { api, qs, el, table, areaChart, barChart, bytes, num, time, dur, AuthError } from './lib.js';

const main = document.getElementById('main');
let status = null;     // last /api/v1/status
let session = null;    // /api/v1/session: user, role (analyst or viewer), auth
let timer = null;      // polling timer of the current view
let viewSeq = 0;       // increments on every route change; stale renders stop

// range returns since/until for the selected range, relative to the newest
// stored record (history may be a replay of an old capture).
let custom = null;     // {since, until} picked by dragging on the traffic chart

// The sensor menu narrows every stored view to one sensor of the fleet
// (sensor= on the API); "all sensors" is the whole fleet.
function range() {
  const sel = document.getElementById('range').value;
  const sensor = document.getElementById('sensor').value;
  if (sel === 'custom' && custom) return { ...custom, sensor };
  const newest = status && status.store && status.store.newest;
  if (sel === 'all' || !newest) return { sensor };
  const until = new Date(Date.parse(newest) + 1000);
  const span = sel === '1h' ? 3600e3 : 86400e3;
  return { since: new Date(until - span).toISOString(), until: until.toISOString(), sensor };
}

// sensorName is who sent an event: the name its sensor column holds.
function sensorName(doc) {
  return evField(doc, 'observer.name') || evField(doc, 'observer.hostname') || evField(doc, 'agent.id') || '';
}

// fillSensors puts the fleet's sensors in the sensor menu (shown once there
// is one), keeping the choice.
function fillSensors(list) {
  const sel = document.getElementById('sensor');
  const keep = sel.value;
  const names = [...new Set(list.map(x => x.name))].filter(Boolean).sort();
  if (keep && !names.includes(keep)) names.push(keep);
  sel.replaceChildren(el('option', { value: '' }, 'all sensors'), ...names.map(n => el('option', { value: n }, n)));
  sel.value = keep;
  document.getElementById('sensor-label').hidden = names.length === 0;
}

// pickSensor narrows every view to one sensor and opens its dashboard.
function pickSensor(name) {
  document.getElementById('sensor').value = name;
  if (location.hash === '#/') route(); else location.hash = '#/';
}

// pickRange makes a dragged chart span the range of every view.
function pickRange(since, until) {
  custom = { since, until };
  const sel = document.getElementById('range');
  let opt = sel.querySelector('option[value="custom"]');
  if (!opt) { opt = el('option', { value: 'custom' }); sel.append(opt); }
  opt.textContent = `${time(since)} – ${time(until)}`;
  sel.value = 'custom';
  route();
}

function evField(doc, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), doc);
}

function flowLink(cid, text) {
  if (!cid) return text;
  return el('a', { class: 'flow-link', href: '#/flow/' + encodeURIComponent(cid) }, text);
}

// pcapLink downloads a flow's packets (analysts only: a viewer's request
// would be refused, so it gets no link). from/to narrow it to one
// connection when a 5-tuple was reused.
function pcapLink(cid, from, to) {
  if (!cid || (session && session.role === 'viewer')) return '';
  if (to) to = new Date(Date.parse(to) + 1).toISOString(); // stored times are to the millisecond
  const href = '/api/v1/flows/' + encodeURIComponent(cid) + '/pcap' + qs({ from, to });
  return el('a', { class: 'pcap-link', href, download: '' }, 'Download pcap');
}

// Values an analyst pivots on: a click lists every event holding them.
// Domains are one kind whatever field names them; hashes (JA3, JA4,
// HASSH, certificates) are found through related.hash too.
const DOMAIN_FIELDS = ['dns.question.name', 'url.domain', 'tls.client.server_name', 'destination.domain'];

function pivot(field, value) {
  if (value === undefined || value === null || value === '') return '';
  return el('a', { class: 'pivot', href: '#/pivot' + qs({ field, value: String(value) }), title: 'all events with this value' }, String(value));
}

function pivotWhere(field, value) {
  const v = JSON.stringify(value);
  if (DOMAIN_FIELDS.includes(field)) return DOMAIN_FIELDS.map(f => `${f} == ${v}`).join(' or ');
  if (/hash|ja3|ja4|hassh/.test(field)) return `${field} == ${v} or ${v} in related.hash`;
  return `${field} == ${v}`;
}

function endpoint(doc, side) {
  const ip = evField(doc, side + '.ip') || '';
  const port = evField(doc, side + '.port');
  return port ? (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`) : ip;
}

// hostOf is the name and MAC the DHCP lease table gave an endpoint
// (source.domain, source.mac), "" when it gave none.
function hostOf(doc, side) {
  const name = evField(doc, side + '.domain') || '';
  const mac = evField(doc, side + '.mac') || '';
  return name && mac ? `${name} (${mac})` : name || mac;
}

function sevClass(n) {
  if (n >= 99) return 'critical';
  if (n >= 73) return 'high';
  if (n >= 47) return 'medium';
  return 'low';
}

function card(id, label, value, text) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label),
    el('div', { class: 'value', id, 'data-value': value }, text));
}

// ---- views ----

async function dashboard(seq) {
  const r = range();
  const [talkers, protos, series, alerts] = await Promise.all([
    api('/api/v1/top' + qs({ ...r, group: 'source.ip', limit: 5 })),
    api('/api/v1/top' + qs({ ...r, group: 'network.protocol', limit: 8 })),
    api('/api/v1/series' + qs({ ...r, points: 240 })),
    api('/api/v1/alerts/summary' + qs(r)),
  ]);
  if (seq !== viewSeq) return;
  const alertTotal = alerts.rules.reduce((s, a) => s + a.count, 0);
  const unacked = alerts.rules.reduce((s, a) => s + a.unacknowledged, 0);
  const t = talkers.totals;
  main.replaceChildren(
    el('h1', {}, r.sensor ? 'Dashboard: sensor ' + r.sensor : 'Dashboard'),
    el('div', { class: 'cards' },
      card('total-bytes', 'Bytes', t.bytes, bytes(t.bytes)),
      card('total-packets', 'Packets', t.packets, num(t.packets)),
      card('total-flows', 'Flows', t.flows, num(t.flows)),
      card('alert-count', 'Alerts (unacknowledged)', alertTotal, `${num(alertTotal)} (${num(unacked)})`),
      card('peak-count', 'Traffic peaks', series.peaks.length, num(series.peaks.length)),
    ),
    el('div', { class: 'grid2' },
      el('div', {}, el('h2', {}, `Traffic over time (bytes per ${series.resolution} s, peaks in red)`),
        el('div', { class: 'panel' }, areaChart('traffic-chart', series.points, series.peaks, p => p.bytes, bytes, pickRange))),
      el('div', {}, el('h2', {}, 'Protocol mix (bytes)'),
        el('div', { class: 'panel' }, barChart('proto-chart',
          protos.rows.map(p => ({ label: p.key || '(unknown)', value: p.bytes })), bytes))),
    ),
    el('div', { class: 'grid2' },
      el('div', {}, el('h2', {}, 'Top talkers (source IP by bytes)'), el('div', { class: 'panel' },
        table('dash-talkers', [
          { title: 'Source IP', get: x => el('a', { href: '#/flows?ip=' + encodeURIComponent(x.key) }, x.key) },
          { title: 'Bytes', num: true, get: x => bytes(x.bytes) },
          { title: 'Packets', num: true, get: x => num(x.packets) },
          { title: 'Flows', num: true, get: x => num(x.flows) },
        ], talkers.rows))),
      el('div', {}, el('h2', {}, 'Alerts by rule'), el('div', { class: 'panel' },
        table('dash-alerts', [
          { title: 'Rule', get: a => el('a', { href: '#/alerts?rule=' + encodeURIComponent(a.rule_id) }, a.rule_name || a.rule_id) },
          { title: 'Severity', get: a => el('span', { class: 'sev-' + a.severity }, a.severity) },
          { title: 'Count', num: true, get: a => num(a.count) },
        ], alerts.rules, 'No alerts.'))),
    ),
  );
}

function hashParams() {
  const h = location.hash;
  const i = h.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : h.slice(i + 1));
}

function filterBar(fields, onApply) {
  const inputs = {};
  const form = el('form', { class: 'filters' }, fields.map(f => {
    const input = f.options
      ? el('select', { id: f.id }, f.options.map(o => el('option', { value: o[0], selected: o[0] === f.value }, o[1])))
      : el('input', { id: f.id, value: f.value || '', placeholder: f.placeholder || '', size: f.size || 14 });
    inputs[f.name] = input;
    return el('label', {}, f.label, input);
  }), el('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const v = {};
    for (const [k, i] of Object.entries(inputs)) v[k] = i.value.trim();
    onApply(v);
  });
  return form;
}

const connCols = [
  ['source', 'Source'], ['destination', 'Destination'], ['protocol', 'Protocol'],
  ['bytes', 'Bytes'], ['packets', 'Packets'], ['duration', 'Duration'], ['last', 'Last seen'],
];

async function connections(seq) {
  const p = hashParams();
  const f = { ip: p.get('ip') || '', port: p.get('port') || '', protocol: p.get('protocol') || '', sort: p.get('sort') || 'bytes' };
  const holder = el('div', { id: 'conn-holder' }, el('p', { class: 'muted' }, 'Loading…'));
  const asof = el('p', { class: 'muted', id: 'conn-asof' });
  main.replaceChildren(
    el('h1', {}, 'Live connections'),
    filterBar([
      { name: 'ip', id: 'conn-ip', label: 'IP or CIDR', value: f.ip },
      { name: 'port', id: 'conn-port', label: 'Port', value: f.port, size: 6 },
      { name: 'protocol', id: 'conn-proto', label: 'Protocol', value: f.protocol, size: 8 },
      { name: 'sort', id: 'conn-sort', label: 'Sort by', value: f.sort, options: connCols.map(c => [c[0], c[1]]) },
    ], v => { location.hash = '#/connections' + qs(v); }),
    asof, holder);
  const refresh = async () => {
    try {
      const res = await api('/api/v1/connections' + qs({ ...f, limit: 200 }));
      if (seq !== viewSeq) return;
      asof.textContent = `${num(res.total)} active connections, updated ${time(res.as_of)} (refreshes every 2 s)`;
      holder.replaceChildren(table('conn-table', [
        { title: 'Source', get: c => `${c.source_ip}:${c.source_port}` },
        { title: 'Destination', get: c => `${c.destination_ip}:${c.destination_port}` },
        { title: 'Protocol', get: c => c.protocol ? `${c.transport}/${c.protocol}` : c.transport },
        { title: 'Bytes', num: true, get: c => bytes(c.bytes) },
        { title: 'Packets', num: true, get: c => num(c.packets) },
        { title: 'Duration', num: true, get: c => dur(c.duration) },
        { title: 'State', get: c => c.state || '' },
        { title: 'Flow', get: c => flowLink(c.community_id, 'history') },
      ], res.items, 'No active connections match.'));
    } catch (e) {
      if (seq !== viewSeq) return;
      if (e instanceof AuthError) return showLogin();
      holder.replaceChildren(el('p', { class: 'muted' }, e.message));
    }
  };
  await refresh();
  if (seq === viewSeq) timer = setInterval(refresh, 2000);
}

// pagedList renders a paged list with back/next buttons: newest first by
// cursor, or, once a column is clicked, sorted by the server over the whole
// result and paged by offset. render(items, server) builds the table.
function pagedList(path, params, render) {
  const holder = el('div', { 'data-loads': '0' });
  const stack = [];
  let cursor = '', sort = '', order = '', offset = 0;
  const sorted = () => sort && sort !== '@timestamp';
  const failed = e => holder.replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
  const server = () => ({ sort, order, set: (f, o) => { sort = f; order = o; offset = 0; cursor = ''; stack.length = 0; load().catch(failed); } });
  const load = async () => {
    const res = await api(path + qs({ ...params, limit: 50, ...(sorted() ? { sort, order, offset } : { cursor, order }) }));
    const n = res.items.length;
    const hasNext = sorted() ? !!res.next_offset : !!res.next;
    const prev = el('button', { type: 'button', id: 'page-prev', disabled: sorted() ? offset === 0 : stack.length === 0 }, sorted() ? '← Previous' : '← Newer');
    const next = el('button', { type: 'button', id: 'page-next', disabled: !hasNext }, sorted() ? 'Next →' : 'Older →');
    prev.addEventListener('click', () => { if (sorted()) offset = Math.max(0, offset - 50); else cursor = stack.pop() || ''; load().catch(failed); });
    next.addEventListener('click', () => { if (sorted()) offset = res.next_offset; else { stack.push(cursor); cursor = res.next; } load().catch(failed); });
    const said = sorted() ? `rows ${n ? offset + 1 : 0}–${offset + n} of ${res.total}${res.truncated ? ' (first 50000 read)' : ''}, sorted by ${sort}`
      : `page ${stack.length + 1}, ${n} rows`;
    holder.replaceChildren(render(res.items, server()), el('div', { class: 'pager' }, prev, next, el('span', { class: 'muted', id: 'page-said' }, said)));
    holder.dataset.loads = String(Number(holder.dataset.loads) + 1);
  };
  return { holder, load };
}

async function flows() {
  const p = hashParams();
  const f = { ip: p.get('ip') || '', port: p.get('port') || '', protocol: p.get('protocol') || '' };
  const list = pagedList('/api/v1/flows', { ...range(), ...f }, (items, server) => table('flows-table', [
    { title: 'Ended', field: '@timestamp', get: i => time(i.time) },
    { title: 'Sensor', get: i => sensorName(i.event) },
    { title: 'Source', field: 'source.ip', get: i => endpoint(i.event, 'source') },
    { title: 'Source host', get: i => hostOf(i.event, 'source') },
    { title: 'Destination', field: 'destination.ip', get: i => endpoint(i.event, 'destination') },
    { title: 'Destination host', get: i => hostOf(i.event, 'destination') },
    { title: 'Protocol', field: 'network.transport', get: i => [evField(i.event, 'network.transport'), evField(i.event, 'network.protocol')].filter(Boolean).join('/') },
    { title: 'Bytes', field: 'network.bytes', num: true, get: i => bytes(evField(i.event, 'network.bytes')) },
    { title: 'Packets', field: 'network.packets', num: true, get: i => num(evField(i.event, 'network.packets')) },
    { title: 'Duration', field: 'event.duration', num: true, get: i => dur((evField(i.event, 'event.duration') || 0) / 1e9) },
    { title: 'State', field: 'packetsleuth.flow.state', get: i => evField(i.event, 'packetsleuth.flow.state') || '' },
    { title: '', get: i => flowLink(evField(i.event, 'network.community_id'), 'details') },
    { title: '', get: i => pcapLink(evField(i.event, 'network.community_id'), evField(i.event, 'event.start'), i.time) },
  ], items, 'No flows match.', server));
  main.replaceChildren(el('h1', {}, 'Flows'),
    filterBar([
      { name: 'ip', id: 'flows-ip', label: 'IP', value: f.ip },
      { name: 'port', id: 'flows-port', label: 'Port', value: f.port, size: 6 },
      { name: 'protocol', id: 'flows-proto', label: 'Protocol', value: f.protocol, size: 8 },
    ], v => { location.hash = '#/flows' + qs(v); }),
    list.holder);
  await list.load();
}

async function flowDetail(seq, cid) {
  const q = { community_id: cid, order: 'asc', limit: 200 };
  const [fl, dns, http, tls, alerts] = await Promise.all([
    api('/api/v1/flows' + qs(q)),
    api('/api/v1/events' + qs({ ...q, dataset: 'dns' })),
    api('/api/v1/events' + qs({ ...q, dataset: 'http' })),
    api('/api/v1/events' + qs({ ...q, dataset: 'tls' })),
    api('/api/v1/alerts' + qs(q)),
  ]);
  if (seq !== viewSeq) return;
  const first = fl.items[0] && fl.items[0].event;
  main.replaceChildren(...[ // the parts that are null are left out (replaceChildren would write "null")
    el('h1', {}, 'Flow ', el('code', { id: 'flow-cid' }, cid), ' ', pcapLink(cid)),
    first ? el('p', {}, `${endpoint(first, 'source')} → ${endpoint(first, 'destination')} `,
      el('span', { class: 'muted' }, [evField(first, 'network.transport'), evField(first, 'network.protocol')].filter(Boolean).join('/'))) : null,
    el('h2', {}, `Connection records (${fl.items.length})`),
    table('flow-flows', [
      { title: 'Start', get: i => time(evField(i.event, 'event.start')) },
      { title: 'End', get: i => time(i.time) },
      { title: 'Bytes', num: true, get: i => bytes(evField(i.event, 'network.bytes')) },
      { title: 'Packets', num: true, get: i => num(evField(i.event, 'network.packets')) },
      { title: 'State', get: i => evField(i.event, 'packetsleuth.flow.state') || '' },
      { title: 'History', get: i => evField(i.event, 'packetsleuth.flow.history') || '' },
      { title: '', get: i => pcapLink(cid, evField(i.event, 'event.start'), i.time) },
    ], fl.items, 'No ended flow with this Community ID is stored (yet).'),
    el('h2', {}, `DNS (${dns.items.length})`),
    table('flow-dns', [
      { title: 'Time', get: i => time(i.time) },
      { title: 'Query', get: i => evField(i.event, 'dns.question.name') || '' },
      { title: 'Type', get: i => evField(i.event, 'dns.question.type') || '' },
      { title: 'Response', get: i => evField(i.event, 'dns.response_code') || '' },
      { title: 'Answers', get: i => (evField(i.event, 'dns.resolved_ip') || []).join(', ') },
    ], dns.items, 'No DNS events.'),
    el('h2', {}, `HTTP (${http.items.length})`),
    table('flow-http', [
      { title: 'Time', get: i => time(i.time) },
      { title: 'Method', get: i => evField(i.event, 'http.request.method') || '' },
      { title: 'Host', get: i => evField(i.event, 'url.domain') || '' },
      { title: 'URL', get: i => evField(i.event, 'url.original') || '' },
      { title: 'Status', get: i => evField(i.event, 'http.response.status_code') || '' },
      { title: 'User agent', get: i => evField(i.event, 'user_agent.original') || '' },
    ], http.items, 'No HTTP events.'),
    el('h2', {}, `TLS (${tls.items.length})`),
    table('flow-tls', [
      { title: 'Time', get: i => time(i.time) },
      { title: 'Server name', get: i => evField(i.event, 'tls.client.server_name') || '' },
      { title: 'Version', get: i => evField(i.event, 'tls.version') || '' },
      { title: 'Cipher', get: i => evField(i.event, 'tls.cipher') || '' },
      { title: 'JA3', get: i => evField(i.event, 'tls.client.ja3') || '' },
      { title: 'JA4', get: i => evField(i.event, 'packetsleuth.tls.ja4') || '' },
    ], tls.items, 'No TLS events.'),
    el('h2', {}, `Alerts (${alerts.items.length})`),
    alertTable(alerts.items),
    first ? el('details', {}, el('summary', {}, 'ECS document of the connection'), el('pre', {}, JSON.stringify(first, null, 2))) : null,
  ].filter(Boolean));
}

// why shows what an alert says about itself: its rule's output template
// (message), the alternatives of the condition that held, the values a
// threshold counted. All of it is captured data: text nodes only.
function why(ev) {
  const matched = evField(ev, 'packetsleuth.alert.matched') || [];
  const members = evField(ev, 'packetsleuth.alert.members') || [];
  const count = evField(ev, 'packetsleuth.alert.count');
  const more = [];
  if (matched.length) more.push(el('div', {}, 'matched: ', matched.join(' | ')));
  if (members.length) more.push(el('div', {}, `counted (${count || members.length}): `, members.join(', ')));
  return el('span', { class: 'why' }, evField(ev, 'message') || '',
    more.length ? el('details', {}, el('summary', {}, 'details'), more) : null);
}

function alertTable(items, server) {
  return table('alerts-table', [
    { title: 'Time', field: '@timestamp', get: i => time(i.time) },
    { title: 'Sensor', get: i => sensorName(i.event) },
    { title: 'Severity', field: 'event.severity', get: i => { const n = evField(i.event, 'event.severity') || 0; return el('span', { class: 'sev-' + sevClass(n) }, sevClass(n)); } },
    { title: 'Rule', field: 'rule.id', get: i => evField(i.event, 'rule.name') || evField(i.event, 'rule.id') || '' },
    { title: 'Why', get: i => why(i.event) },
    { title: 'Source', field: 'source.ip', get: i => endpoint(i.event, 'source') },
    { title: 'Destination', field: 'destination.ip', get: i => endpoint(i.event, 'destination') },
    { title: 'Flow', get: i => flowLink(evField(i.event, 'network.community_id'), 'details') },
    { title: 'Packets', get: i => pcapLink(evField(i.event, 'network.community_id')) },
    { title: 'Acknowledged', get: i => {
      const label = el('span', { class: i.acknowledged ? 'ok' : 'muted' }, i.acknowledged ? 'yes ' : 'no ');
      if (session && session.role === 'viewer') return label; // viewers may not change anything
      const b = el('button', { type: 'button', class: 'ack', 'data-id': i.id }, i.acknowledged ? 'Unacknowledge' : 'Acknowledge');
      b.addEventListener('click', async () => {
        try {
          const res = await api(`/api/v1/alerts/${i.id}/acknowledge`, { method: 'POST', body: { acknowledged: !i.acknowledged } });
          i.acknowledged = res.acknowledged;
          label.textContent = i.acknowledged ? 'yes ' : 'no ';
          label.className = i.acknowledged ? 'ok' : 'muted';
          b.textContent = i.acknowledged ? 'Unacknowledge' : 'Acknowledge';
        } catch (e) { b.textContent = 'failed: ' + e.message; }
      });
      return el('span', {}, label, b);
    } },
  ], items, 'No alerts match.', server);
}

async function alerts() {
  const p = hashParams();
  const f = { severity: p.get('severity') || '', rule: p.get('rule') || '', unacked: p.get('unacked') || '', ip: p.get('ip') || '' };
  const list = pagedList('/api/v1/alerts', { ...range(), ...f }, alertTable);
  main.replaceChildren(el('h1', {}, 'Alerts'),
    filterBar([
      { name: 'severity', id: 'alerts-severity', label: 'Severity at least', value: f.severity,
        options: [['', 'any'], ['low', 'low'], ['medium', 'medium'], ['high', 'high'], ['critical', 'critical']] },
      { name: 'rule', id: 'alerts-rule', label: 'Rule id', value: f.rule, size: 24 },
      { name: 'ip', id: 'alerts-ip', label: 'IP', value: f.ip },
      { name: 'unacked', id: 'alerts-unacked', label: 'Show', value: f.unacked, options: [['', 'all'], ['true', 'unacknowledged only']] },
    ], v => { location.hash = '#/alerts' + qs(v); }),
    list.holder);
  await list.load();
}

async function talkers(seq) {
  const p = hashParams();
  const f = { group: p.get('group') || 'source.ip', by: p.get('by') || 'bytes' };
  f.sensor = range().sensor;
  const res = await api('/api/v1/top' + qs({ ...range(), ...f, limit: 25 }));
  if (seq !== viewSeq) return;
  const share = x => res.totals[f.by] ? (100 * x[f.by] / res.totals[f.by]).toFixed(1) + ' %' : '';
  main.replaceChildren(el('h1', {}, 'Top talkers' + (f.sensor ? ' of sensor ' + f.sensor : '')),
    filterBar([
      { name: 'group', id: 'talkers-group', label: 'Group by', value: f.group, options: [
        ['source.ip', 'source IP'], ['destination.ip', 'destination IP'], ['destination.port', 'destination port'],
        ['network.protocol', 'protocol'], ['network.transport', 'transport'], ['source.geo.country_iso_code', 'source country']] },
      { name: 'by', id: 'talkers-by', label: 'Rank by', value: f.by, options: [['bytes', 'bytes'], ['packets', 'packets'], ['flows', 'flows']] },
    ], v => { location.hash = '#/talkers' + qs(v); }),
    el('div', { class: 'panel' }, table('talkers-table', [
      { title: f.group, get: x => x.key || '(none)' },
      { title: 'Bytes', num: true, get: x => bytes(x.bytes) },
      { title: 'Packets', num: true, get: x => num(x.packets) },
      { title: 'Flows', num: true, get: x => num(x.flows) },
      { title: 'Share', num: true, get: share },
    ], res.rows)));
}

async function rulesView(seq) {
  const res = await api('/api/v1/rules');
  if (seq !== viewSeq) return;
  main.replaceChildren(el('h1', {}, `Rules (${res.rules.length})`), el('div', { class: 'panel' }, table('rules-table', [
    { title: 'Id', get: r => r.id },
    { title: 'Name', get: r => r.name },
    { title: 'Severity', get: r => el('span', { class: 'sev-' + r.severity }, r.severity) },
    { title: 'Enabled', get: r => r.enabled ? 'yes' : 'no' },
    { title: 'Ruleset', get: r => r.ruleset || '' },
    { title: 'ATT&CK', get: r => (r.techniques || []).join(', ') },
    { title: 'Threshold', get: r => r.threshold || '' },
  ], res.rules, 'No rules loaded.')));
}

async function statusView(seq) {
  const s = await api('/api/v1/status');
  if (seq !== viewSeq) return;
  status = s;
  const st = s.store;
  main.replaceChildren(el('h1', {}, 'Sensor status'),
    el('div', { class: 'cards' },
      card('st-mode', 'Mode', s.mode, s.mode),
      card('st-version', 'Version', s.version, s.version || '?'),
      card('st-uptime', 'Uptime', s.uptime, dur(s.uptime)),
      card('st-rules', 'Rules', s.rules, num(s.rules)),
      s.pipeline ? card('st-frames', 'Frames', s.pipeline.frames, num(s.pipeline.frames)) : null,
      s.pipeline ? card('st-active', 'Active flows', s.pipeline.flows_active, num(s.pipeline.flows_active)) : null,
    ),
    el('h2', {}, 'History store'),
    st ? el('p', {}, `${st.driver}, schema ${st.schema_version}, `, st.oldest ? `${time(st.oldest)} … ${time(st.newest)}` : 'empty',
      st.error ? el('span', { class: 'error' }, ' ' + st.error) : null) : el('p', { class: 'muted' }, 'none'),
    el('h2', {}, 'Capture interfaces'),
    table('st-interfaces', [
      { title: 'Interface', get: i => i.name },
      { title: 'Packets', num: true, get: i => num(i.packets) },
      { title: 'Bytes', num: true, get: i => bytes(i.bytes) },
      { title: 'Kernel drops', num: true, get: i => num(i.kernel_drops) },
      { title: 'Interface drops', num: true, get: i => num(i.interface_drops) },
      { title: 'Sensor drops', num: true, get: i => num(i.sensor_drops) },
    ], s.interfaces, 'No live capture.'),
    el('h2', {}, 'Outputs'),
    table('st-outputs', [
      { title: 'Output', get: o => `${o.name} (${o.type})` },
      { title: 'Health', get: o => el('span', { class: o.healthy ? 'ok' : 'error' }, o.healthy ? 'healthy' : 'failing') },
      { title: 'Sent', num: true, get: o => num(o.sent) },
      { title: 'Queued', num: true, get: o => num(o.queue_len) },
      { title: 'Spooled', num: true, get: o => num(o.spool_records) },
      { title: 'Dropped', num: true, get: o => num(o.dropped) },
      { title: 'Last error', get: o => o.last_error || '' },
    ], s.outputs, 'No outputs in this process.'),
  );
}

// sensorsView lists the fleet: the server marks stale the sensors whose
// newest report is older than stale_after_seconds; a name opens the
// dashboard narrowed to that sensor.
async function sensorsView(seq) {
  const refresh = async () => {
    const res = await api('/api/v1/sensors');
    if (seq !== viewSeq) return;
    fillSensors(res.sensors);
    const stale = res.sensors.filter(x => x.stale).length;
    main.replaceChildren(el('h1', {}, `Sensors (${res.sensors.length})`),
      el('p', { class: 'muted' }, `A sensor is stale when its newest heartbeat (stats report) is older than three of its report intervals, at least ${dur(res.stale_after_seconds)}. `,
        `Collector lag: from the heartbeat's time to its arrival in the store. `,
        `Rules & intel: the fleet set in force (start of its SHA-256; "local" without fleet configuration); hover a refusal for its reason. `, stale ? el('span', { class: 'error', id: 'stale-count' }, `${stale} stale`) : null),
      el('div', { class: 'panel' }, table('sensors-table', [
        { title: 'Name', get: x => el('a', { href: '#/', class: 'sensor-link', onclick: e => { e.preventDefault(); pickSensor(x.name); } }, x.name) },
        { title: 'Site', get: x => x.site || '' },
        { title: 'Version', get: x => x.version || '' },
        { title: 'Last heartbeat', get: x => time(x.last_seen) },
        { title: 'State', get: x => el('span', { class: x.stale ? 'error stale' : 'ok', title: `stale after ${dur(x.stale_after_seconds)} without a report` }, x.stale ? 'stale' : 'reporting') },
        { title: 'Packets', num: true, get: x => num(x.packets) },
        { title: 'Drops', num: true, get: x => num(x.drops) },
        { title: 'Output drops', num: true, get: x => num(x.output_drops) },
        { title: 'Collector lag', num: true, get: x => dur(x.lag_seconds) },
        { title: 'Uptime', num: true, get: x => dur(x.uptime_seconds) },
        { title: 'Rules & intel', get: x => x.config_error
          ? el('span', { class: 'error config-error', title: x.config_error }, `${(x.config_version || 'local').slice(0, 12)}, refused the latest set`)
          : (x.config_version || 'local').slice(0, 12) },
      ], res.sensors, 'No sensor has reported yet (the store keeps their packetsleuth.stats events).')));
  };
  await refresh();
  if (seq === viewSeq) timer = setInterval(() => refresh().catch(() => {}), 10000);
}

// hostsView lists the DHCP leases (IP → MAC → host name) the sensors
// learnt, newest first; an address opens its flows.
async function hostsView(seq) {
  const p = hashParams();
  const f = { q: p.get('q') || '', active: p.get('active') || '' };
  const res = await api('/api/v1/hosts' + qs({ ...f, sensor: range().sensor }));
  if (seq !== viewSeq) return;
  const state = x => x.active ? 'active' : x.ended_by || 'expired';
  main.replaceChildren(el('h1', {}, `Hosts (${res.hosts.length})`),
    el('p', { class: 'muted' }, 'Addresses leased by DHCP (DHCPv4 ACK, DHCPv6 REPLY): events of a leased address carry its name and MAC while the lease lasts.'),
    filterBar([
      { name: 'q', id: 'hosts-q', label: 'Address, MAC or name', value: f.q },
      { name: 'active', id: 'hosts-active', label: 'Leases', value: f.active, options: [['', 'all'], ['true', 'active only']] },
    ], v => { location.hash = '#/hosts' + qs(v); }),
    el('div', { class: 'panel' }, table('hosts-table', [
      { title: 'Address', get: x => el('a', { href: '#/flows?ip=' + encodeURIComponent(x.ip) }, x.ip) },
      { title: 'Host name', get: x => x.hostname || '' },
      { title: 'MAC', get: x => x.mac || '' },
      { title: 'Protocol', get: x => x.protocol },
      { title: 'Sensor', get: x => x.sensor },
      { title: 'Leased', get: x => time(x.lease_start) },
      { title: 'Until', get: x => x.lease_end ? time(x.lease_end) : 'infinite' },
      { title: 'State', get: x => el('span', { class: x.active ? 'ok' : 'muted' }, state(x)) },
    ], res.hosts, 'No DHCP lease seen yet.')));
}

async function auditView() {
  const list = pagedList('/api/v1/audit', {}, items => table('audit-table', [
    { title: 'Time', get: e => time(e.time) },
    { title: 'Action', get: e => e.action },
    { title: 'User', get: e => e.user },
    { title: 'Role', get: e => e.role || '' },
    { title: 'Client', get: e => e.client },
    { title: 'Target', get: e => e.target || '' },
  ], items, 'Nothing audited yet.'));
  main.replaceChildren(el('h1', {}, 'Audit trail'), list.holder);
  await list.load();
}


// ---- event views: one per dataset, the same expression language as the
// rules and `sensor export --where` ----

const ipCell = side => ({ title: side === 'source' ? 'Source' : 'Destination', get: i => {
  const ip = evField(i.event, side + '.ip');
  const port = evField(i.event, side + '.port');
  return ip ? el('span', {}, pivot(side + '.ip', ip), port ? ':' + port : '') : '';
}, sort: i => evField(i.event, side + '.ip') || '', field: side + '.ip' });
const fieldCol = (title, path, pivotable) => ({ title, get: i => {
  const v = evField(i.event, path);
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return pivotable ? el('span', {}, v.flatMap((x, k) => [k ? ', ' : '', pivot(path, x)])) : v.join(', ');
  return pivotable ? pivot(path, v) : (typeof v === 'object' ? JSON.stringify(v) : String(v));
}, sort: i => { const v = evField(i.event, path); return v === undefined || v === null ? '' : String(v); }, field: path });
const timeCol = { title: 'Time', get: i => time(i.time), sort: i => i.time, field: '@timestamp' };
const flowCol = { title: '', get: i => flowLink(evField(i.event, 'network.community_id'), 'flow') };

const DATASET_COLUMNS = {
  dns: [timeCol, ipCell('source'), ipCell('destination'), fieldCol('Query', 'dns.question.name', true), fieldCol('Type', 'dns.question.type'),
    fieldCol('Response', 'dns.response_code'), fieldCol('Answers', 'dns.resolved_ip', true), flowCol],
  http: [timeCol, ipCell('source'), ipCell('destination'), fieldCol('Method', 'http.request.method'), fieldCol('Host', 'url.domain', true),
    fieldCol('URL', 'url.original'), fieldCol('Status', 'http.response.status_code'), fieldCol('User agent', 'user_agent.original'), flowCol],
  tls: [timeCol, ipCell('source'), ipCell('destination'), fieldCol('Server name', 'tls.client.server_name', true), fieldCol('Version', 'tls.version'),
    fieldCol('JA3', 'tls.client.ja3', true), fieldCol('JA4', 'packetsleuth.tls.ja4', true), fieldCol('JA3S', 'tls.server.ja3s', true),
    fieldCol('Certificate SHA-1', 'tls.server.hash.sha1', true), flowCol],
  smb: [timeCol, ipCell('source'), ipCell('destination'), fieldCol('Action', 'packetsleuth.smb.action'), fieldCol('Dialect', 'packetsleuth.smb.dialect'),
    fieldCol('User', 'user.name', true), fieldCol('Domain', 'user.domain', true), fieldCol('Kerberos service', 'packetsleuth.smb.kerberos.service', true),
    fieldCol('Share', 'packetsleuth.smb.share'), fieldCol('File', 'file.path'), fieldCol('Pipe', 'packetsleuth.smb.pipe'),
    fieldCol('NTLM', 'packetsleuth.ntlm.version'), fieldCol('Status', 'packetsleuth.smb.status_name'), flowCol],
  kerberos: [timeCol, ipCell('source'), ipCell('destination'), fieldCol('Request', 'packetsleuth.kerberos.request'), fieldCol('Answer', 'packetsleuth.kerberos.response'),
    fieldCol('Client', 'packetsleuth.kerberos.client', true), fieldCol('Service', 'packetsleuth.kerberos.service', true),
    fieldCol('Ticket cipher', 'packetsleuth.kerberos.ticket_cipher'), fieldCol('Error', 'packetsleuth.kerberos.error_name'), fieldCol('Pre-auth', 'packetsleuth.kerberos.preauth'), flowCol],
  dcerpc: [timeCol, ipCell('source'), ipCell('destination'), fieldCol('Kind', 'packetsleuth.dcerpc.kind'), fieldCol('Interface', 'packetsleuth.dcerpc.interface.name', true),
    fieldCol('Operation', 'packetsleuth.dcerpc.operation', true), fieldCol('Pipe', 'packetsleuth.dcerpc.pipe'), fieldCol('User', 'user.name', true),
    fieldCol('Auth', 'packetsleuth.dcerpc.auth_type'), fieldCol('Outcome', 'event.outcome'), flowCol],
};

// genericColumns shows a dataset no view was written for: time, the
// endpoints and the first fields of its own namespace in the rows shown.
function genericColumns(dataset, items) {
  const short = dataset.replace(/^packetsleuth\./, '');
  const prefixes = [short + '.', 'packetsleuth.' + short + '.'];
  const keys = [];
  const walk = (o, path) => {
    for (const [k, v] of Object.entries(o || {})) {
      const p = path ? path + '.' + k : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, p);
      else if (prefixes.some(x => p.startsWith(x)) && !keys.includes(p)) keys.push(p);
    }
  };
  items.slice(0, 50).forEach(i => walk(i.event, ''));
  return [timeCol, ipCell('source'), ipCell('destination'),
    ...keys.slice(0, 8).map(k => fieldCol(k.slice(k.lastIndexOf(short + '.') + short.length + 1), k, /hash|ja3|ja4|domain|name$/.test(k))), flowCol];
}

function listPath(dataset) {
  if (dataset === 'flow') return ['/api/v1/flows', {}];
  if (dataset === 'alert') return ['/api/v1/alerts', {}];
  return ['/api/v1/events', { dataset }];
}

// whereBar is the expression input; its errors are shown under it.
function whereBar(id, value, onApply) {
  const input = el('input', { id, value, size: 70, spellcheck: 'false', placeholder: 'e.g. destination.port == 443 and source.ip startsWith "10."' });
  const form = el('form', { class: 'filters where' }, el('label', {}, 'Where', input), el('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', e => { e.preventDefault(); onApply(input.value.trim()); });
  return form;
}

// savedBar lists the user's saved searches (a choice opens one) and, for
// analysts, saves the current view and query under a name.
async function savedBar(view, query) {
  const res = await api('/api/v1/searches').catch(() => ({ items: [] }));
  const pick = el('select', { id: 'saved-pick' }, el('option', { value: '' }, 'Saved searches…'),
    res.items.map(s => el('option', { value: '#/' + s.view + (s.query ? '?' + s.query : '') }, s.name)));
  pick.addEventListener('change', () => { if (pick.value) location.hash = pick.value; });
  const bar = el('form', { class: 'filters saved' }, pick);
  if (!session || session.role !== 'viewer') {
    const name = el('input', { id: 'save-name', placeholder: 'name', size: 16 });
    const said = el('span', { id: 'save-said', class: 'muted' });
    bar.append(name, el('button', { type: 'submit', id: 'save-search' }, 'Save search'), said);
    bar.addEventListener('submit', async e => {
      e.preventDefault();
      try {
        const s = await api('/api/v1/searches', { method: 'POST', body: { name: name.value.trim(), view, query } });
        said.textContent = 'saved as ' + s.name;
        pick.append(el('option', { value: '#/' + s.view + (s.query ? '?' + s.query : '') }, s.name));
      } catch (err) { said.textContent = 'not saved: ' + err.message; }
    });
  }
  return bar;
}

async function eventsView(seq, dataset) {
  const p = hashParams();
  const where = p.get('where') || '';
  const err = el('p', { id: 'where-error', class: 'error', role: 'alert' });
  const [path, extra] = listPath(dataset);
  const list = pagedList(path, { ...range(), ...extra, where }, (items, server) =>
    table('events-table', DATASET_COLUMNS[dataset] || genericColumns(dataset, items), items, 'No events match.', server));
  const saved = await savedBar('events/' + dataset, qs({ where }).slice(1));
  if (seq !== viewSeq) return;
  main.replaceChildren(el('h1', {}, dataset.toUpperCase() + ' events'), saved,
    whereBar('where-input', where, w => { location.hash = '#/events/' + encodeURIComponent(dataset) + qs({ where: w }); }),
    err, list.holder);
  try {
    await list.load();
  } catch (e) {
    if (e instanceof AuthError) throw e;
    err.textContent = e.message; // a bad expression: said where it is typed
  }
}

// pivotView lists every stored event, of every dataset, holding a value.
async function pivotView(seq) {
  const p = hashParams();
  const field = p.get('field') || '', value = p.get('value') || '';
  const isIP = /(^|\.)ip$|resolved_ip$/.test(field) && !field.startsWith('dns.resolved');
  const where = isIP ? '' : pivotWhere(field, value);
  const sets = ['alert', 'flow', 'dns', 'http', 'tls', 'smb', 'kerberos', 'dcerpc'];
  const answers = await Promise.all(sets.map(ds => {
    const [path, extra] = listPath(ds);
    return api(path + qs({ ...range(), ...extra, limit: 100, ip: isIP ? value : '', where })).catch(e => ({ error: e.message, items: [] }));
  }));
  if (seq !== viewSeq) return;
  const parts = [el('h1', {}, 'Everything with ', el('code', { id: 'pivot-value' }, value)),
    el('p', { class: 'muted' }, isIP ? `source or destination IP ${value}` : where)];
  sets.forEach((ds, k) => {
    const a = answers[k];
    const cols = ds === 'flow' ? [timeCol, ipCell('source'), ipCell('destination'), fieldCol('Protocol', 'network.protocol'),
      { title: 'Bytes', num: true, get: i => bytes(evField(i.event, 'network.bytes')), sort: i => evField(i.event, 'network.bytes') || 0 }, flowCol]
      : ds === 'alert' ? [timeCol, fieldCol('Rule', 'rule.name'), ipCell('source'), ipCell('destination'), flowCol]
        : DATASET_COLUMNS[ds];
    parts.push(el('h2', {}, `${ds.toUpperCase()} (${a.items.length}${a.next ? '+' : ''})`),
      a.error ? el('p', { class: 'error' }, a.error) : table('pivot-' + ds, cols, a.items, 'None.'));
  });
  main.replaceChildren(...parts);
}

// filesView lists the extracted files (files.store); analysts get a
// download link: the file inside a zip protected by the password
// "infected", audit-logged by the server.
async function filesView(seq) {
  const p = hashParams();
  const f = { name: p.get('name') || '', sha256: p.get('sha256') || '', rule: p.get('rule') || '', executable: p.get('executable') || '' };
  let res;
  try {
    res = await api('/api/v1/files' + qs({ ...f, limit: 200 }));
  } catch (e) {
    if (e instanceof AuthError) throw e;
    if (seq === viewSeq) main.replaceChildren(el('h1', {}, 'Files'), el('p', { class: 'muted', id: 'files-none' }, e.message));
    return;
  }
  if (seq !== viewSeq) return;
  const analyst = session && session.role === 'analyst';
  main.replaceChildren(
    el('h1', {}, `Extracted files (${res.total})`),
    filterBar([
      { name: 'name', id: 'files-name', label: 'Name', value: f.name },
      { name: 'sha256', id: 'files-sha256', label: 'SHA-256', value: f.sha256, size: 30 },
      { name: 'rule', id: 'files-rule', label: 'Rule', value: f.rule },
      { name: 'executable', id: 'files-exe', label: 'Executable', value: f.executable,
        options: [['', 'any'], ['pe', 'PE'], ['elf', 'ELF'], ['macho', 'Mach-O'], ['script', 'script']] },
    ], v => { location.hash = '#/files' + qs(v); }),
    el('p', { class: 'muted' }, 'Downloads are zip files protected by the password "infected"; each download is audited.'),
    el('div', { class: 'panel' }, table('files-table', [
      { title: 'Seen', get: x => time(x.seen) },
      { title: 'Name', get: x => x.name || '' },
      { title: 'Type', get: x => x.mime_type || '' },
      { title: 'Executable', get: x => x.executable || '' },
      { title: 'Size', num: true, get: x => bytes(x.size) },
      { title: 'Protocol', get: x => `${x.protocol || ''} ${x.direction || ''}` },
      { title: 'From → to', get: x => `${x.source_ip || ''} → ${x.destination_ip || ''}` },
      { title: 'Rules', get: x => (x.rules || []).join(', ') },
      { title: 'SHA-256', get: x => analyst
        ? el('a', { href: `/api/v1/files/${encodeURIComponent(x.sha256)}/download`, download: `${x.sha256}.zip` }, x.sha256)
        : x.sha256 },
    ], res.items, 'No file kept.')),
  );
}

// ---- routing, login ----

const routes = { '': dashboard, connections, flows, alerts, talkers, rules: rulesView, status: statusView, sensors: sensorsView, hosts: hostsView, audit: auditView, pivot: pivotView, files: filesView };

async function route() {
  clearInterval(timer);
  timer = null;
  const seq = ++viewSeq;
  delete document.body.dataset.ready;
  const h = location.hash.replace(/^#\/?/, '');
  const [path] = h.split('?');
  const [name, arg] = path.split('/');
  for (const a of document.querySelectorAll('#nav a')) {
    const view = name === 'flow' ? 'flows' : name === 'events' ? 'events/' + (arg || 'dns') : name;
    a.classList.toggle('active', (a.dataset.view === 'dashboard' ? '' : a.dataset.view) === view);
  }
  try {
    if (!session) {
      session = await api('/api/v1/session');
      document.getElementById('logout').hidden = !session.auth;
      document.getElementById('nav-audit').hidden = session.role !== 'analyst';
    }
    if (!status) {
      status = await api('/api/v1/status');
      if (status.store) api('/api/v1/sensors').then(r => fillSensors(r.sensors)).catch(() => {});
    }
    if (name === 'flow') await flowDetail(seq, decodeURIComponent(arg || ''));
    else if (name === 'events') await eventsView(seq, decodeURIComponent(arg || 'dns'));
    else if (routes[name]) await routes[name](seq);
    else main.replaceChildren(el('p', {}, 'No such page.'));
    if (seq === viewSeq) document.body.dataset.ready = name || 'dashboard';
  } catch (e) {
    if (e instanceof AuthError) return showLogin();
    main.replaceChildren(el('p', { class: 'error' }, 'Error: ' + e.message));
  }
}

function showLogin() {
  document.getElementById('login').hidden = false;
  document.getElementById('login-user').focus();
}

document.getElementById('login-form').addEventListener('submit', async e => {
  e.preventDefault();
  const err = document.getElementById('login-error');
  err.textContent = '';
  try {
    await api('/api/v1/login', { method: 'POST', body: {
      username: document.getElementById('login-user').value,
      password: document.getElementById('login-password').value } });
    document.getElementById('login-password').value = '';
    document.getElementById('login').hidden = true;
    document.getElementById('logout').hidden = false;
    status = null;
    session = null;
    route();
  } catch (x) { err.textContent = x.message; }
});

document.getElementById('logout').addEventListener('click', async () => {
  await api('/api/v1/logout', { method: 'POST' }).catch(() => {});
  location.reload();
});

document.getElementById('range').addEventListener('change', route);
document.getElementById('sensor').addEventListener('change', route);
window.addEventListener('hashchange', route);
route();
