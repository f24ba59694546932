// The status page: bells, the live event feed, traces and the last hour's chart.
// Plain DOM (no framework, no build step). Everything from the server is put on the
// page as text, never as HTML.
import { Api, Unauthorized, forgetToken, saveToken, savedToken } from './api.js';
import { Bells } from './bells.js';
import { colorFor, drawEventsChart, drawRingsChart } from './chart.js';
import { $, clock, h, timeEl } from './dom.js';

const MAX_EVENTS = 1000;
const MARKS = { ok: ['✓', 'done'], warn: ['!', 'held back'], fail: ['✗', 'failed'] };

const state = {
  api: null,
  stop: null,
  events: new Map(), // id -> summary
  rows: new Map(), // id -> <tr>
  slack: null, // what the Slack part last said about its token
  stats: { minutes: [], rings: {} },
  openTrace: null,
  opener: null,
};

const bells = new Bells({ api: () => state.api, signedOut: (message) => showLogin(message) });

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
      bells.step(data.eventId, data.step);
      if (state.openTrace === data.eventId) void showTrace(data.eventId, false);
      break;
    case 'device':
      bells.device(data);
      break;
    case 'broker':
      bells.broker(data.connected);
      break;
    case 'all-mute':
      bells.allMute(data);
      break;
    case 'slack':
      state.slack = data;
      renderSlack();
      break;
  }
}

// ---- bells ------------------------------------------------------------------------

function applyDevices(reply) {
  state.slack = reply.slack;
  renderSlack();
  bells.apply(reply);
}

/** A refused token or an unreachable Slack, said where the team looks: what is wrong and what to do. */
function renderSlack() {
  const warning = $('slack-warning');
  const health = state.slack;
  const problem = health && (health.state === 'token_refused' || health.state === 'unreachable');
  const degraded = $('slack-degraded');
  degraded.hidden = !(health && health.exactlyOnce === 'degraded');
  if (!degraded.hidden) {
    degraded.textContent = `Exactly-once degraded (${health.degradedReason ?? 'history unreadable'}): a post Slack took just before a crash may show twice. ${health.degradedFix ?? ''}`;
  }
  warning.hidden = !problem;
  if (!problem) return;
  const what = health.state === 'token_refused' ? `Slack refused the bot token (${health.reason})` : `The Slack part cannot reach Slack (${health.reason})`;
  const waiting = health.pending ? ` ${health.pending} deliveries are waiting in the outbox.` : '';
  warning.textContent = `${what}: ${health.fix}.${waiting}`;
}

// ---- the feed ----------------------------------------------------------------------

function upsertEvent(summary) {
  state.events.set(summary.id, summary);
  let row = state.rows.get(summary.id);
  if (!row) {
    const button = h(
      'button',
      { type: 'button', className: 'link', 'aria-label': `Trace of ${summary.type} at ${clock(summary.receivedAt)}`, onclick: () => openTrace(summary.id, button) },
      ...breakable(summary.type),
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

/** A type name with a line-break chance after each dot: "user." / "signup" rather than "use" / "r.signup". */
function breakable(type) {
  return type.split(/(?<=\.)/).flatMap((part, i) => (i === 0 ? [part] : [h('wbr'), part]));
}

// The server only passes web links on; checked again here so no other scheme can ever become a link.
const isWebLink = (url) => /^https?:\/\//i.test(url ?? '');
const slackLink = (url) => h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', className: 'slack-link' }, 'open in Slack');

function whereItWent(s) {
  const out = [];
  if (s.rang.length) out.push(h('span', { className: 'badge ok' }, `rang ${s.rang.join(', ')}`));
  if (s.silent.length) out.push(h('span', { className: 'badge warn' }, `silent: ${s.silent.join(', ')}`));
  if (s.slack) {
    const where = s.slackChannel ? ` in ${s.slackChannel}` : '';
    out.push(h('span', { className: `badge ${['failed', 'retrying', 'dropped'].includes(s.slack) ? 'warn' : 'ok'}` }, `Slack: ${s.slack}${where}`));
    if (isWebLink(s.slackPermalink)) out.push(slackLink(s.slackPermalink));
  }
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
    fact('Project', e.project);
    fact('Bell', e.target);
    fact('Event time', timeEl(e.time, true));
  }
  fact('Id', trace.eventId);
  $('trace-event').replaceChildren(...facts);
  $('trace-steps').replaceChildren(
    ...trace.steps.map((step) => {
      const [mark, word] = MARKS[step.outcome] ?? ['•', step.outcome];
      const link = isWebLink(step.permalink) ? slackLink(step.permalink) : null;
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
  // textContent of a <pre>: the data shows exactly as sent, and nothing in it can become markup.
  const data = typeof trace.data === 'string' ? `${trace.data}${trace.dataCut ? '\n… (cut)' : ''}` : '';
  $('trace-data-box').hidden = !data;
  // Each new step redraws the trace; rewriting the same text would scroll the box back to its top.
  if ($('trace-data').textContent !== data) $('trace-data').textContent = data;
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
  bells.render();
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
