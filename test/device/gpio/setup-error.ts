// The message of the GpioSetupError a GPIO setup step throws (and a failure if it throws none or another).
import { expect } from 'vitest';
import { GpioSetupError } from '../../../device/gpio/chips.js';

export function setupErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GpioSetupError);
    return (err as Error).message;
  }
  throw new Error('expected a GpioSetupError');
}
