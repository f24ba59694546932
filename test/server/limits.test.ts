// Inputs that once broke the server: a body nested 10,000 levels deep (500 from a stack
// overflow on publish), and clients that trickle bytes to hold sockets for minutes.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerPart } from '../../broker/broker.js';
import type { ServerPart } from '../../server/server.js';
import { valueShapeProblem } from '../../server/json-limits.js';
import { TEST_TOKEN, postEvents, startBroker, startServer, testConfig, withBroker } from '../helpers/world.js';

const deep = (levels: number) => `{"type":"user.signup","data":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;

describe('the shape of a JSON body', () => {
  it('counts nesting and object keys, not what strings say', () => {
    expect(valueShapeProblem({ a: '{{{{[[[[::::' }, { depth: 2, keys: 1 })).toBeUndefined();
    expect(valueShapeProblem([[[1]]], { depth: 2, keys: 10 })).toBe('JSON nested deeper than 2 levels (the limit)');
    expect(valueShapeProblem({ a: 1, b: 2, c: 3 }, { depth: 5, keys: 2 })).toBe('JSON with more than 2 keys (the limit)');
    expect(valueShapeProblem(JSON.parse(deep(10_000)))).toBe('JSON nested deeper than 32 levels (the limit)');
  });
});

describe('limits on the event API', () => {
  let broker: BrokerPart;
  let server: ServerPart;
  beforeAll(async () => {
    const base = testConfig({ server: { requestTimeoutMs: 1000, bodyLimit: 1024 * 1024 } });
    broker = await startBroker(base);
    server = await startServer(withBroker(base, broker.url));
  });
  afterAll(async () => {
    await server.stop();
    await broker.stop();
  });

  it('answers a 10,000-level nested body 400 naming the limit, and a body within it 202', async () => {
    const refused = await postEvents(server.url, deep(10_000));
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ error: 'bad_json', message: 'JSON nested deeper than 32 levels (the limit)' });
    const many = await postEvents(server.url, { type: 'user.signup', data: Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i])) });
    expect(many.status).toBe(400);
    expect(many.json.message).toBe('JSON with more than 10000 keys (the limit)');
    expect((await postEvents(server.url, deep(20))).status).toBe(202);
  });

  it('cuts a client that trickles its headers or its body, within about requestTimeoutMs', async () => {
    const port = Number(new URL(server.url).port);
    const trickle = (head: string): Promise<{ ms: number; answer: string }> =>
      new Promise((resolve) => {
        const started = Date.now();
        const socket: Socket = connect(port, '127.0.0.1');
        let answer = '';
        socket.on('data', (d) => (answer += d.toString()));
        socket.write(head);
        const drip = setInterval(() => socket.write('x'), 200);
        socket.on('close', () => {
          clearInterval(drip);
          resolve({ ms: Date.now() - started, answer });
        });
        socket.on('error', () => undefined);
      });
    const [headers, body] = await Promise.all([
      trickle('POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: '),
      trickle(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"type":"`),
    ]);
    for (const cut of [headers, body]) {
      // requestTimeoutMs is 1 s here, checked each second: never the minutes a default server allows.
      expect(cut.ms).toBeLessThan(4000);
      expect(cut.answer).toMatch(/^HTTP\/1\.1 408/);
    }
  });
});
