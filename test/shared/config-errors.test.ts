// What a person sees for a broken config: every problem at once, one line per key,
// typos answered with the key meant, and values blamed on the variable that set them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, ConfigError } from '../../shared/config/load.js';
import { ConfigSchema } from '../../shared/config/schema.js';
import { distance } from '../../shared/config/suggest.js';
import { tempDir } from '../helpers/world.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual((err as Error).message.split('\n'));
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

function yamlFile(text: string): string {
  const file = join(tempDir().path, 'bellhop.yaml');
  writeFileSync(file, text);
  return file;
}

const lines = (...l: string[]) => l.join('\n');

describe('config errors: all at once', () => {
  it('lists every schema problem in a file, one line each, starting with the key path', () => {
    const file = yamlFile(
      [
        'server:',
        '  port: 70000',
        'slack:',
        '  defaultChanel: "#sales"',
        'device:',
        '  gpio:',
        '    driver: magic',
        'broker:',
        '  users:',
        '    - { username: pi, role: device }',
      ].join('\n'),
    );
    expect(errorOf(() => loadConfig({ file, env: {} }))).toBe(
      lines(
        'broker.users.0.password: required, expected a string of at least 8 characters',
        'server.port: expected an integer 0-65535, got 70000',
        'device.gpio.driver: expected one of "auto", "onoff", "gpiod", "mock", "sim", got "magic"',
        'slack.defaultChanel: unknown key (did you mean defaultChannel?)',
      ),
    );
  });

  it('reports one line per key where TypeBox reports the same key more than once', () => {
    const raw = { broker: { users: [{ username: 'pi', role: 'device' }] } };
    // The premise: a missing property comes back twice (required, then the wrong type).
    const paths = [...Value.Errors(ConfigSchema, Value.Default(ConfigSchema, structuredClone(raw)))].map((e) => e.path);
    expect(paths).toEqual(['/broker/users/0/password', '/broker/users/0/password']);
    expect(errorOf(() => parseConfig(raw))).toBe('broker.users.0.password: required, expected a string of at least 8 characters');
  });

  it('adds the cross-key rules to the schema problems, and each duplicate user', () => {
    const message = errorOf(() =>
      parseConfig({
        server: { port: 'x' },
        device: { id: 'all', bell: { pulseMs: 300, maxPulseMs: 100 } },
        broker: { host: '0.0.0.0' },
      }),
    );
    expect(message).toBe(
      lines(
        'server.port: expected an integer 0-65535, got "x"',
        'device.id: "all" is reserved for the broadcast topic',
        'device.bell.pulseMs: 300 is above device.bell.maxPulseMs (100)',
        'broker.users: required when broker.host (0.0.0.0) is not a loopback address',
      ),
    );
    const user = (username: string) => ({ username, password: 'long-enough-1', role: 'device' });
    expect(errorOf(() => parseConfig({ broker: { users: [user('pi'), user('pi'), user('bell'), user('pi')] } }))).toBe(
      lines('broker.users.1.username: "pi" appears twice', 'broker.users.3.username: "pi" appears twice'),
    );
  });

  it('skips a cross-key rule whose keys are already wrong instead of judging a bad value', () => {
    expect(errorOf(() => parseConfig({ device: { bell: { pulseMs: 'long', maxPulseMs: 100 } } }))).toBe(
      'device.bell.pulseMs: expected an integer 1-1000, got "long"',
    );
    expect(errorOf(() => parseConfig({ broker: { host: 5 } }))).toBe('broker.host: expected a string, got 5');
    expect(errorOf(() => parseConfig({ device: 'office-bell' }))).toBe('device: expected a mapping, got "office-bell"');
  });

  it('stops listing after 20 lines and counts the rest', () => {
    const server = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`extra${i}`, i]));
    const shown = errorOf(() => parseConfig({ server })).split('\n');
    expect(shown).toHaveLength(21);
    expect(shown[0]).toBe('server.extra0: unknown key');
    expect(shown[20]).toBe('... and 5 more problems');
  });

  it('reports every unset ${VAR} of the file together', () => {
    const file = yamlFile('server:\n  tokens:\n    - { name: ci, token: "${CI_TOKEN}" }\nbroker:\n  users:\n    - { username: pi, password: "${PI_PASSWORD}", role: device }\n');
    expect(errorOf(() => loadConfig({ file, env: {} }))).toBe(
      lines('server.tokens.0.token: environment variable CI_TOKEN is not set', 'broker.users.0.password: environment variable PI_PASSWORD is not set'),
    );
  });
});

