// The status page: bells, the live event feed, traces and the last hour's chart.
// Plain DOM (no framework, no build step). Everything from the server is put on the
// page as text, never as HTML.
import { Api, Unauthorized, forgetToken, saveToken, savedToken } from './api.js';
import { colorFor, drawEventsChart, drawRingsChart } from './chart.js';

const MAX_EVENTS = 1000;
const MARKS = { ok: ['✓', 'done'], warn: ['!', 'held back'], fail: ['✗', 'failed'] };

const $ = (id) => document.getElementById(id);

const state = {
  api: null,
  stop: null,
  events: new Map(), // id -> summary
  rows: new Map(), // id -> <tr>
  devices: new Map(), // id -> view
  bellRows: new Map(), // id -> <tr>
  brokerConnected: true,
  slack: null, // what the Slack part last said about its token
  stats: { minutes: [], rings: {} },
  openTrace: null,
  opener: null,
};

/** Creates an element; children may be strings (added as text) or nodes. */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'className') node.className = v;
    else if (k === 'onclick') node.addEventListener('click', v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

function clock(iso, withMs = false) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return withMs ? `${t}.${String(d.getMilliseconds()).padStart(3, '0')}` : t;
}

function ago(iso) {
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function timeEl(iso, withMs = false) {
  return h('time', { datetime: iso, title: iso }, clock(iso, withMs));
}

function setLive(text, ok = false) {
  const live = $('live');
  live.textContent = text;
  live.classList.toggle('ok', ok);
}

// ---- signing in and out -------------------------------------------------------

function showLogin(message = '') {
  state.stop?.();
  state.stop = null;
  state.api = null;
  $('board').hidden = true;
  $('forget').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  setLive('signed out');
  $('token').focus();
}

async function open(token) {
  const api = new Api(token);
  setLive('connecting…');
  await loadAll(api); // throws Unauthorized for a wrong token
  state.api = api;
  $('login').hidden = true;
  $('board').hidden = false;
  $('forget').hidden = false;
  const controller = new AbortController();
  state.stop = () => controller.abort();
  void streamLoop(api, controller.signal);
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  try {
    await open(token);
    saveToken(token, $('remember').checked);
    $('token').value = '';
  } catch (err) {
    $('login-error').textContent = err instanceof Unauthorized ? 'That token was not accepted.' : `Could not reach the server: ${err.message}`;
  }
});

$('forget').addEventListener('click', () => {
  forgetToken();
  showLogin();
});

// ---- data -----------------------------------------------------------------------

async function loadAll(api) {
  const [devices, recent, stats] = await Promise.all([api.devices(), api.recent(), api.stats()]);
  applyDevices(devices);
  for (const summary of [...recent.events].reverse()) upsertEvent(summary);
  state.stats = stats;
  drawCharts();
}

async function streamLoop(api, signal) {
  let retryMs = 1000;
  while (!signal.aborted) {
    try {
      await api.stream(signal, (name, data) => {
        if (name === 'ready') {
          retryMs = 1000;
          setLive('live', true);
          // Catch up on whatever happened while the stream was not open.
          loadAll(api).catch(() => undefined);
        } else onMessage(name, data);
      });
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof Unauthorized) return showLogin('The server no longer accepts this token.');
    }
    if (signal.aborted) return;
    setLive('reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, retryMs));
    retryMs = Math.min(retryMs * 2, 30_000);
  }
}

function onMessage(name, data) {
  switch (name) {
    case 'event':
      if (!state.events.has(data.id)) countEvent(data);
      upsertEvent(data);
      break;
    case 'step':
      if (data.event) upsertEvent(data.event);
      if (data.step.stage === 'rang' && data.step.strikes > 0 && data.step.deviceId) {
        state.stats.rings[data.step.deviceId] = (state.stats.rings[data.step.deviceId] ?? 0) + 1;
        drawCharts();
      }
      if (state.openTrace === data.eventId) void showTrace(data.eventId, false);
      break;
    case 'device':
      if (data.removed) state.devices.delete(data.id);
      else state.devices.set(data.id, data);
      renderBells();
      break;
    case 'broker':
      state.brokerConnected = data.connected;
      renderBells();
      break;
    case 'slack':
      state.slack = data;
      renderSlack();
      break;
  }
}

