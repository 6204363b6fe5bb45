import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, processTimeZone } from '../../../../server/config.ts';

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
    assert.equal(c.serviceDayRule, 'nhia');
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
    ['HL7_MLLP_TARGETS', 'hl7.example:2575,nohost', /HL7_MLLP_TARGETS: "nohost" is not host:port/],
    ['HL7_MLLP_TARGETS', 'hl7.example:99999', /HL7_MLLP_TARGETS: "hl7.example:99999" is not host:port/],
    ['HL7_OBSERVATION_S', '61', /HL7_OBSERVATION_S must be between 1 and 60/],
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

describe('loadConfig: HTTPS, proxy, origins and detection thresholds', () => {
  test('HTTPS files go together; origins must be origins', () => {
    assert.throws(() => loadConfig({ HTTPS_CERT_FILE: '/etc/x.crt' }), (e: unknown) => e instanceof ConfigError && /set both or neither/.test(e.message));
    assert.throws(() => loadConfig({ ALLOWED_ORIGINS: 'https://ok.example, not an origin' }), ConfigError);
    const c = loadConfig({ HTTPS_CERT_FILE: '/a.crt', HTTPS_KEY_FILE: '/a.key', TRUST_PROXY: '127.0.0.1', ALLOWED_ORIGINS: 'https://pumps.example:8443' });
    assert.equal(c.httpsCertFile, '/a.crt');
    assert.equal(c.trustProxy, '127.0.0.1');
    assert.deepEqual(c.allowedOrigins, ['https://pumps.example:8443']);
    assert.ok(Object.isFrozen(c.allowedOrigins));
  });

  test('PUBLIC_URL: its origin is accepted for cookie requests; by default the listener\'s own address', () => {
    const c = loadConfig({ PUBLIC_URL: 'https://pumps.example.org/board/', ALLOWED_ORIGINS: 'https://other.example' });
    assert.equal(c.publicUrl, 'https://pumps.example.org/board');
    assert.deepEqual(c.allowedOrigins, ['https://other.example', 'https://pumps.example.org']);
    assert.equal(loadConfig({ HOST: '0.0.0.0', PORT: '9090' }).publicUrl, 'http://0.0.0.0:9090');
    assert.equal(loadConfig({ HTTPS_CERT_FILE: '/a.crt', HTTPS_KEY_FILE: '/a.key' }).publicUrl, 'https://127.0.0.1:8080');
    assert.deepEqual(loadConfig({}).allowedOrigins, []);
    assert.throws(() => loadConfig({ PUBLIC_URL: 'ftp://x' }), (e: unknown) => e instanceof ConfigError && /PUBLIC_URL/.test(e.message));
  });

  test('detection thresholds are read from the environment and checked once', () => {
    const c = loadConfig({ OCCLUSION_RISE_MMHG: '150', LOW_BATTERY_PCT: '20', OCCLUSION_STALL_ML: '0.25' });
    assert.deepEqual({ ...c.detection }, { occlusionRiseMmHg: 150, lowBatteryPct: 20, occlusionStallMl: 0.25 });
    assert.deepEqual({ ...loadConfig({}).detection }, {});
    assert.throws(() => loadConfig({ OCCLUSION_RISE_MMHG: 'lots' }), (e: unknown) => e instanceof ConfigError && e.message === 'OCCLUSION_RISE_MMHG must be a number >= 0, got "lots"');
    assert.throws(() => loadConfig({ LOW_BATTERY_PCT: '150' }), (e: unknown) => e instanceof ConfigError && e.message === 'LOW_BATTERY_PCT must be a number between 0 and 100, got "150"');
  });

  test("TZ: the server's zone for times in messages and on the board; by default the process's own", () => {
    assert.equal(loadConfig({}).serverTimeZone, processTimeZone());
    assert.equal(loadConfig({ TZ: 'America/Chicago' }).serverTimeZone, 'America/Chicago');
    assert.throws(() => loadConfig({ TZ: 'Mars/Olympus' }), (e: unknown) => e instanceof ConfigError && /TZ is not an IANA time zone/.test(e.message));
  });
});
