import { test } from 'vitest';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../../server/config.ts';

const DB = 'postgres://pumpwatch:secret@127.0.0.1:5432/pumpwatch';

test('CLUSTER_MODE=lease: INSTANCE_ID names the instance and its session, LEASE_S defaults to 30, the relay is on', () => {
  const c = loadConfig({ CLUSTER_MODE: 'lease', INSTANCE_ID: 'ward-a', DATABASE_URL: DB });
  assert.equal(c.clusterMode, 'lease');
  assert.equal(c.instanceId, 'ward-a');
  assert.equal(c.mqttClientId, 'pumpwatch-ward-a');
  assert.equal(c.leaseS, 30);
  assert.equal(c.clusterRelay, true);
  assert.equal(loadConfig({ CLUSTER_MODE: 'lease', INSTANCE_ID: 'a', DATABASE_URL: DB, LEASE_S: '6' }).leaseS, 6);
  assert.equal(loadConfig({}).clusterMode, null);
});

test('CLUSTER_MODE=lease refuses what cannot work with it, each in one line', () => {
  const bad: Record<string, string>[] = [
    { CLUSTER_MODE: 'lease', DATABASE_URL: DB },
    { CLUSTER_MODE: 'lease', INSTANCE_ID: 'a' },
    { CLUSTER_MODE: 'lease', INSTANCE_ID: 'a', DATABASE_URL: DB, SHARD: '0/2' },
    { CLUSTER_MODE: 'lease', INSTANCE_ID: 'a', DATABASE_URL: DB, MQTT_SHARED_GROUP: 'g' },
    { CLUSTER_MODE: 'lease', INSTANCE_ID: 'a', DATABASE_URL: DB, SERVER_INSTANCE_ID: 'b' },
    { CLUSTER_MODE: 'raft', INSTANCE_ID: 'a', DATABASE_URL: DB },
    { CLUSTER_MODE: 'lease', INSTANCE_ID: 'a', DATABASE_URL: DB, LEASE_S: '1' },
  ];
  for (const env of bad) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && !err.message.includes('\n'), JSON.stringify(env));
  }
});

test('HEARTBEAT_URL: http(s) only, every 60 s by GET unless told', () => {
  const c = loadConfig({ HEARTBEAT_URL: 'https://hc-ping.com/abc' });
  assert.equal(c.heartbeatUrl, 'https://hc-ping.com/abc');
  assert.equal(c.heartbeatS, 60);
  assert.equal(c.heartbeatMethod, 'GET');
  assert.throws(() => loadConfig({ HEARTBEAT_URL: 'ftp://x/y' }), ConfigError);
});