describe('config errors: unknown keys', () => {
  it('suggests the key meant: typos, swapped letters, another spelling, and at any depth', () => {
    expect(errorOf(() => parseConfig({ slack: { defaultChanel: '#x' } }))).toBe('slack.defaultChanel: unknown key (did you mean defaultChannel?)');
    expect(errorOf(() => parseConfig({ slack: { default_channel: '#x' } }))).toBe('slack.default_channel: unknown key (did you mean defaultChannel?)');
    expect(errorOf(() => parseConfig({ server: { prot: 80 } }))).toBe('server.prot: unknown key (did you mean port?)');
    expect(errorOf(() => parseConfig({ slak: {} }))).toBe('slak: unknown key (did you mean slack?)');
    expect(errorOf(() => parseConfig({ slack: { routes: [{ match: {}, chanel: '#x' }] } }))).toBe('slack.routes.0.chanel: unknown key (did you mean channel?)');
    expect(errorOf(() => parseConfig({ device: { pin: 17 } }))).toBe('device.pin: unknown key (did you mean gpio.pin?)');
  });

  it('suggests nothing when no key is close: two edits are too many for a four-letter key', () => {
    expect(errorOf(() => parseConfig({ server: { colour: 'red' } }))).toBe('server.colour: unknown key');
    expect(errorOf(() => parseConfig({ broker: { hose: 1 } }))).toBe('broker.hose: unknown key (did you mean host?)');
    expect(errorOf(() => parseConfig({ broker: { pots: 1 } }))).toBe('broker.pots: unknown key');
    expect(errorOf(() => parseConfig({ broker: { xyzzy: 1 } }))).toBe('broker.xyzzy: unknown key');
  });

  it('counts a swap of neighbouring letters as one edit', () => {
    expect(distance('prot', 'port')).toBe(1);
    expect(distance('defaultchanel', 'defaultchannel')).toBe(1);
    expect(distance('kitten', 'sitting')).toBe(3);
    expect(distance('', 'abc')).toBe(3);
  });

  it('says what turns Slack, the bell and the broker on, since they have no enabled switch', () => {
    expect(errorOf(() => parseConfig({ slack: { enabled: true } }))).toBe(
      'slack.enabled: unknown key; Slack turns on when slack.botToken (SLACK_BOT_TOKEN) is set, and runs as a dry run without it',
    );
    expect(errorOf(() => parseConfig({ device: { enabled: false } }))).toBe(
      'device.enabled: unknown key; the bell runs wherever `bellhop agent` or `bellhop start` runs; device.gpio.driver: sim keeps it off the real pin',
    );
    expect(errorOf(() => parseConfig({ broker: { enabled: false } }))).toBe(
      'broker.enabled: unknown key; the embedded broker runs unless mqtt.url (BELLHOP_MQTT_URL) names another one',
    );
    expect(errorOf(() => parseConfig({ sources: { enabled: true } }))).toBe('sources.enabled: unknown key; each source has its own switch, e.g. sources.github.enabled');
  });
});

describe('config errors: values from variables', () => {
  it('names the BELLHOP_* variable that set a bad value, not only the key the user never wrote', () => {
    expect(errorOf(() => loadConfig({ env: { BELLHOP_HTTP_PORT: 'abc' } }))).toBe('BELLHOP_HTTP_PORT=abc: server.port: expected an integer 0-65535, got "abc"');
    expect(errorOf(() => loadConfig({ env: { BELLHOP_GPIO_DRIVER: 'nope' } }))).toBe(
      'BELLHOP_GPIO_DRIVER=nope: device.gpio.driver: expected one of "auto", "onoff", "gpiod", "mock", "sim", got "nope"',
    );
    expect(errorOf(() => loadConfig({ env: { BELLHOP_DEVICE_ID: 'all' } }))).toBe('BELLHOP_DEVICE_ID=all: device.id: "all" is reserved for the broadcast topic');
  });

  it('blames the variable over the file it overrides, and the file when the variable is fine', () => {
    const file = yamlFile('server:\n  port: 9000\ndevice:\n  gpio:\n    pin: 99\n');
    expect(errorOf(() => loadConfig({ file, env: { BELLHOP_HTTP_PORT: '70000', BELLHOP_MQTT_PORT: '1884' } }))).toBe(
      lines('BELLHOP_HTTP_PORT=70000: server.port: expected an integer 0-65535, got 70000', 'device.gpio.pin: expected an integer 0-53, got 99'),
    );
  });

  it('hides secret values it blames, and the password in a URL', () => {
    const token = errorOf(() => loadConfig({ env: { SLACK_BOT_TOKEN: 'not-a-bot-token-123' } }));
    expect(token).toBe('SLACK_BOT_TOKEN (value hidden): slack.botToken: expected a string matching ^xox[a-z]-, got a hidden value');
    const api = errorOf(() => loadConfig({ env: { BELLHOP_API_TOKEN: 'short-secret' } }));
    expect(api).toBe('BELLHOP_API_TOKEN (value hidden): server.tokens.0.token: expected a string of at least 16 characters, got a hidden value');
    expect(errorOf(() => loadConfig({ env: { BELLHOP_MQTT_URL: 'http://bell:hunter22@broker.lan' } }))).toBe(
      'BELLHOP_MQTT_URL=http://bell:***@broker.lan: mqtt.url: expected a string matching ^(mqtts?|wss?|tcp|tls)://, got "http://bell:***@broker.lan"',
    );
    const listed = errorOf(() => parseConfig({ sources: { stripe: { enabled: true, secrets: ['whsec'] } } }));
    expect(listed).toBe('sources.stripe.secrets.0: expected a string of at least 8 characters, got a hidden value');
  });

  it('names the ${VAR} a bad value came from', () => {
    const file = yamlFile('device:\n  id: ${BELL_NAME}\nserver:\n  port: ${HTTP_PORT}\nbroker:\n  users:\n    - { username: pi, password: "${PI_PASSWORD}", role: device }\n');
    expect(errorOf(() => loadConfig({ file, env: { BELL_NAME: 'Office Bell', HTTP_PORT: '8080', PI_PASSWORD: 'short' } }))).toBe(
      lines(
        '${PI_PASSWORD} (value hidden): broker.users.0.password: expected a string of at least 8 characters, got a hidden value',
        // A ${VAR} always gives text: the "got" shows that it was read as the string "8080".
        '${HTTP_PORT}=8080: server.port: expected an integer 0-65535, got "8080"',
        '${BELL_NAME}="Office Bell": device.id: expected a string matching ^[a-z0-9][a-z0-9_-]*$, got "Office Bell"',
      ),
    );
  });
});

