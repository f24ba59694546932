// Which pattern an event type rings with: bell.patterns[type], its strike count
// overridden by the bell.strikes shorthand, pulse and gap defaulting to the
// bell's own. The controller caps whatever comes out of here.
import type { BellConfig } from '../shared/config/schema.js';

export interface ResolvedPattern {
  strikes: number;
  pulseMs: number;
  gapMs: number;
}

export function patternFor(bell: BellConfig, type: string): ResolvedPattern {
  const pattern = bell.patterns[type];
  return {
    strikes: bell.strikes[type] ?? pattern?.strikes ?? 1,
    pulseMs: pattern?.pulseMs ?? bell.pulseMs,
    gapMs: pattern?.gapMs ?? bell.gapMs,
  };
}
