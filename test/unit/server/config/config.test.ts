import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../../server/config.ts';

describe('loadConfig', () => {
  test('defaults match the documented ones', () => {
    const c = loadConfig({});
    assert.equal(c.mqttUrl, 'mqtt://127.0.0.1:1883');
    assert.equal(c.influxUrl, 'http://127.0.0.1:8086/pumpwatch');
    assert.equal(c.influxDatabase, 'pumpwatch');
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8080);
    assert.equal(c.usersFile, './.data/users.json');
    assert.equal(c.journalDir, './.data/server-journal');
    assert.equal(c.mqttClientId, 'pumpwatch-server');
    assert.equal(c.stoppedGraceS, 300);
    assert.equal(c.signalLostS, 300);
    assert.equal(c.continuityToleranceMin, 30);
    assert.equal(c.serviceDayRule, 'calendar_day');
    assert.equal(c.shard, null);
  });

  test('reads every variable and freezes the result', () => {
    const c = loadConfig({
      MQTT_URL: 'mqtts://broker.example:8883', INFLUX_URL: 'http://10.0.0.2:9999/pw_db', PORT: '9090',
      STOPPED_GRACE_S: '120', SIGNAL_LOST_S: '600', ESCALATE_AFTER_S: '60', CONTINUITY_TOLERANCE_MIN: '15',
      PUMPWATCH_API_TOKENS: ' aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbbbbbb ', SHARD: '1/3', SERVICE_DAY_RULE: 'full_24h',
      BILLING_TIME_ZONE: 'America/Chicago', MQTT_USERNAME: 'srv', MQTT_PASSWORD: 'pw',
    });
    assert.equal(c.influxDatabase, 'pw_db');
    assert.equal(c.port, 9090);
    assert.equal(c.stoppedGraceS, 120);
    assert.equal(c.escalateAfterS, 60);
    assert.deepEqual(c.apiTokens, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']);
    assert.deepEqual(c.shard, { index: 1, count: 3 });
    assert.equal(c.billingTimeZone, 'America/Chicago');
    assert.equal(c.mqttUsername, 'srv');
    assert.ok(Object.isFrozen(c));
    assert.throws(() => { (c as { port: number }).port = 1; });
  });

  for (const [name, value, words] of [
    ['PORT', 'eighty', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be between/],
    ['SIGNAL_LOST_S', '-5', /SIGNAL_LOST_S/],
    ['MQTT_URL', 'not a url', /MQTT_URL is not a URL/],
    ['MQTT_URL', 'http://x:1', /MQTT_URL must use/],
    ['INFLUX_URL', 'http://127.0.0.1:8086', /INFLUX_URL must end with \/<database>/],
    ['SHARD', '3/3', /SHARD must be i\/N/],
    ['SHARD', 'x', /SHARD must be i\/N/],
    ['SERVICE_DAY_RULE', 'weekly', /SERVICE_DAY_RULE/],
    ['BILLING_TIME_ZONE', 'Mars/Olympus', /BILLING_TIME_ZONE is not an IANA time zone/],
    ['PUMPWATCH_API_TOKENS', 'short', /at least 16 characters/],
  ] as const) {
    test(`${name}=${value} is refused with one clear line`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, words);
        assert.ok(!err.message.includes('\n'));
        return true;
      });
    });
  }
});