// ---- bells ------------------------------------------------------------------------

function applyDevices(reply) {
  state.brokerConnected = reply.brokerConnected;
  state.slack = reply.slack;
  renderSlack();
  state.devices = new Map(reply.devices.map((d) => [d.id, d]));
  renderBells();
}

/** A refused token or an unreachable Slack, said where the team looks: what is wrong and what to do. */
function renderSlack() {
  const warning = $('slack-warning');
  const health = state.slack;
  const problem = health && (health.state === 'token_refused' || health.state === 'unreachable');
  warning.hidden = !problem;
  if (!problem) return;
  const what = health.state === 'token_refused' ? `Slack refused the bot token (${health.reason})` : `The Slack part cannot reach Slack (${health.reason})`;
  const waiting = health.pending ? ` ${health.pending} deliveries are waiting in the outbox.` : '';
  warning.textContent = `${what}: ${health.fix}.${waiting}`;
}

function renderBells() {
  $('broker-warning').hidden = state.brokerConnected;
  const body = $('bells').tBodies[0];
  for (const [id, row] of state.bellRows) {
    if (!state.devices.has(id)) {
      row.remove();
      state.bellRows.delete(id);
    }
  }
  const ids = [...state.devices.keys()].sort();
  for (const id of ids) {
    const d = state.devices.get(id);
    let row = state.bellRows.get(id);
    if (!row) {
      const button = h('button', { type: 'button', className: 'ring', 'aria-label': `Ring ${id}`, onclick: () => ring(id, button) }, 'Ring');
      row = h('tr', { 'data-device': id }, h('th', { scope: 'row' }, id), h('td'), h('td'), h('td'), h('td'), h('td'), h('td', {}, button));
      state.bellRows.set(id, row);
    }
    const cells = row.cells;
    cells[1].replaceChildren(h('span', { className: `badge state-${d.state}` }, d.state));
    cells[2].replaceChildren(d.since ? h('span', { title: d.since }, `${clock(d.since)} (${ago(d.since)})`) : h('span', { className: 'muted' }, 'unknown'));
    cells[3].textContent = d.version ?? '—';
    const flags = [];
    if (d.muted) flags.push(d.mutedUntil ? `muted until ${clock(d.mutedUntil)}` : 'muted');
    if (d.quiet) flags.push('quiet hours');
    cells[4].textContent = flags.length ? flags.join(', ') : '—';
    cells[5].replaceChildren(d.lastRing ? h('span', { title: d.lastRing.at }, `${clock(d.lastRing.at)} (${ago(d.lastRing.at)})`) : '—');
    body.append(row); // keeps rows sorted; moving a row keeps its button (and keyboard focus) alive
  }
  $('no-bells').hidden = ids.length > 0;
}

async function ring(id, button) {
  const result = $('ring-result');
  button.disabled = true;
  button.textContent = 'Ringing…';
  try {
    const { eventId } = await state.api.ring(id);
    result.textContent = `Test ding sent to ${id} (event ${eventId}).`;
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin('The server no longer accepts this token.');
    result.textContent = `Could not ring ${id}: ${err.message}`;
  } finally {
    button.disabled = false;
    button.textContent = 'Ring';
  }
}

// ---- the feed ----------------------------------------------------------------------

