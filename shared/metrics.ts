// Every Prometheus metric bellhop exposes, in one registry per process. Parts take
// the Metrics object as an optional collaborator; GET /metrics serves the registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const MAX_SOURCE_LABELS = 50;

export class Metrics {
  readonly registry = new Registry();
  readonly eventsAccepted = new Counter({
    name: 'bellhop_events_accepted_total',
    help: 'Events the broker acknowledged (answered 2xx), by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'bellhop_events_rejected_total',
    help: 'HTTP requests refused, by route and reason (the error code of the JSON answer: broker_unavailable = 503, nothing published; publish_unconfirmed = 504, sent without an acknowledgement in time, maybe published).',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });
  readonly publishAckSeconds = new Histogram({
    name: 'bellhop_publish_ack_seconds',
    help: 'Time from publishing an event to the broker\'s PUBACK.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly slackDeliveries = new Counter({
    name: 'bellhop_slack_deliveries_total',
    help: 'What the Slack sink did with events: posted, updated, threaded, digested, dropped, retrying, failed.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly slackRateLimited = new Counter({
    name: 'bellhop_slack_rate_limited_total',
    help: 'Slack API answers of 429 (rate limited) seen by the sink in this process.',
    registers: [this.registry],
  });
  readonly bellsOnline = new Gauge({
    name: 'bellhop_bells_online',
    help: 'Bells whose retained status is online.',
    registers: [this.registry],
  });
  readonly strikes = new Counter({
    name: 'bellhop_strikes_total',
    help: 'Strikes rung, by device (from the bells\' rang reports).',
    labelNames: ['device'] as const,
    registers: [this.registry],
  });
  readonly suppressed = new Counter({
    name: 'bellhop_rings_suppressed_total',
    help: 'Events a bell did not ring (fully or partly), by device and reason.',
    labelNames: ['device', 'reason'] as const,
    registers: [this.registry],
  });
  #sources = new Set<string>();

  constructor({ processMetrics = true }: { processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'bellhop_process_' });
  }

  /** A bounded label for an event source ("api/ci" -> "api", "https://stripe.com/..." -> "stripe.com"). */
  sourceLabel(source: string): string {
    let label: string;
    try {
      label = /^[a-z][a-z0-9+.-]*:\/\//i.test(source) ? new URL(source).hostname : (source.split('/')[0] ?? source);
    } catch {
      label = 'other';
    }
    label = label.slice(0, 40) || 'other';
    if (this.#sources.has(label)) return label;
    if (this.#sources.size >= MAX_SOURCE_LABELS) return 'other';
    this.#sources.add(label);
    return label;
  }
}
