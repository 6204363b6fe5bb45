import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../../server/config.ts';
import { ownsPump, shardOf } from '../../../../server/ingest/shard.ts';

describe('pump hash', () => {
  test('is stable: fixed values every instance and version agrees on', () => {
    // FNV-1a 32-bit of the serial; changing it would move every pump at the next upgrade
    assert.equal(shardOf('', 1 << 30), 0x811c9dc5 % (1 << 30));
    assert.equal(shardOf('a', 0xffffffff), 0xe40c292c % 0xffffffff);
    assert.equal(shardOf('PW-000123', 3), shardOf('PW-000123', 3));
  });

  test('each serial belongs to exactly one of N instances, spread about evenly', () => {
    for (const n of [1, 2, 3, 7]) {
      const counts = new Array<number>(n).fill(0);
      for (let i = 0; i < 3000; i++) {
        const serial = `PW${String(i).padStart(6, '0')}`;
        const owners = Array.from({ length: n }, (_, index) => index).filter((index) => ownsPump({ index, count: n }, serial));
        assert.equal(owners.length, 1, serial);
        counts[owners[0]!]!++;
      }
      for (const c of counts) assert.ok(c > (3000 / n) * 0.8 && c < (3000 / n) * 1.2, `n=${n}: ${counts.join(',')}`);
    }
  });
});

describe('scale-out configuration', () => {
  const base = { PORT: '8181' };

  test('SHARD i/N parsed; out-of-range refused with one line', () => {
    assert.deepEqual(loadConfig({ ...base, SHARD: '2/3' }).shard, { index: 2, count: 3 });
    for (const bad of ['3/3', '1/0', 'a/b', '1', '-1/2']) {
      assert.throws(() => loadConfig({ ...base, SHARD: bad }), (e: unknown) => e instanceof ConfigError && e.message.startsWith('SHARD must be i/N'));
    }
  });

  test('MQTT_SHARED_GROUP validated and exclusive with SHARD', () => {
    assert.equal(loadConfig({ ...base, MQTT_SHARED_GROUP: 'pumpwatch' }).sharedGroup, 'pumpwatch');
    assert.equal(loadConfig(base).sharedGroup, null);
    assert.throws(() => loadConfig({ ...base, MQTT_SHARED_GROUP: 'a/b' }), /MQTT_SHARED_GROUP must be/);
    assert.throws(() => loadConfig({ ...base, MQTT_SHARED_GROUP: '+' }), /MQTT_SHARED_GROUP must be/);
    assert.throws(() => loadConfig({ ...base, SHARD: '0/2', MQTT_SHARED_GROUP: 'g' }), /set only one/);
  });

  test('SERVER_INSTANCE_ID defaults to host-port; a clustered instance gets its own client id', () => {
    const single = loadConfig(base);
    assert.match(single.instanceId, /^[A-Za-z0-9_.-]+-8181$/);
    assert.equal(single.mqttClientId, 'pumpwatch-server');
    assert.equal(single.clusterRelay, false, 'a lone instance relays nothing unless asked');
    const sharded = loadConfig({ ...base, SHARD: '0/2', SERVER_INSTANCE_ID: 'node-a' });
    assert.equal(sharded.instanceId, 'node-a');
    assert.equal(sharded.mqttClientId, 'pumpwatch-node-a');
    assert.equal(sharded.clusterRelay, true);
    assert.equal(loadConfig({ ...base, SHARD: '0/2', MQTT_CLIENT_ID: 'mine' }).mqttClientId, 'mine');
    assert.throws(() => loadConfig({ ...base, SERVER_INSTANCE_ID: 'a b' }), /SERVER_INSTANCE_ID must be/);
  });

  test('CLUSTER_RELAY on/off/auto', () => {
    assert.equal(loadConfig({ ...base, CLUSTER_RELAY: 'on' }).clusterRelay, true);
    assert.equal(loadConfig({ ...base, SHARD: '0/2', CLUSTER_RELAY: 'off' }).clusterRelay, false);
    assert.equal(loadConfig({ ...base, MQTT_SHARED_GROUP: 'g' }).clusterRelay, true);
    assert.throws(() => loadConfig({ ...base, CLUSTER_RELAY: 'yes' }), /CLUSTER_RELAY must be auto, on or off/);
  });

  test('the configuration is frozen', () => {
    const c = loadConfig({ ...base, SHARD: '1/2' });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.shard));
  });
});
