import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signStandardWebhook, standardWebhookKey, verifyGithub, verifyStandardWebhook, verifyStripe } from '../../../server/sources/signatures.js';

// The Standard Webhooks specification's published test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  const headers = (signature = VECTOR.signature, timestamp = String(VECTOR.timestamp)) => ({ id: VECTOR.id, timestamp, signature });
  const keys = [standardWebhookKey(VECTOR.secret)];

  it('reproduces the specification test vector', () => {
    expect(signStandardWebhook(VECTOR.id, VECTOR.timestamp, VECTOR.body, VECTOR.secret)).toBe(VECTOR.signature);
  });

  it('verifies the test vector, also among several signatures, and names the key that matched', () => {
    expect(verifyStandardWebhook(headers(), VECTOR.body, keys, VECTOR.timestamp + 10, 300)).toEqual({ ok: true, keyIndex: 0 });
    const other = standardWebhookKey('whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==');
    expect(verifyStandardWebhook(headers(`v1,AAAA v1a,xyz ${VECTOR.signature}`), VECTOR.body, [other, ...keys], VECTOR.timestamp, 300)).toEqual({ ok: true, keyIndex: 1 });
  });

  it('rejects a changed body, a wrong key, a timestamp outside the tolerance and missing headers', () => {
    expect(verifyStandardWebhook(headers(), '{"test": 2432232315}', keys, VECTOR.timestamp, 300).ok).toBe(false);
    expect(verifyStandardWebhook(headers(), VECTOR.body, [Buffer.from('nope')], VECTOR.timestamp, 300).ok).toBe(false);
    expect(verifyStandardWebhook(headers(), VECTOR.body, keys, VECTOR.timestamp + 301, 300).ok).toBe(false);
    expect(verifyStandardWebhook(headers(), VECTOR.body, keys, VECTOR.timestamp - 301, 300).ok).toBe(false);
    expect(verifyStandardWebhook({ ...headers(), signature: undefined }, VECTOR.body, keys, VECTOR.timestamp, 300).ok).toBe(false);
    expect(verifyStandardWebhook(headers(VECTOR.signature, '16142653e0'), VECTOR.body, keys, VECTOR.timestamp, 300).ok).toBe(false);
  });

  it('uses a secret without the whsec_ prefix as plain text', () => {
    expect(standardWebhookKey('plain-secret').toString()).toBe('plain-secret');
  });
});

describe('Stripe signatures', () => {
  const secret = 'whsec_abc123';
  const body = Buffer.from('{"id":"evt_1"}');
  const sig = (t: number, s = secret) => createHmac('sha256', s).update(`${t}.${body.toString()}`).digest('hex');

  it('keys the HMAC with the secret as written, whsec_ prefix included', () => {
    expect(verifyStripe(`t=1000,v1=${sig(1000)}`, body, [secret], 1000, 300)).toEqual({ ok: true });
  });

  it('accepts any configured secret and any v1 in the header', () => {
    expect(verifyStripe(`t=1000,v1=${sig(1000, 'whsec_old')},v1=${sig(1000)}`, body, ['whsec_other', secret], 1000, 300)).toEqual({ ok: true });
  });

  it('ignores v0 signatures and needs a timestamp', () => {
    expect(verifyStripe(`t=1000,v0=${sig(1000)}`, body, [secret], 1000, 300).ok).toBe(false);
    expect(verifyStripe(`v1=${sig(1000)}`, body, [secret], 1000, 300).ok).toBe(false);
  });
});

describe('GitHub signatures', () => {
  it('checks sha256=<hex HMAC of the body>', () => {
    const body = Buffer.from('{"zen":"Design for failure."}');
    const good = `sha256=${createHmac('sha256', 'It\'s a Secret to Everybody').update(body).digest('hex')}`;
    expect(verifyGithub(good, body, ["It's a Secret to Everybody"])).toEqual({ ok: true });
    expect(verifyGithub(good.replace('sha256=', 'sha1='), body, ["It's a Secret to Everybody"]).ok).toBe(false);
    expect(verifyGithub(good, Buffer.from('{}'), ["It's a Secret to Everybody"]).ok).toBe(false);
  });
});