function upsertEvent(summary) {
  state.events.set(summary.id, summary);
  let row = state.rows.get(summary.id);
  if (!row) {
    const button = h(
      'button',
      { type: 'button', className: 'link', 'aria-label': `Trace of ${summary.type} at ${clock(summary.receivedAt)}`, onclick: () => openTrace(summary.id, button) },
      summary.type,
    );
    row = h('tr', { 'data-event': summary.id }, h('td'), h('td', {}, button), h('td'), h('td'), h('td'), h('td'));
    state.rows.set(summary.id, row);
    insertRow(row, summary);
    addFilterOption('filter-type', summary.type);
    addFilterOption('filter-source', summary.source);
    trimEvents();
  }
  const cells = row.cells;
  cells[0].replaceChildren(timeEl(summary.receivedAt));
  cells[1].firstChild.style.setProperty('--type-color', colorFor(summary.type));
  cells[2].replaceChildren(h('span', { className: `badge sev-${summary.severity}` }, summary.severity));
  cells[3].textContent = summary.source;
  cells[4].textContent = summary.target ? `${summary.subject ?? ''} → ${summary.target}`.trim() : (summary.subject ?? '');
  cells[5].replaceChildren(...whereItWent(summary));
  row.hidden = !matchesFilters(summary);
  $('no-events').hidden = state.events.size > 0;
}

/** Newest first, by when the server saw them. */
function insertRow(row, summary) {
  const body = $('feed').tBodies[0];
  for (const other of body.rows) {
    const s = state.events.get(other.dataset.event);
    if (s && s.receivedAt <= summary.receivedAt) return body.insertBefore(row, other);
  }
  body.append(row);
}

function trimEvents() {
  while (state.events.size > MAX_EVENTS) {
    const oldest = $('feed').tBodies[0].lastElementChild;
    state.events.delete(oldest.dataset.event);
    state.rows.delete(oldest.dataset.event);
    oldest.remove();
  }
}

function whereItWent(s) {
  const out = [];
  if (s.rang.length) out.push(h('span', { className: 'badge ok' }, `rang ${s.rang.join(', ')}`));
  if (s.silent.length) out.push(h('span', { className: 'badge warn' }, `silent: ${s.silent.join(', ')}`));
  if (s.slack) out.push(h('span', { className: `badge ${['failed', 'retrying', 'dropped'].includes(s.slack) ? 'warn' : 'ok'}` }, `Slack: ${s.slack}`));
  if (!out.length) out.push(h('span', { className: 'muted' }, 'no reports yet'));
  return out;
}

function addFilterOption(selectId, value) {
  const select = $(selectId);
  const options = [...select.options].slice(1);
  if (options.some((o) => o.value === value)) return;
  const option = h('option', { value }, value);
  const after = options.find((o) => o.value.localeCompare(value) > 0);
  select.insertBefore(option, after ?? null);
}

function matchesFilters(s) {
  const type = $('filter-type').value;
  const source = $('filter-source').value;
  const severity = $('filter-severity').value;
  return (!type || s.type === type) && (!source || s.source === source) && (!severity || s.severity === severity);
}

for (const id of ['filter-type', 'filter-source', 'filter-severity']) {
  $(id).addEventListener('change', () => {
    for (const [eventId, row] of state.rows) row.hidden = !matchesFilters(state.events.get(eventId));
  });
}

// ---- the trace ----------------------------------------------------------------------

function openTrace(eventId, opener) {
  state.opener = opener;
  void showTrace(eventId, true);
}

async function showTrace(eventId, focus) {
  state.openTrace = eventId;
  let trace;
  try {
    trace = await state.api.trace(eventId);
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin('The server no longer accepts this token.');
    trace = { eventId, event: null, steps: [], truncated: false, error: err.message };
  }
  if (state.openTrace !== eventId) return; // another trace was opened meanwhile
  renderTrace(trace);
  const section = $('trace');
  section.hidden = false;
  if (focus) section.focus();
}

