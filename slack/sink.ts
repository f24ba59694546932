// The Slack sink part: a persistent MQTT session (fixed client id, QoS 1) on the
// event topics and the bells' rang reports. Each event is routed and written to
// the outbox before its MQTT message is acknowledged, so acks never wait for Slack:
// a rate-limited channel does not hold up the others, and a burst reaches the
// digest while it is still a burst. A crash loses nothing (the broker redelivers
// what was not acknowledged; the outbox keeps what was) and dedup by event id,
// kept on disk, stops a redelivery from being posted twice.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { IPublishPacket } from 'mqtt';
import type { Config } from '../shared/config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../shared/metrics.js';
import { FatalSignal, type Part } from '../shared/part.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { Topics } from '../shared/topics.js';
import { EnvelopeError, parseEnvelope, type Envelope } from '../shared/envelope.js';
import { parseRang, reportedEventIds, type DeliveryReport, type RangReport, type SlackHealth } from '../shared/messages.js';
import { connectMqtt, mqttSettings, failLoudly, subscribeChecked, waitForConnect, type MqttClient } from '../shared/mqtt.js';
import type { SlackApi } from './api.js';
import { DigestGate, type DigestBatch } from './digest.js';
import { Dispatcher } from './dispatcher.js';
import { fingerprintOf, threadedTypes } from './fingerprint.js';
import { ackWhenStored } from './acks-when-stored.js';
import { Outbox, type Job, type PostJob } from './outbox.js';
import { storeDigest, withoutHeldPosts } from './digest-jobs.js';
import { Router } from './router.js';
import { ThreadBook } from './thread-book.js';
import { TokenCheck, type HealthState } from './token-check.js';
import { HealthFeed } from './health-feed.js';
import { ReportOutbox } from '../shared/reports.js';

export interface SlackSinkOptions {
  config: Config;
  api: SlackApi;
  logger: Logger;
  clock?: Clock;
  /** How long start() waits for the broker before going on without it (default 5 s). */
  connectWaitMs?: number;
  /** Where the outbox lives; tests pass one that fails on demand. */
  createOutbox?: (dir: string, dedupSize: number, opts: { sync: boolean }) => Outbox;
  /** No bot token: reports say "dry run" so the status page does not claim a post. */
  dryRun?: boolean;
  /** Back-off of auth.test while Slack refuses the token (default 30 s doubling to 10 min); tests pass less. */
  tokenRecheck?: { baseMs: number; maxMs: number };
  /** Counts Slack's 429s; given by `bellhop start`, which serves the same registry on /metrics. */
  metrics?: Metrics;
}

export interface SlackSinkEvents {
  report: [DeliveryReport];
  /** A redelivered event that was already taken care of. */
  duplicate: [string];
  subscribed: [];
  /** Whether Slack takes the bot token changed (also published, retained, on slack/health). */
  health: [SlackHealth];
}

export class SlackSink extends EventEmitter<SlackSinkEvents> implements Part {
  readonly name = 'slack-sink';
  #fatal = new FatalSignal();
  #opts: SlackSinkOptions;
  #log: Logger;
  #topics: Topics;
  #clock: Clock;
  #router: Router;
  #threaded: (type: string) => boolean;
  #outbox: Outbox | undefined;
  #dispatcher: Dispatcher | undefined;
  #gate: DigestGate<PostJob> | undefined;
  #mqtt: MqttClient | undefined;
  #token: TokenCheck | undefined;
  #reports: ReportOutbox | undefined;
  #health: HealthState;
  #feed: HealthFeed;
  #intake: { drained: () => Promise<void> } | undefined;
  #stopping = false;

