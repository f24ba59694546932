// Carries over what an older bellhop's broker kept in the same folder with
// aedes-persistence-level (un-prefixed keys: subscriptions:, retained:, outgoing:), once,
// at the first start: the sessions' subscriptions, the retained messages (a muted bell
// stays muted) and every message still queued for a session, which joins the ingress log
// as owed by that session. Then the old keys go. Wills are not carried: each client sets
// its will again when it connects.
import type { Level } from 'level';
import type { StoredPacket } from 'aedes-persistence/asyncPersistence.js';
import type { DurableSessions } from './sessions.js';
import type { IngressEntry, IngressLog } from './ingress-log.js';

const PREFIXES = ['subscriptions:', 'retained:', 'outgoing:', 'outgoing-id:', 'incoming:', 'will:'];
const range = (prefix: string) => ({ gte: prefix, lt: `${prefix.slice(0, -1)};` });

export async function carryOverLegacyStore(
  db: Level<string, Buffer>,
  sessions: DurableSessions,
  ingress: IngressLog,
): Promise<{ sessions: number; retained: number; queued: number } | undefined> {
  const clientIds = new Set<string>();
  for await (const key of db.keys(range('subscriptions:'))) clientIds.add(decodeURIComponent(key.split(':')[1]!));
  let any = clientIds.size > 0;
  for (const prefix of PREFIXES) for await (const _ of db.keys({ ...range(prefix), limit: 1 })) any = true;
  if (!any) return undefined;

  const { default: LegacyPersistence } = await import('aedes-persistence-level/asyncPersistence.js');
  const legacy = new LegacyPersistence(db);
  await legacy.setup({ id: 'bellhop-carry-over' });
  let retained = 0;
  for await (const packet of legacy.createRetainedStream('#')) {
    await sessions.storeRetained(packet as StoredPacket);
    retained++;
  }
  const queued = new Map<string, { entry: IngressEntry; owed: string[] }>();
  for (const id of clientIds) {
    await sessions.addSubscriptions({ id }, await legacy.subscriptionsByClient({ id }));
    for await (const raw of legacy.outgoingStream({ id })) {
      const p = raw as StoredPacket;
      if (p.cmd !== 'publish') continue;
      const key = `${p.brokerId}:${p.brokerCounter}`;
      const left = queued.get(key) ?? { entry: { topic: p.topic, payload: Buffer.from(p.payload), retain: p.retain, brokerId: String(p.brokerId), brokerCounter: p.brokerCounter ?? 0 }, owed: [] };
      left.owed.push(id);
      queued.set(key, left);
    }
  }
  await ingress.carryOver([...queued.values()]);
  for (const prefix of PREFIXES) await db.clear(range(prefix));
  return { sessions: clientIds.size, retained, queued: queued.size };
}
