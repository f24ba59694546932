import { writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, ConfigError } from '../../shared/config/load.js';
import { tempDir } from '../helpers/world.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

function yamlFile(text: string): string {
  const dir = tempDir();
  const file = join(dir.path, 'bellhop.yaml');
  writeFileSync(file, text);
  return file;
}

describe('config', () => {
  it('needs no file: the defaults run the embedded setup on loopback', () => {
    const config = loadConfig({ env: {} });
    expect(config.broker).toMatchObject({ host: '127.0.0.1', port: 1883, persistence: 'level' });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.device).toMatchObject({ id: 'office-bell', events: ['user.signup', 'subscription.upgraded', 'deal.won', 'bell.test'] });
    expect(config.device.gpio.driver).toBe('auto');
    expect(config.mqtt.protocolVersion).toBe(4);
  });

  it('names the key path and what is wrong in one line', () => {
    expect(errorOf(() => parseConfig({ device: { gpio: { pin: 'seventeen' } } }))).toBe(
      'device.gpio.pin: expected an integer 0-53, got "seventeen"',
    );
    expect(errorOf(() => parseConfig({ server: { port: 70000 } }))).toBe('server.port: expected an integer 0-65535, got 70000');
    expect(errorOf(() => parseConfig({ server: { colour: 'red' } }))).toBe('server.colour: unknown key');
    expect(errorOf(() => parseConfig({ device: { gpio: { driver: 'magic' } } }))).toMatch(/^device\.gpio\.driver: expected one of "auto", "onoff", "gpiod", "mock", "sim", got "magic"$/);
  });

  it('does not echo secrets in its errors', () => {
    const message = errorOf(() => parseConfig({ broker: { users: [{ username: 'pi', password: 'short', role: 'device' }] } }));
    expect(message).toMatch(/^broker\.users\.0\.password: /);
    expect(message).not.toContain('short');
  });

  it('refuses an open broker beyond loopback', () => {
    expect(errorOf(() => parseConfig({ broker: { host: '0.0.0.0' } }))).toMatch(/^broker\.users: required/);
  });

  it('refuses a pulse longer than its own cap', () => {
    expect(errorOf(() => parseConfig({ device: { bell: { pulseMs: 300, maxPulseMs: 100 } } }))).toMatch(/^device\.bell\.pulseMs:/);
  });

  it('reads YAML, substitutes ${ENV} and ${file:...}, and lets BELLHOP_* variables override the file', () => {
    const dir = tempDir();
    const secretFile = join(dir.path, 'token');
    writeFileSync(secretFile, 'from-a-file-0123456789\n');
    const file = yamlFile(
      [
        'server:',
        '  port: 9000',
        '  tokens:',
        '    - name: ci',
        '      token: ${CI_TOKEN}',
        '    - name: cron',
        `      token: \${file:${secretFile}}`,
        'device:',
        '  gpio:',
        '    pin: 4',
      ].join('\n'),
    );
    const config = loadConfig({ file, env: { CI_TOKEN: 'from-the-env-0123456789', BELLHOP_HTTP_PORT: '9100', BELLHOP_GPIO_PIN: '22' } });
    expect(config.server.port).toBe(9100);
    expect(config.device.gpio.pin).toBe(22);
    expect(config.server.tokens).toEqual([
      { name: 'ci', token: 'from-the-env-0123456789', scope: 'write' },
      { name: 'cron', token: 'from-a-file-0123456789', scope: 'write' },
    ]);
  });

  it('reads each variable as the type of its key: a numeric device id stays a string, a port a number', () => {
    const config = loadConfig({ env: { BELLHOP_DEVICE_ID: '42', BELLHOP_MQTT_PORT: '1999', BELLHOP_SLACK_CHANNEL: '#2024' } });
    expect(config.device.id).toBe('42');
    expect(config.broker.port).toBe(1999);
    expect(config.slack.defaultChannel).toBe('#2024');
    expect(() => loadConfig({ env: { BELLHOP_HTTP_PORT: 'eighty' } })).toThrow(/^BELLHOP_HTTP_PORT=eighty: server\.port: expected an integer/);
  });

  it('adds BELLHOP_API_TOKEN as a token named env', () => {
    const config = loadConfig({ env: { BELLHOP_API_TOKEN: 'env-token-0123456789' } });
    expect(config.server.tokens).toEqual([{ name: 'env', token: 'env-token-0123456789', scope: 'write' }]);
  });

  it('names the variable when a ${ENV} reference is not set', () => {
    const file = yamlFile('server:\n  tokens:\n    - name: ci\n      token: ${MISSING_TOKEN}\n');
    expect(errorOf(() => loadConfig({ file, env: {} }))).toBe('server.tokens.0.token: environment variable MISSING_TOKEN is not set');
  });

  it('checks values that come from the environment like any other, naming the variable', () => {
    expect(errorOf(() => loadConfig({ env: { BELLHOP_GPIO_PIN: 'seventeen' } }))).toBe(
      'BELLHOP_GPIO_PIN=seventeen: device.gpio.pin: expected an integer 0-53, got "seventeen"',
    );
  });

  it('says so when the file is missing or not YAML', () => {
    expect(errorOf(() => loadConfig({ file: '/nonexistent/bellhop.yaml', env: {} }))).toMatch(/not found/);
    expect(errorOf(() => loadConfig({ file: yamlFile('server: [unclosed'), env: {} }))).toMatch(/not valid YAML/);
  });
});

describe('config.example.yaml', () => {
  const file = new URL('../../config.example.yaml', import.meta.url).pathname;

  it('loads as it is shipped, with no variables set', () => {
    const config = loadConfig({ file, env: {} });
    expect(config.server.tokens).toEqual([]);
    expect(config.device.bell.strikes['subscription.upgraded']).toBe(2);
  });

  it('runs for a normal user from the clone: data beside it, no privileged port, no pin it must own', () => {
    const config = loadConfig({ file, env: {} });
    // /var/lib/... is root's until a systemd install creates the bellhop user for it.
    expect(isAbsolute(config.dataDir)).toBe(false);
    expect(config.dataDir).toBe('./data');
    expect(config.server.port).toBeGreaterThanOrEqual(1024);
    expect(config.broker.port).toBeGreaterThanOrEqual(1024);
    expect(config.broker.host).toBe('127.0.0.1');
    // auto falls back to the simulated bell where the pin cannot be opened; onoff would fail.
    expect(['auto', 'sim']).toContain(config.device.gpio.driver);
  });

  it('takes the API token from the environment when one is set', () => {
    const config = loadConfig({ file, env: { BELLHOP_API_TOKEN: 'example-token-0123456789' } });
    expect(config.server.tokens).toEqual([{ name: 'env', token: 'example-token-0123456789', scope: 'write' }]);
  });
});
