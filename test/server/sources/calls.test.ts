import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, sourceWorld, type SourceWorld } from './world.js';

const TOKEN = 'pbx-token-3c2b1a0f9e8d';

describe('phone call source', () => {
  let world: SourceWorld;

  beforeAll(async () => {
    world = await sourceWorld({ calls: { enabled: true, tokens: [TOKEN], project: 'front-desk' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('publishes a Voys-style JSON call notification as call.incoming', async () => {
    const res = await world.post(`/v1/sources/calls?token=${TOKEN}`, fixture('calls/voys-created.json'));
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([
      {
        type: 'call.incoming',
        source: 'calls',
        subject: '+31507009920',
        project: 'front-desk',
        data: {
          direction: 'incoming',
          number: '+31507009920',
          name: 'Johan | Voys',
          line: '+31332022074',
          callId: 'ua9-grq-prd-1693575683.22973164',
          event: 'created',
        },
      },
    ]);
  });

  it('reads a GET filled in from a PBX URL template, the other party of an outgoing call being "to"', async () => {
    const res = await world.request('GET', `/v1/sources/calls?${fixture('calls/voipzeker-outgoing.query').trim()}&token=${TOKEN}`);
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([
      { type: 'call.outgoing', data: { direction: 'outgoing', number: '+31201234567', line: '204', callId: '1724836400.77812', event: 'OUTGOING_RINGING' } },
    ]);
  });

  it('reads a posted form, with the token in a header', async () => {
    const res = await world.post('/v1/sources/calls', fixture('calls/generic-form.txt').trim(), {
      'content-type': 'application/x-www-form-urlencoded',
      'x-bellhop-token': TOKEN,
    });
    expect(res.status).toBe(202);
    expect(await world.drain()).toMatchObject([{ type: 'call.incoming', data: { number: '+4930123456', name: 'Erika Mustermann', line: '+4930999000' } }]);
  });

  it('refuses a wrong or missing token with 401 and publishes nothing', async () => {
    const body = fixture('calls/voys-created.json');
    expect((await world.post('/v1/sources/calls?token=pbx-token-000000000000', body)).status).toBe(401);
    const missing = await world.post('/v1/sources/calls', body);
    expect(missing.status).toBe(401);
    expect(missing.json.error).toBe('unauthorized');
    expect(await world.drain()).toEqual([]);
  });

  it('answers a malformed call with 400: bad JSON, no number, an unknown direction', async () => {
    const post = (body: string) => world.post(`/v1/sources/calls?token=${TOKEN}`, body);
    expect((await post('{"number": ')).status).toBe(400);
    const noNumber = await post(JSON.stringify({ direction: 'incoming', name: 'Someone' }));
    expect(noNumber.status).toBe(400);
    expect(noNumber.json.message).toMatch(/number: required/);
    const sideways = await post(JSON.stringify({ direction: 'sideways', number: '+1555' }));
    expect(sideways.status).toBe(400);
    expect(sideways.json.message).toMatch(/direction/);
    expect(await world.drain()).toEqual([]);
  });

  it('answers call events it does not ring for (answered, ended) with 200 "ignored"', async () => {
    const res = await world.post(`/v1/sources/calls?token=${TOKEN}`, fixture('calls/voys-ended.json'));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ignored', reason: expect.stringContaining('ended') });
    expect(await world.drain()).toEqual([]);
  });

  it('notifies once per call even when the PBX reports it twice (created, then ringing)', async () => {
    const callId = randomUUID();
    const post = (status: string) =>
      world.post(`/v1/sources/calls?token=${TOKEN}`, JSON.stringify({ call_id: callId, status, direction: 'inbound', caller: { number: '+3212345678' } }));
    expect((await post('created')).status).toBe(202);
    const again = await post('ringing');
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('duplicate');
    expect(await world.drain()).toHaveLength(1);
  });
});