  constructor(opts: SlackSinkOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.logger.child({ part: 'slack-sink' });
    this.#topics = new Topics(opts.config.mqtt.topicPrefix);
    this.#clock = opts.clock ?? systemClock;
    // Built here so a bad routing table stops the process before anything connects.
    this.#router = new Router(opts.config.slack);
    this.#threaded = threadedTypes(opts.config.slack.threads.types);
    this.#health = { state: opts.dryRun ? 'dry_run' : 'checking' };
    this.#feed = new HealthFeed(this.#topics.slackHealth(), this.#clock, () => this.health);
  }

  /** Does Slack take the bot token (checked at start, learnt from each delivery)? */
  get health(): SlackHealth {
    return { ...this.#health, pending: this.pending, at: new Date(this.#clock.now()).toISOString() };
  }

  get connected(): boolean {
    return this.#mqtt?.connected ?? false;
  }

  /** Jobs in the outbox not yet delivered (including events held for a digest). */
  get pending(): number {
    return this.#outbox?.pendingJobs ?? 0;
  }

  onFatal(listener: (err: Error) => void): void {
    this.#fatal.on(listener);
  }

  async start(): Promise<void> {
    const { config } = this.#opts;
    const slack = config.slack;
    this.#stopping = false;
    const outbox = (this.#opts.createOutbox ?? ((dir, size, opts) => new Outbox(dir, size, opts)))(join(config.dataDir, 'slack'), slack.dedupSize, { sync: config.dataSync !== 'none' });
    const opened = await outbox.open();
    const { threads } = opened;
    // A stop while a digest's posts were being deleted leaves some: the digest has them.
    const { jobs, held } = withoutHeldPosts(opened.jobs);
    if (held.length > 0) await outbox.transaction((tx) => held.forEach((j) => tx.deleteJob(j)));
    this.#outbox = outbox;
    const threadBook = new ThreadBook(threads, this.#clock, slack.threads.windowMs);
    const token = new TokenCheck({
      api: this.#opts.api,
      clock: this.#clock,
      logger: this.#log,
      apiUrl: slack.apiUrl,
      dryRun: this.#opts.dryRun ?? false,
      onChange: (health) => this.#healthChanged(health),
      ...(this.#opts.tokenRecheck ? { recheck: this.#opts.tokenRecheck } : {}),
    });
    this.#token = token;
    this.#dispatcher = new Dispatcher({
      api: this.#opts.api,
      outbox,
      config: slack,
      clock: this.#clock,
      logger: this.#log,
      report: (r) => this.#report(r),
      threads: threadBook,
      onRateLimited: () => this.#opts.metrics?.slackRateLimited.inc(),
      token,
    });
    // Before any job is admitted: the lanes hold until Slack has answered auth.test.
    void token.start();
    await threadBook.forgetExpired(outbox);
    this.#gate = new DigestGate<PostJob>(slack.digest, this.#clock, (batch) => void this.#onBatch(batch));
    if (jobs.length > 0) this.#log.info({ jobs: jobs.length }, 'resuming deliveries left in the outbox');
    for (const job of jobs.sort((a, b) => a.seq - b.seq)) this.#admit(job);

    const client = connectMqtt(mqttSettings(config, slack.mqtt), { clientId: slack.mqttClientId, clean: false });
    failLoudly(client, config, "slack.mqtt.username and slack.mqtt.password (the Slack part's broker login)", (err) => this.#fatal.raise(err));
    this.#mqtt = client;
    this.#feed.attach(client);
    this.#reports = new ReportOutbox(client, { onDrop: (n) => this.#log.warn({ dropped: n }, 'broker away too long: oldest delivery reports given up') });
    // Each PUBACK goes out once the outbox has the message on disk; one it could not store is
    // never acked, so the broker keeps the message and redelivers it after a reconnect.
    this.#intake = ackWhenStored(client, (packet) => this.#handle(packet), (err, packet) =>
      this.#log.error({ err: err.message, topic: packet.topic }, 'could not store an event; leaving it unacknowledged'),
    );
    // With a share group each event goes to one sink of the group; rang reports are not shared,
    // since only the sink that posted an event's message can update it.
    const events = slack.shareGroup ? `$share/${slack.shareGroup}/${this.#topics.events()}` : this.#topics.events();
    const filters = { [events]: { qos: 1 as const }, [this.#topics.anyDevice('rang')]: { qos: 1 as const } };
    client.on('connect', (connack) => {
      this.#log.info({ sessionPresent: connack.sessionPresent, clientId: slack.mqttClientId }, 'connected to MQTT broker');
      this.#feed.publish();
      subscribeChecked(client, filters, { log: this.#log, refusedMessage: 'broker refused subscriptions (ACL? the sink needs the slack role)' }, () =>
        this.emit('subscribed'),
      );
    });
    client.on('offline', () => this.#log.warn('MQTT broker unreachable; retrying'));
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'MQTT error'));
    await this.#firstSubscription(client);
  }

  /**
   * Started means subscribed: on a first run there is no session yet, and events published
   * before the subscription would never reach us. A broker that is down is waited for in
   * the background; a refused login stops the start.
   */
  async #firstSubscription(client: MqttClient): Promise<void> {
    const waitMs = this.#opts.connectWaitMs ?? 5000;
    let onSubscribed: () => void = () => undefined;
    const subscribed = new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimeout(() => resolve(false), waitMs);
      onSubscribed = () => {
        this.#clock.clearTimeout(timer);
        resolve(true);
      };
      this.once('subscribed', onSubscribed);
    });
    try {
      await waitForConnect(client, waitMs);
    } catch (err) {
      if (typeof (err as { code?: unknown }).code === 'number') {
        onSubscribed();
        await this.stop();
        throw new Error(`MQTT broker refused the Slack sink's login: ${(err as Error).message}`, { cause: err });
      }
    }
    if (!(await subscribed)) {
      this.off('subscribed', onSubscribed);
      this.#log.warn('starting without a broker subscription yet; events are taken once it is made');
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#gate?.stop();
    this.#token?.stop();
    this.#feed.stop();
    const client = this.#mqtt;
    this.#mqtt = undefined;
    this.#reports?.stop();
    this.#reports = undefined;
    if (client) {
      // Reports in flight are best effort at a stop: waiting for their PUBACKs could hang it on a dead link.
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      await client.endAsync();
    }
    await this.#intake?.drained();
    await this.#dispatcher?.stop();
    await this.#outbox?.close();
    this.#outbox = undefined;
    this.#dispatcher = undefined;
    this.#gate = undefined;
  }

  async #handle(packet: IPublishPacket): Promise<void> {
    const route = this.#topics.parse(packet.topic);
    if (route?.kind === 'event') return this.#onEvent(packet.payload as Buffer, packet.topic);
    if (route?.kind === 'device' && route.channel === 'rang') {
      const rang = parseRang(packet.payload as Buffer);
      if (rang) return this.#onRang(rang);
      this.#log.warn({ topic: packet.topic }, 'ignored a malformed rang report');
    }
  }

  async #onEvent(payload: Buffer, topic: string): Promise<void> {
    let event: Envelope;
    try {
      event = parseEnvelope(payload);
    } catch (err) {
      if (err instanceof EnvelopeError) return void this.#log.warn({ topic, err: err.message }, 'ignored a malformed event');
      throw err;
    }
    const outbox = this.#outbox!;
    const eventId = event.id;
    const decision = this.#router.route(event);
    const digestible = this.#opts.config.slack.digest.severities.includes(event.severity);
    const fingerprint = this.#threaded(event.type) ? fingerprintOf(event) : undefined;
    const jobs = await outbox.accept(event, () =>
      decision.targets.map((t): PostJob => ({
        seq: outbox.nextSeq(),
        kind: 'post',
        eventId: event.id,
        type: event.type,
        lane: t.key,
        target: t.target,
        digest: digestible && t.digest,
        ...(fingerprint ? { fingerprint } : {}),
      })),
    );
    if (!jobs) {
      this.#log.debug({ eventId }, 'redelivered event already taken care of');
      return void this.emit('duplicate', eventId);
    }
    if (jobs.length === 0) {
      this.#log.debug({ eventId, type: event.type, reason: decision.dropped }, 'not posting this event to Slack');
      this.#report({ eventId: event.id, status: 'dropped', error: decision.dropped ?? 'dropped' });
    } else if (this.#log.isLevelEnabled('debug')) {
      this.#log.debug({ eventId, type: event.type, targets: jobs.map((j) => j.lane) }, 'event routed');
    }
    for (const job of jobs) this.#admit(job);
  }

