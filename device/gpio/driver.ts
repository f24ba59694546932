// The GPIO driver interface is deliberately tiny: the bell controller above it
// owns every safety rule, so a new driver can never bypass them.
export type PinValue = 0 | 1;

export interface GpioDriver {
  readonly name: string;
  /** Synchronous, so exit paths can drive the pin low without awaiting. */
  write(value: PinValue): void;
  /** Drives the pin low and releases it. Safe to call twice. */
  close(): void;
}
