// The bell controller turns ring requests into pin pulses and owns every safety
// rule: a hard cap on pulse length, a minimum gap, a strikes-per-minute cap
// (excess coalesced into one later strike), no ringing for stale events, and a
// time-to-live for commands. Drivers below it only write 0 or 1; callers may ask
// for a pattern's pulse and gap, but never get past the caps.
import type { BellConfig } from '../shared/config/schema.js';
import { Sleeps, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { SuppressReason } from '../shared/messages.js';
import type { GpioDriver } from './gpio/driver.js';

/** No configuration can hold the pin high longer than this. */
export const ABSOLUTE_MAX_PULSE_MS = 1000;
const MINUTE = 60_000;

export interface RingRequest {
  eventId: string;
  type: string;
  /** When the event happened (ISO); stale events are not rung. */
  time: string;
  strikes: number;
  /** The pattern's pulse; capped by maxPulseMs and ABSOLUTE_MAX_PULSE_MS. */
  pulseMs?: number;
  /** The pattern's gap; never below minGapMs. */
  gapMs?: number;
  /** Commands (dings) older than this when asked are refused as expired. */
  ttlMs?: number;
}

export interface RingOutcome {
  eventId: string;
  strikes: number;
  suppressed?: SuppressReason;
}


export class BellController {
  #driver: GpioDriver;
  #rules: BellConfig;
  #clock: Clock;
  #log: Logger;
  #tail: Promise<unknown> = Promise.resolve();
  #strikeTimes: number[] = [];
  #lastLowAt = -Infinity;
  #stopped = false;
  #sleeps: Sleeps;
  #owedTimer: NodeJS.Timeout | undefined;
  #coalesced = 0;

  constructor(driver: GpioDriver, rules: BellConfig, clock: Clock, logger: Logger) {
    this.#driver = driver;
    this.#rules = rules;
    this.#clock = clock;
    this.#sleeps = new Sleeps(clock);
    this.#log = logger;
  }

  get pulseMs(): number {
    return this.#pulseFor(this.#rules.pulseMs);
  }

  get gapMs(): number {
    return this.#gapFor(this.#rules.gapMs);
  }

  /** Queues a ring; resolves once it has been struck (or refused). */
  ring(request: RingRequest): Promise<RingOutcome> {
    const ageMs = this.#clock.now() - Date.parse(request.time);
    if (request.ttlMs !== undefined && !(ageMs <= request.ttlMs)) {
      // Per event, so at debug like the agent's own line; the rang report carries `expired`.
      this.#log.debug({ eventId: request.eventId, ageMs, ttlMs: request.ttlMs }, 'command expired before it arrived (or the clocks disagree)');
      return Promise.resolve({ eventId: request.eventId, strikes: 0, suppressed: 'expired' });
    }
    if (!(ageMs <= this.#rules.maxEventAgeSeconds * 1000)) {
      this.#log.debug({ eventId: request.eventId, ageMs }, 'event too old to ring');
      return Promise.resolve({ eventId: request.eventId, strikes: 0, suppressed: 'too-old' });
    }
    const run = this.#tail.then(() => this.#run(request));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Stops ringing, drives the pin low and releases it. */
  stop(): void {
    this.#stopped = true;
    if (this.#owedTimer) this.#clock.clearTimeout(this.#owedTimer);
    this.#owedTimer = undefined;
    this.#sleeps.wakeAll();
    this.emergencyLow();
  }

  /** Synchronous pin-low for exit paths; never throws. */
  emergencyLow(): void {
    try {
      this.#driver.write(0);
    } catch {
      // Nothing more can be done on an exit path; the systemd ExecStopPost is the last line.
    }
  }

  #pulseFor(asked: number): number {
    const ms = Math.min(asked, this.#rules.maxPulseMs, ABSOLUTE_MAX_PULSE_MS);
    return Number.isFinite(ms) && ms > 0 ? ms : Math.min(this.#rules.maxPulseMs, ABSOLUTE_MAX_PULSE_MS);
  }

  #gapFor(asked: number): number {
    const ms = Math.max(asked, this.#rules.minGapMs);
    return Number.isFinite(ms) ? ms : this.#rules.minGapMs;
  }

  async #run(request: RingRequest): Promise<RingOutcome> {
    const wanted = Math.max(1, Math.min(request.strikes, 10));
    const pulseMs = this.#pulseFor(request.pulseMs ?? this.#rules.pulseMs);
    const gapMs = this.#gapFor(request.gapMs ?? this.#rules.gapMs);
    let struck = 0;
    for (; struck < wanted; struck++) {
      if (this.#stopped) return { eventId: request.eventId, strikes: struck, suppressed: 'stopped' };
      if (!this.#hasCapacity()) {
        this.#coalesce();
        return { eventId: request.eventId, strikes: struck, suppressed: 'rate-cap' };
      }
      await this.#strike(pulseMs, gapMs);
    }
    return { eventId: request.eventId, strikes: struck };
  }

  #hasCapacity(): boolean {
    const now = this.#clock.now();
    while (this.#strikeTimes.length > 0 && now - this.#strikeTimes[0]! >= MINUTE) this.#strikeTimes.shift();
    return this.#strikeTimes.length < this.#rules.maxStrikesPerMinute;
  }

  /** Over the cap: owe one strike for all the excess, struck when the window has room. */
  #coalesce(): void {
    this.#coalesced++;
    if (this.#owedTimer) return;
    const waitMs = Math.max(0, this.#strikeTimes[0]! + MINUTE - this.#clock.now());
    this.#log.warn({ waitMs }, 'strike rate cap reached; coalescing further events into one later strike');
    this.#owedTimer = this.#clock.setTimeout(() => {
      this.#owedTimer = undefined;
      const count = this.#coalesced;
      this.#coalesced = 0;
      if (this.#stopped) return;
      this.#log.info({ coalesced: count }, 'one strike for the coalesced events');
      this.#tail = this.#tail.then(() => (this.#hasCapacity() && !this.#stopped ? this.#strike(this.pulseMs, this.gapMs) : undefined)).catch(() => undefined);
    }, waitMs);
  }

  async #strike(pulseMs: number, gapMs: number): Promise<void> {
    const wait = this.#lastLowAt + gapMs - this.#clock.now();
    if (wait > 0) await this.#sleeps.sleep(wait);
    if (this.#stopped) return;
    this.#strikeTimes.push(this.#clock.now());
    try {
      this.#driver.write(1);
      await this.#sleeps.sleep(pulseMs);
    } finally {
      this.#driver.write(0);
      this.#lastLowAt = this.#clock.now();
    }
  }

}