  async #onRang(rang: RangReport): Promise<void> {
    if (rang.strikes === 0) return;
    const outbox = this.#outbox!;
    const jobs = await outbox.transaction(async (tx) => {
      const record = await tx.record(rang.eventId);
      // Not an event we posted (a /ding, or forgotten long ago).
      if (!record) return [];
      if (record.rangs.some((r) => r.deviceId === rang.deviceId && r.at === rang.at)) return [];
      record.rangs.push({ deviceId: rang.deviceId, at: rang.at, strikes: rang.strikes });
      tx.putRecord(rang.eventId, record);
      const updates: Job[] = record.refs
        .filter((ref) => ref.kind !== 'digest')
        .map((ref) => ({ seq: outbox.nextSeq(), kind: 'update', lane: ref.lane, target: ref.target, eventId: rang.eventId, channel: ref.channel, ts: ref.ts }));
      for (const job of updates) tx.putJob(job);
      return updates;
    });
    for (const job of jobs) this.#admit(job);
  }

  /** Sends a job to its lane, unless the digest window holds it back. */
  #admit(job: Job): void {
    if (this.#stopping) return;
    // While Slack is refused or away, the page's count of waiting deliveries follows (once a second at most).
    if (this.#health.state === 'token_refused' || this.#health.state === 'unreachable') this.#feed.publishSoon();
    // A post already attempted (before a restart) may be in Slack: it is looked for, never folded into a digest.
    if (job.kind === 'post' && job.digest && !job.fingerprint && !job.attempt) {
      if (this.#gate!.offer(`${job.lane}\u0000${job.type}`, job) === 'held') return;
    }
    this.#dispatcher!.enqueue(job);
  }

  async #onBatch(batch: DigestBatch<PostJob>): Promise<void> {
    if (this.#stopping) return;
    const [first] = batch.held;
    if (!first) return;
    if (batch.held.length === 1) return void this.#dispatcher!.enqueue(first);
    try {
      const { digest, rest } = await storeDigest(this.#outbox!, batch);
      rest.catch((err: Error) => this.#log.warn({ err: err.message }, 'could not delete the posts a digest holds; the next start drops them'));
      if (!this.#stopping) this.#dispatcher!.enqueue(digest);
    } catch (err) {
      // The held jobs are still in the outbox; send them one by one rather than lose them.
      this.#log.error({ err: (err as Error).message }, 'could not store a digest; posting the events one by one');
      for (const job of batch.held) this.#dispatcher!.enqueue(job);
    }
  }

  #healthChanged(health: HealthState): void {
    this.#health = health;
    this.emit('health', this.health);
    this.#feed.publish();
  }

  #report(report: Omit<DeliveryReport, 'at'>): void {
    const full: DeliveryReport = { ...report, ...(this.#opts.dryRun ? { dryRun: true } : {}), at: new Date(this.#clock.now()).toISOString() };
    // One message on the broker for many events (a digest); one 'report' per event here.
    const { alsoEventIds, ...one } = full;
    for (const eventId of reportedEventIds(full)) this.emit('report', alsoEventIds ? { ...one, eventId } : full);
    this.#reports?.publish(this.#topics.slackDelivered(), JSON.stringify(full));
  }
}