describe('config errors: YAML', () => {
  it('says where the file breaks and shows the line, without the code frame or a dangling colon', () => {
    const file = yamlFile('server:\n  port: 1\n   host: x\n');
    const message = errorOf(() => loadConfig({ file, env: {} }));
    expect(message).toBe(`config file ${file}: not valid YAML at line 2, column 9: Nested mappings are not allowed in compact mappings, in "port: 1"`);
    const unclosed = yamlFile('server: [unclosed');
    expect(errorOf(() => loadConfig({ file: unclosed, env: {} }))).toBe(
      `config file ${unclosed}: not valid YAML at line 1, column 18: Flow sequence in block collection must be sufficiently indented and end with a ], in "server: [unclosed"`,
    );
  });

  it('reports each broken line once, and duplicate keys', () => {
    const file = yamlFile('log: level: info\nserver:\n  port: 1\n  port: 2\n');
    expect(errorOf(() => loadConfig({ file, env: {} }))).toBe(
      lines(
        `config file ${file}: not valid YAML at line 1, column 6: Nested mappings are not allowed in compact mappings, in "log: level: info"`,
        `config file ${file}: not valid YAML at line 4, column 3: Map keys must be unique, in "port: 2"`,
      ),
    );
  });

  it('does not print a secret from the broken line', () => {
    const file = yamlFile('slack:\n  botToken: xoxb-123-secret: x\n');
    const message = errorOf(() => loadConfig({ file, env: {} }));
    expect(message).toBe(`config file ${file}: not valid YAML at line 2, column 13: Nested mappings are not allowed in compact mappings, in "botToken: ..."`);
    expect(message).not.toContain('secret');
  });
});

describe('config errors: what the bell rings for', () => {
  it('refuses a device.events type no one publishes, suggesting the near one', () => {
    expect(() => parseConfig({ device: { events: ['user.sigup'] } })).toThrow(
      'device.events.0: "user.sigup" is not an event type bellhop accepts (did you mean user.signup?), so the bell would never ring for it',
    );
    // An app's own type is fine once the server accepts it.
    expect(parseConfig({ device: { events: ['order.shipped'] }, server: { eventTypes: ['order.*'] } }).device.events).toEqual(['order.shipped']);
  });

  it('rings by default for every type that has a default pattern', () => {
    const { device } = parseConfig({});
    for (const type of Object.keys(device.bell.patterns)) expect(device.events).toContain(type);
  });
});

describe('config errors: the sources section', () => {
  it('reports every source problem at once', () => {
    expect(() => parseConfig({ sources: { stripe: { enabled: true }, github: { enabled: true, secrets: ['0123456789abcdef'], severities: { 'ci.faild': 'error' } } } })).toThrow(
      'sources.stripe.secrets: required when the source is enabled\nsources.github.severities.ci.faild: not a type the github source emits (did you mean ci.failed?',
    );
  });
});
