import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../../gateway/config.ts';

const base = ['--id', 'home1', '--serial', '/dev/ttyUSB0', '--mqtt', 'mqtt://127.0.0.1:1883'];

describe('gateway config', () => {
  test('defaults and credentials from the environment; frozen', () => {
    const c = parseConfig(base, { MQTT_USERNAME: 'u', MQTT_PASSWORD: 'p' });
    assert.equal(c.baud, 115200);
    assert.equal(c.queueDir, './.data/gateway-home1');
    assert.equal(c.silenceS, 150);
    assert.equal(c.diagnosticsS, 60);
    assert.equal(c.mqttUsername, 'u');
    assert.equal(c.mqttPassword, 'p');
    assert.ok(Object.isFrozen(c));
  });

  test('several --serial ports and extras', () => {
    const c = parseConfig([...base, '--serial', '/dev/rfcomm0', '--baud', '9600', '--silence-s', '2', '--max-queue-mb', '8'], {});
    assert.deepEqual(c.serialPaths, ['/dev/ttyUSB0', '/dev/rfcomm0']);
    assert.equal(c.baud, 9600);
    assert.equal(c.silenceS, 2);
    assert.equal(c.maxQueueMb, 8);
  });

  for (const [why, argv] of [
    ['missing id', base.slice(2)],
    ['bad id', ['--id', 'a/b', ...base.slice(2)]],
    ['no serial', ['--id', 'x', '--mqtt', 'mqtt://h:1']],
    ['bad url scheme', [...base.slice(0, 4), '--mqtt', 'http://h']],
    ['bad baud', [...base, '--baud', '12345']],
    ['negative silence', [...base, '--silence-s', '-1']],
    ['unknown option', [...base, '--bogus', '1']],
    ['missing CA file', [...base.slice(0, 4), '--mqtt', 'mqtts://h:8883', '--ca', '/nonexistent/ca.pem']],
    ['empty health file', [...base, '--health-file', '']],
    ['health period too long', [...base, '--health-s', '61']],
  ] as const) {
    test(`refused with one clear line: ${why}`, () => {
      assert.throws(() => parseConfig([...argv], {}), (e: unknown) => e instanceof ConfigError && !e.message.includes('\n') && e.message.length > 5);
    });
  }

  test('health file off by default, every 5 s when given; no test fault unless the environment asks', () => {
    const c = parseConfig(base, {});
    assert.equal(c.healthFile, null);
    assert.equal(c.healthS, 5);
    assert.equal(c.testFault, null);
    const h = parseConfig([...base, '--health-file', '/run/pumpwatch/gateway.health', '--health-s', '0.5'], { PUMPWATCH_GATEWAY_FAULT: 'block-loop:2500' });
    assert.equal(h.healthFile, '/run/pumpwatch/gateway.health');
    assert.equal(h.healthS, 0.5);
    assert.deepEqual(h.testFault, { kind: 'block-loop', afterMs: 2500 });
    assert.deepEqual(parseConfig(base, { PUMPWATCH_GATEWAY_FAULT: 'mqtt-no-reconnect' }).testFault, { kind: 'mqtt-no-reconnect' });
    assert.throws(() => parseConfig(base, { PUMPWATCH_GATEWAY_FAULT: 'block-loop' }), ConfigError);
  });
});
