// Signature schemes of the webhook providers, checked over the raw body. Every
// comparison goes through secretEquals (constant time), and every candidate is
// checked so the time taken does not tell which secret or signature nearly matched.
import { createHmac } from 'node:crypto';
import { secretEquals } from '../../shared/secrets.js';

export type Verdict = { ok: true } | { ok: false; reason: string };

const OK: Verdict = { ok: true };
const fail = (reason: string): Verdict => ({ ok: false, reason });

export function hmacSha256(key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** True when any given value equals any expected one; always compares every pair. */
export function anyEquals(given: readonly string[], expected: readonly string[]): boolean {
  let found = false;
  for (const g of given) for (const e of expected) if (secretEquals(g, e)) found = true;
  return found;
}

/** For plain shared-secret headers (X-Gitlab-Token, X-Angie-WebhookSecret, ?token=). */
export function checkToken(given: string | undefined, tokens: readonly string[], what: string): Verdict {
  if (given === undefined || given === '') return fail(`missing ${what}`);
  return anyEquals([given], tokens) ? OK : fail(`${what} not accepted`);
}

/**
 * Stripe-Signature: `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each v1 an HMAC-SHA256 of
 * `${t}.${rawBody}` keyed with the endpoint secret as written (whsec_... included).
 * Stripe sends one v1 per active secret while a rolled secret is still valid.
 */
export function verifyStripe(
  header: string | undefined,
  body: Buffer,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds: number,
): Verdict {
  if (!header) return fail('missing Stripe-Signature header');
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return fail('Stripe-Signature has no timestamp');
  if (signatures.length === 0) return fail('Stripe-Signature has no v1 signature');
  const expected = secrets.map((s) => hmacSha256(s, `${timestamp}.`, body).toString('hex'));
  if (!anyEquals(signatures, expected)) return fail('Stripe-Signature does not match any configured secret');
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return fail(`Stripe-Signature timestamp is more than ${toleranceSeconds} s away from the server clock`);
  }
  return OK;
}

/** X-Hub-Signature-256: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export function verifyGithub(header: string | undefined, body: Buffer, secrets: readonly string[]): Verdict {
  if (!header) return fail('missing X-Hub-Signature-256 header');
  if (!header.startsWith('sha256=')) return fail('X-Hub-Signature-256 must start with "sha256="');
  const expected = secrets.map((s) => `sha256=${hmacSha256(s, body).toString('hex')}`);
  return anyEquals([header.trim().toLowerCase()], expected) ? OK : fail('X-Hub-Signature-256 does not match any configured secret');
}

export interface StandardWebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * Standard Webhooks key: `whsec_<base64>` is the base64-decoded bytes (the spec);
 * anything else is used as its UTF-8 bytes, as some senders hand out plain secrets.
 */
export function standardWebhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/**
 * Standard Webhooks: `webhook-signature` holds space-separated `v1,<base64>` entries, each
 * an HMAC-SHA256 of `${id}.${timestamp}.${body}`. Returns the index of the key that matched.
 */
export function verifyStandardWebhook(
  headers: StandardWebhookHeaders,
  body: Buffer | string,
  keys: readonly Buffer[],
  nowSeconds: number,
  toleranceSeconds: number,
): { ok: true; keyIndex: number } | { ok: false; reason: string } {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp must be unix seconds' };
  const given = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  if (given.length === 0) return { ok: false, reason: 'webhook-signature has no v1 signature' };
  let keyIndex = -1;
  keys.forEach((key, i) => {
    const expected = hmacSha256(key, `${id}.${timestamp}.`, body).toString('base64');
    if (anyEquals(given, [expected]) && keyIndex < 0) keyIndex = i;
  });
  if (keyIndex < 0) return { ok: false, reason: 'webhook-signature does not match any configured secret' };
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: `webhook-timestamp is more than ${toleranceSeconds} s away from the server clock` };
  }
  return { ok: true, keyIndex };
}

/** Signs like a Standard Webhooks sender (for the client and the tests). */
export function signStandardWebhook(id: string, timestamp: number, body: string, secret: string): string {
  return `v1,${hmacSha256(standardWebhookKey(secret), `${id}.${timestamp}.`, body).toString('base64')}`;
}
