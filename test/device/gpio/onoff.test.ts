import { describe, expect, it } from 'vitest';
import { OnoffGpioDriver, type OnoffModule } from '../../../device/gpio/onoff.js';
import type { ResolvedPin } from '../../../device/gpio/chips.js';

const PIN: ResolvedPin = { sysfsNumber: 529, bcmPin: 17, chip: { name: 'gpiochip512', base: 512, ngpio: 58, label: 'pinctrl-bcm2711' } };

/** A stand-in onoff: records what the driver asks of it, or fails the export like the kernel. */
function fakeOnoff(fail?: NodeJS.ErrnoException) {
  const calls: string[] = [];
  const module: OnoffModule = {
    Gpio: class {
      constructor(gpio: number, direction: string, _edge?: string, options?: { activeLow?: boolean }) {
        if (fail) throw fail;
        calls.push(`new ${gpio} ${direction} activeLow=${options?.activeLow}`);
      }
      writeSync(value: number) {
        calls.push(`write ${value}`);
      }
      unexport() {
        calls.push('unexport');
      }
    },
  };
  return { calls, load: async () => module };
}

function errno(code: string, path = '/sys/class/gpio/export'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, write '${path}'`), { code, path });
}

async function openError(err: NodeJS.ErrnoException, pin: ResolvedPin = PIN): Promise<string> {
  const { load } = fakeOnoff(err);
  return OnoffGpioDriver.open(pin, { load }).then(
    () => {
      throw new Error('expected open to fail');
    },
    (e: Error) => e.message,
  );
}

describe('the onoff driver', () => {
  it('exports the pin as an output that starts low, and on close writes 0 before unexporting', async () => {
    const fake = fakeOnoff();
    const driver = await OnoffGpioDriver.open(PIN, { load: fake.load });
    driver.write(1);
    driver.close();
    driver.close();
    expect(fake.calls).toEqual(['new 529 low activeLow=false', 'write 1', 'write 0', 'unexport']);
  });

  it('starts an active-low pin with the line high, which is off', async () => {
    const fake = fakeOnoff();
    await OnoffGpioDriver.open(PIN, { load: fake.load, activeLow: true });
    expect(fake.calls).toEqual(['new 529 high activeLow=true']);
  });

  it('says to add the user to the gpio group when permission is denied', async () => {
    expect(await openError(errno('EACCES'))).toMatch(/GPIO 529 \(BCM 17\): permission denied \(\/sys\/class\/gpio\/export\); add the user .* "gpio" group \(sudo usermod -aG gpio /);
    expect(await openError(errno('EPERM', '/sys/class/gpio/gpio529/value'))).toMatch(/permission denied \(\/sys\/class\/gpio\/gpio529\/value\)/);
  });

  it('says the pin is busy and who usually holds it', async () => {
    expect(await openError(errno('EBUSY'))).toMatch(/GPIO 529 \(BCM 17\) is busy: a kernel driver or another program holds it/);
  });

  it('explains EINVAL from a forced number differently from a found one', async () => {
    expect(await openError(errno('EINVAL'), { sysfsNumber: 17, bcmPin: 17 })).toMatch(/EINVAL.*remove device\.gpio\.sysfsNumber/);
    expect(await openError(errno('EINVAL'))).toMatch(/EINVAL.*check device\.gpio\.pin/);
  });
});