function renderTrace(trace) {
  const e = trace.event;
  $('trace-title').textContent = `Trace of ${e ? e.type : 'event'} ${trace.eventId}`;
  const facts = [];
  const fact = (name, value) => value && facts.push(h('dt', {}, name), h('dd', {}, value));
  if (e) {
    fact('Type', e.type);
    fact('Source', e.source);
    fact('Severity', e.severity);
    fact('Subject', e.subject);
    fact('Bell', e.target);
    fact('Event time', timeEl(e.time, true));
  }
  fact('Id', trace.eventId);
  $('trace-event').replaceChildren(...facts);
  $('trace-steps').replaceChildren(
    ...trace.steps.map((step) => {
      const [mark, word] = MARKS[step.outcome] ?? ['•', step.outcome];
      // The server only passes web links on; checked again here so no other scheme can ever become a link.
      const link = /^https?:\/\//i.test(step.permalink ?? '') ? h('a', { href: step.permalink, target: '_blank', rel: 'noopener noreferrer' }, 'open in Slack') : null;
      return h(
        'li',
        { className: `step outcome-${step.outcome}`, 'data-stage': step.stage },
        h('span', { className: 'mark', 'aria-hidden': 'true' }, mark),
        h('span', { className: 'sr-only' }, `${word}: `),
        timeEl(step.at, true),
        h('span', { className: 'text' }, step.text),
        link,
      );
    }),
  );
  const notes = [];
  if (trace.error) notes.push(`Could not load the trace: ${trace.error}`);
  if (!e && !trace.error) notes.push('This server never saw the event itself (it may be older than the events it keeps); these are the reports about it.');
  if (e && !trace.steps.some((s) => s.stage === 'rang' || s.stage === 'slack')) {
    notes.push('No bell or Slack report yet. Bells report only the events they ring for.');
  }
  if (trace.truncated) notes.push('More reports arrived than are kept per event.');
  $('trace-note').textContent = notes.join(' ');
}

function closeTrace() {
  state.openTrace = null;
  $('trace').hidden = true;
  if (state.opener?.isConnected) state.opener.focus();
}

$('trace-close').addEventListener('click', closeTrace);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && state.openTrace) closeTrace();
});

// ---- the chart ------------------------------------------------------------------------

function countEvent(summary) {
  const minutes = state.stats.minutes;
  const start = new Date(Math.floor(new Date(summary.receivedAt).getTime() / 60_000) * 60_000).toISOString();
  let bucket = minutes.find((m) => m.start === start);
  if (!bucket) {
    const last = minutes[minutes.length - 1];
    if (last && start < last.start) return; // older than the window we hold
    bucket = { start, counts: {} };
    minutes.push(bucket);
    while (minutes.length > 60) minutes.shift();
  }
  bucket.counts[summary.type] = (bucket.counts[summary.type] ?? 0) + 1;
  drawCharts();
}

let drawPending = false;
function drawCharts() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    const legend = drawEventsChart($('chart'), state.stats.minutes);
    const total = legend.reduce((n, t) => n + t.total, 0);
    const peak = Math.max(0, ...state.stats.minutes.map((m) => Object.values(m.counts).reduce((a, b) => a + b, 0)));
    $('chart-caption').textContent = total
      ? `Events per minute by type: ${total} in the last hour, at most ${peak} in one minute.`
      : 'Events per minute by type: none in the last hour.';
    $('legend').replaceChildren(
      ...legend.map((t) => {
        const swatch = h('span', { className: 'swatch', 'aria-hidden': 'true' });
        swatch.style.background = t.color; // CSSOM, not a style attribute: the page's CSP forbids those
        return h('li', {}, swatch, `${t.type} (${t.total})`);
      }),
    );
    drawRingsChart($('rings'), state.stats.rings);
    const bells = Object.entries(state.stats.rings);
    $('rings-caption').textContent = bells.length
      ? `Rings per bell in the last hour: ${bells.map(([id, n]) => `${id} ${n}`).join(', ')}.`
      : 'No bell has rung in the last hour.';
    $('rings').hidden = bells.length === 0;
  });
}

// The window slides and relative times age even when nothing happens.
setInterval(async () => {
  if (!state.api) return;
  renderBells();
  try {
    state.stats = await state.api.stats();
    drawCharts();
  } catch {
    // The stream's reconnect loop reports trouble; the chart just waits for the next turn.
  }
}, 60_000);

// ---- start ------------------------------------------------------------------------------

const token = savedToken();
if (token) {
  open(token).catch((err) => {
    if (err instanceof Unauthorized) forgetToken();
    showLogin(err instanceof Unauthorized ? 'The saved token was not accepted.' : `Could not reach the server: ${err.message}`);
  });
} else {
  showLogin();
}
