// Turns what was seen on the broker into trace steps with one line for people, so the
// page and scripts read the same words ("rang office-bell", "posted to Slack").
import type { Envelope } from '../../shared/envelope.js';
import type { TraceStep } from './schemas.js';
import { clip, type SeenDelivery, type SeenRang } from './wire.js';

const REASONS: Readonly<Record<string, string>> = {
  'too-old': 'the event was too old when it arrived',
  'rate-cap': 'rate cap reached (coalesced into one later strike)',
  duplicate: 'already rung for this event',
  stopped: 'the agent was stopping',
  muted: 'muted',
  quiet: 'quiet hours',
  expired: 'the ding command expired before it arrived (or the clocks disagree)',
  'caught-up': 'covered by the one strike for events that waited while the bell was offline',
};

/** A reason this server does not know yet is shown as the agent wrote it. */
export function describeReason(reason: string): string {
  return REASONS[reason] ?? reason;
}

/** Sources the server itself names after the API token that sent them. */
function verifiedBy(source: string): string | undefined {
  const m = /^(api|status)\/(.+)$/.exec(source);
  return m ? `API token "${m[2]}"` : undefined;
}

export function acceptedStep(envelope: Envelope): TraceStep {
  const by = verifiedBy(envelope.source);
  const step: TraceStep = {
    stage: 'accepted',
    at: envelope.time,
    outcome: 'ok',
    text: `accepted from ${envelope.source}${by ? `, verified by ${by}` : ''}`,
    source: envelope.source,
  };
  if (by) step.verifiedBy = by;
  return step;
}

export function publishedStep(topic: string, receivedAt: Date): TraceStep {
  return { stage: 'published', at: receivedAt.toISOString(), outcome: 'ok', text: `published to the broker on ${topic}`, topic };
}

export function rangStep(report: SeenRang, receivedAt: Date): TraceStep {
  const device = clip(report.deviceId, 100);
  const strikes = `${report.strikes} strike${report.strikes === 1 ? '' : 's'}`;
  const step: TraceStep = {
    stage: 'rang',
    at: validTime(report.at, receivedAt),
    outcome: report.strikes > 0 && !report.suppressed ? 'ok' : 'warn',
    text: '',
    deviceId: device,
    strikes: report.strikes,
  };
  if (report.suppressed) {
    step.suppressed = clip(report.suppressed, 100);
    const why = describeReason(step.suppressed);
    step.text = report.strikes > 0 ? `rang ${device} (${strikes}), then held back: ${why}` : `${device} did not ring: ${why}`;
  } else {
    step.text = `rang ${device} (${strikes})`;
  }
  return step;
}

export function deliveryStep(report: SeenDelivery, receivedAt: Date): TraceStep {
  const channel = report.channel ? clip(report.channel, 100) : undefined;
  const error = report.error ? clip(report.error) : undefined;
  const inChannel = channel ? ` ${channel}` : '';
  const because = error ? `: ${error}` : '';
  const [outcome, text] = ((): [TraceStep['outcome'], string] => {
    if (report.dryRun) {
      // Nothing reached Slack: say what would have happened, never "posted".
      if (report.status === 'dropped') return ['warn', `dry run: would not post to Slack${because || ': dropped by a rule'}`];
      return ['warn', `dry run (no SLACK_BOT_TOKEN): would ${report.status === 'updated' ? 'update its message in' : 'post to'}${inChannel || ' Slack'}`];
    }
    switch (report.status) {
      case 'posted':
        return ['ok', `posted to Slack${inChannel}`];
      case 'threaded':
        return ['ok', `posted to Slack in a thread${inChannel}`];
      case 'updated':
        return ['ok', `updated its Slack message${inChannel}`];
      case 'digested':
        return ['warn', `went into the Slack digest${inChannel}`];
      case 'dropped':
        return ['warn', `not posted to Slack${because || ': dropped by a rule'}`];
      case 'retrying':
        return ['warn', `Slack post failed, will retry${because}`];
      case 'failed':
        return ['fail', `Slack post failed${because}`];
      default:
        return ['warn', `Slack: ${clip(report.status, 100)}${because}`];
    }
  })();
  const delivery = report.dryRun ? `dry run: ${clip(report.status, 90)}` : clip(report.status, 100);
  const step: TraceStep = { stage: 'slack', at: validTime(report.at, receivedAt), outcome, text, delivery };
  if (channel) step.channel = channel;
  if (error) step.error = error;
  // Only web links: the page renders this as a link, and a javascript: URL must never get there.
  if (report.permalink && /^https?:\/\//i.test(report.permalink)) step.permalink = clip(report.permalink, 1000);
  return step;
}

/** Another machine's clock text; when it is not a time, when we saw it is the best we have. */
function validTime(text: string, fallback: Date): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? fallback.toISOString() : new Date(ms).toISOString();
}
