// Talks to the bellhop server: the JSON endpoints and the live stream, all with the
// API token as a bearer token. EventSource cannot send that header, so the stream is
// read with fetch and parsed here (text/event-stream: "event:" and "data:" lines).

export class Unauthorized extends Error {}

const TOKEN_KEY = 'bellhop-token';

/** The saved token: this tab's first, then the one remembered on this browser. */
export function savedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

export function saveToken(token, remember) {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

export class Api {
  #token;

  constructor(token) {
    this.#token = token;
  }

  devices() {
    return this.#json('GET', '/v1/devices');
  }

  recent() {
    return this.#json('GET', '/v1/events/recent');
  }

  stats() {
    return this.#json('GET', '/v1/events/stats');
  }

  trace(eventId) {
    return this.#json('GET', `/v1/events/${encodeURIComponent(eventId)}/trace`);
  }

  ring(deviceId) {
    return this.#json('POST', `/v1/devices/${encodeURIComponent(deviceId)}/ring`);
  }

  /** deviceId "all" mutes every bell. */
  mute(deviceId, minutes) {
    return this.#json('POST', `/v1/devices/${encodeURIComponent(deviceId)}/mute`, { minutes });
  }

  /** deviceId "all" lets every bell ring again, each one's own mute included. */
  unmute(deviceId) {
    return this.#json('DELETE', `/v1/devices/${encodeURIComponent(deviceId)}/mute`);
  }

  /**
   * Reads the live stream until it ends or `signal` aborts, calling onMessage(name, data)
   * for each message. Resolves when the server closes it; rejects on errors.
   */
  async stream(signal, onMessage) {
    const res = await fetch('/v1/status/stream', { headers: this.#headers(), signal, cache: 'no-store' });
    await this.#check(res);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message = parseBlock(block);
        if (message) onMessage(message.name, message.data);
      }
    }
  }

  #headers() {
    return { authorization: `Bearer ${this.#token}`, accept: 'application/json' };
  }

  async #json(method, path, body) {
    const init = { method, headers: this.#headers(), cache: 'no-store' };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    await this.#check(res);
    return res.json();
  }

  async #check(res) {
    if (res.status === 401) throw new Unauthorized('the server did not accept this token');
    if (!res.ok) {
      let message = `${res.status} ${res.statusText}`;
      try {
        const body = await res.json();
        if (body && typeof body.message === 'string') message = body.message;
      } catch {
        // Not our JSON error shape; the status line will do.
      }
      throw new Error(message);
    }
  }
}

function parseBlock(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // a keep-alive comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  try {
    return { name, data: JSON.parse(data.join('\n')) };
  } catch {
    return undefined;
  }
}
