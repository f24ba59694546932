// The bells table and what its buttons do: ring a bell, mute or unmute it (or all of
// them), and one line under the table that says what came of it. A test ding to a muted
// bell is still sent, so its rang report shows in the trace; the line says beforehand
// that it will not ring, and afterwards what the bell reported.
import { Unauthorized } from './api.js';
import { $, ago, clock, h, until } from './dom.js';

const ALL = 'all';
const MUTE_MINUTES = 60;
/** How long a test ding's rang report may take before the line says none came. */
const REPORT_WAIT_MS = 15_000;
/** Rang reports kept for a ding whose answer is still on its way (the report can come first). */
const EARLY_REPORTS = 50;

export class Bells {
  #api;
  #signedOut;
  #devices = new Map(); // id -> view
  #rows = new Map(); // id -> <tr>
  #brokerConnected = true;
  #allMute = { allMutedUntil: null, allMutedBy: null };
  #waiting = null; // the test ding whose rang report the line waits for
  #reports = new Map(); // eventId -> rang step

  /** `api()` is the signed-in Api; `signedOut(message)` goes back to the token form. */
  constructor({ api, signedOut }) {
    this.#api = api;
    this.#signedOut = signedOut;
    $('all-mute-button').addEventListener('click', (e) => {
      const button = e.currentTarget;
      void (this.#allMuted() ? this.unmute(ALL, button) : this.mute(ALL, button));
    });
  }

  apply(reply) {
    this.#brokerConnected = reply.brokerConnected;
    this.#allMute = { allMutedUntil: reply.allMutedUntil, allMutedBy: reply.allMutedBy };
    this.#devices = new Map(reply.devices.map((d) => [d.id, d]));
    this.render();
  }

  device(data) {
    if (data.removed) this.#devices.delete(data.id);
    else this.#devices.set(data.id, data);
    this.render();
  }

  broker(connected) {
    this.#brokerConnected = connected;
    this.render();
  }

  allMute(data) {
    this.#allMute = data;
    this.render();
  }

  /** A trace step from the live stream: a rang report may be the answer to a test ding. */
  step(eventId, step) {
    if (step.stage !== 'rang') return;
    this.#reports.set(eventId, step);
    while (this.#reports.size > EARLY_REPORTS) this.#reports.delete(this.#reports.keys().next().value);
    if (this.#waiting?.eventId === eventId && this.#waiting.deviceId === step.deviceId) this.#reported(step);
  }

  render() {
    $('broker-warning').hidden = this.#brokerConnected;
    const body = $('bells').tBodies[0];
    for (const [id, row] of this.#rows) {
      if (!this.#devices.has(id)) {
        row.remove();
        this.#rows.delete(id);
      }
    }
    const ids = [...this.#devices.keys()].sort();
    for (const id of ids) {
      const d = this.#devices.get(id);
      let row = this.#rows.get(id);
      if (!row) {
        const ring = h('button', { type: 'button', className: 'ring', 'aria-label': `Ring ${id}`, onclick: () => this.ring(id, ring) }, 'Ring');
        const mute = h('button', { type: 'button', className: 'secondary', onclick: () => (muted(this.#devices.get(id)) ? this.unmute(id, mute) : this.mute(id, mute)) });
        row = h('tr', { 'data-device': id }, h('th', { scope: 'row' }, id), h('td'), h('td'), h('td'), h('td'), h('td'), h('td', { className: 'actions' }, ring, mute));
        this.#rows.set(id, row);
      }
      const cells = row.cells;
      cells[1].replaceChildren(h('span', { className: `badge state-${d.state}` }, d.state));
      cells[2].replaceChildren(d.since ? h('span', { title: d.since }, `${clock(d.since)} (${ago(d.since)})`) : h('span', { className: 'muted' }, 'unknown'));
      cells[3].textContent = d.version ?? '—';
      const flags = [];
      if (muted(d)) flags.push(`${d.mutedUntil ? `muted until ${until(d.mutedUntil)}` : 'muted'}${d.mutedBy ? ` (by ${d.mutedBy})` : ''}`);
      if (d.quiet) flags.push('quiet hours');
      cells[4].textContent = flags.length ? flags.join(', ') : '—';
      cells[5].replaceChildren(d.lastRing ? h('span', { title: d.lastRing.at }, `${clock(d.lastRing.at)} (${ago(d.lastRing.at)})`) : '—');
      const button = cells[6].lastElementChild;
      if (!button.disabled) label(button, muted(d) ? ['Unmute', `Unmute ${id}`] : [`Mute ${MUTE_MINUTES / 60} h`, `Mute ${id} for 1 hour`]);
      body.append(row); // keeps rows sorted; moving a row keeps its buttons (and keyboard focus) alive
    }
    $('no-bells').hidden = ids.length > 0;
    const all = this.#allMute;
    $('all-mute-text').textContent = this.#allMuted()
      ? `All bells are muted until ${until(all.allMutedUntil)}${all.allMutedBy ? ` (by ${all.allMutedBy})` : ''}.`
      : 'All bells: not muted.';
    const allButton = $('all-mute-button');
    if (!allButton.disabled) label(allButton, this.#allMuted() ? ['Unmute all', 'Unmute all bells'] : [`Mute all (${MUTE_MINUTES / 60} h)`, 'Mute all bells for 1 hour']);
  }

  async ring(id, button) {
    await this.#busy(button, 'Ringing…', `Could not ring ${id}`, async () => {
      const reply = await this.#api().ring(id);
      this.#expectReport(reply);
    });
  }

  async mute(id, button) {
    await this.#busy(button, 'Muting…', `Could not mute ${id === ALL ? 'the bells' : id}`, async () => {
      const reply = await this.#api().mute(id, MUTE_MINUTES);
      const who = id === ALL ? 'All bells are' : `${id} is`;
      this.#say(`${who} muted until ${until(reply.mutedUntil)}: ${id === ALL ? 'they' : 'it'} will not ring.`, unmuteAction(this, id));
    });
  }

  async unmute(id, button) {
    await this.#busy(button, 'Unmuting…', `Could not unmute ${id === ALL ? 'the bells' : id}`, async () => {
      const reply = await this.#api().unmute(id);
      if (reply.mutedUntil) {
        const by = reply.mutedBy ? ` (by ${reply.mutedBy})` : '';
        this.#say(`${id}'s own mute is cleared, but all bells are muted until ${until(reply.mutedUntil)}${by}: it will not ring.`, unmuteAction(this, ALL));
      } else {
        this.#say(id === ALL ? 'All bells may ring again.' : `${id} may ring again.`);
      }
    });
  }

  #expectReport(reply) {
    clearTimeout(this.#waiting?.timer);
    const id = reply.deviceId;
    const sent = `Test ding sent to ${id} (event ${reply.eventId})`;
    this.#waiting = { eventId: reply.eventId, deviceId: id, sent, timer: setTimeout(() => this.#noReport(), REPORT_WAIT_MS) };
    const early = this.#reports.get(reply.eventId);
    if (early && early.deviceId === id) return this.#reported(early);
    if (reply.muted) {
      const when = reply.mutedUntil ? ` until ${until(reply.mutedUntil)}` : '';
      this.#say(`${id} is muted${when}: it will not ring. ${sent} anyway; waiting for its report…`, unmuteAction(this, this.#mutedByAll(id, reply.mutedUntil) ? ALL : id));
    } else if (reply.quiet) {
      this.#say(`${sent}. ${id} is in its quiet hours: it rings only if they let test dings through. Waiting for its report…`);
    } else {
      this.#say(`${sent}, waiting for its report…`);
    }
  }

  #reported(step) {
    const waiting = this.#waiting;
    clearTimeout(waiting.timer);
    this.#waiting = null;
    const action = step.suppressed === 'muted' ? unmuteAction(this, this.#mutedByAll(waiting.deviceId) ? ALL : waiting.deviceId) : undefined;
    this.#say(`${waiting.sent}: ${step.text}.`, action);
  }

  #noReport() {
    const waiting = this.#waiting;
    this.#waiting = null;
    this.#say(`${waiting.sent}: no report from ${waiting.deviceId} within ${REPORT_WAIT_MS / 1000} s. Is it online? Its trace will show the report if one comes.`);
  }

  #allMuted() {
    const at = Date.parse(this.#allMute.allMutedUntil ?? '');
    return at > Date.now();
  }

  /** Whether only the mute of all bells keeps this one silent (then "Unmute all" is what helps). */
  #mutedByAll(id, mutedUntil) {
    const d = this.#devices.get(id);
    return this.#allMuted() && (mutedUntil ?? d?.mutedUntil) === this.#allMute.allMutedUntil;
  }

  /** The line under the table: a sentence, and a button when there is one obvious next step. */
  #say(text, action) {
    const line = $('ring-result');
    // Replacing the button that has the focus would drop it to the page's start.
    const hadFocus = line.contains(document.activeElement);
    const parts = [h('span', {}, text)];
    let button;
    if (action) {
      button = h('button', { type: 'button', className: 'secondary', 'aria-label': action.ariaLabel }, action.label);
      button.addEventListener('click', () => action.run(button));
      parts.push(' ', button);
    }
    line.replaceChildren(...parts);
    if (hadFocus) (button ?? line).focus();
  }

  async #busy(button, busyText, failure, run) {
    const before = [button.textContent, button.getAttribute('aria-label')];
    button.disabled = true;
    button.textContent = busyText;
    try {
      await run();
    } catch (err) {
      if (err instanceof Unauthorized) return this.#signedOut('The server no longer accepts this token.');
      this.#say(`${failure}: ${err.message}`);
    } finally {
      button.disabled = false;
      label(button, before);
      this.render();
    }
  }
}

/** Muted now: a mute's end may pass while the page stays open. */
function muted(d) {
  return d.mutedUntil ? Date.parse(d.mutedUntil) > Date.now() : d.muted;
}

function label(button, [text, ariaLabel]) {
  button.textContent = text;
  if (ariaLabel) button.setAttribute('aria-label', ariaLabel);
}

function unmuteAction(bells, id) {
  return id === ALL
    ? { label: 'Unmute all', ariaLabel: 'Unmute all bells', run: (button) => bells.unmute(ALL, button) }
    : { label: 'Unmute', ariaLabel: `Unmute ${id}`, run: (button) => bells.unmute(id, button) };
}
