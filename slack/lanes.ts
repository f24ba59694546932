// Lane scheduling: one lane per channel (or DM), each with its own FIFO queue and its own
// limiter, so one rate-limited or failing channel never holds up the others. What an
// attempt does is the dispatcher's business; a lane only runs them in order and waits.
import { Sleeps, type Clock } from '../shared/clock.js';
import type { SlackConfig } from '../shared/config/schema.js';
import { ChannelLimiter } from './limiter.js';
import type { Job } from './outbox.js';
import type { Target } from './router.js';

export interface Lane {
  key: string;
  target: Target;
  queue: Job[];
  limiter: ChannelLimiter;
  /** Failures in a row (5xx, network) that the back-off grows with; a 429 is not one (it waits its Retry-After). */
  failures: number;
  /** Why the last attempt failed, while the lane is backing off. */
  lastFailure: string | undefined;
  running: Promise<void> | undefined;
  idleSince: number;
}

/** Runs one job: true when the job is finished with (delivered or given up), false to retry it. */
export type AttemptFn = (lane: Lane, job: Job) => Promise<boolean>;

const LANE_IDLE_MS = 60_000;
/** While deliveries are held (a refused token), a lane looks again this often, or when woken. */
const HOLD_POLL_MS = 60_000;

export class Lanes {
  #lanes = new Map<string, Lane>();
  #limits: SlackConfig['limiter'];
  #clock: Clock;
  #attempt: AttemptFn;
  #sleeps: Sleeps;
  #hold: () => boolean;
  #stopping = false;

  /** `hold`: while true no attempt is made (the queues keep their jobs); call wake() when it turns false. */
  constructor(limits: SlackConfig['limiter'], clock: Clock, attempt: AttemptFn, hold: () => boolean = () => false) {
    this.#limits = limits;
    this.#clock = clock;
    this.#attempt = attempt;
    this.#hold = hold;
    this.#sleeps = new Sleeps(clock);
  }

  /** Ends the waits of every lane, so a lift of the hold takes effect at once. */
  wake(): void {
    this.#sleeps.wakeAll();
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Jobs waiting in the lanes. */
  get queued(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.queue.length;
    return n;
  }

  lane(key: string, target: Target): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) {
      const now = this.#clock.now();
      this.#sweep(now);
      lane = { key, target, queue: [], limiter: new ChannelLimiter(this.#limits, now), failures: 0, lastFailure: undefined, running: undefined, idleSince: now };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  push(lane: Lane, job: Job): void {
    lane.queue.push(job);
    this.#kick(lane);
  }

  /** Stops taking jobs; an attempt in flight finishes and records its outcome, so it is not posted again after a restart. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#sleeps.wakeAll();
    await Promise.all([...this.#lanes.values()].map((lane) => lane.running));
  }

  #kick(lane: Lane): void {
    if (lane.running || this.#stopping) return;
    lane.running = this.#drain(lane).finally(() => {
      lane.running = undefined;
      lane.idleSince = this.#clock.now();
      // Something was queued while the loop was finishing.
      if (lane.queue.length > 0) this.#kick(lane);
    });
  }

  /** Forgets lanes idle long enough for their limiter to be full again (hundreds of project channels). */
  #sweep(now: number): void {
    const refilled = Math.max(LANE_IDLE_MS, this.#limits.intervalMs * this.#limits.burst);
    for (const [key, lane] of this.#lanes) {
      if (!lane.running && lane.queue.length === 0 && now - lane.idleSince > refilled) this.#lanes.delete(key);
    }
  }

  async #drain(lane: Lane): Promise<void> {
    while (!this.#stopping && lane.queue.length > 0) {
      if (this.#hold()) {
        await this.#sleeps.sleep(HOLD_POLL_MS);
        continue;
      }
      const wait = lane.limiter.delay(this.#clock.now());
      if (wait > 0) {
        await this.#sleeps.sleep(wait);
        continue;
      }
      const job = lane.queue[0]!;
      lane.limiter.take(this.#clock.now());
      if (await this.#attempt(lane, job)) lane.queue.shift();
    }
  }
}
