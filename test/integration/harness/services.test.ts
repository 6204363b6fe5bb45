import { test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import mqtt from 'mqtt';
import { startMosquitto } from '../../helpers/mosquitto.ts';
import { startInfluxd } from '../../helpers/influxd.ts';
import { tempDir } from '../../helpers/tempDir.ts';
import { PtyPair } from '../../../simulators/ptyPair.ts';

test('the harness starts a real Mosquitto that keeps a persistent session across a restart', async () => {
  const broker = await startMosquitto();
  try {
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'harness-sub', clean: false });
    await sub.subscribeAsync('t/#', { qos: 1 });
    await sub.endAsync();
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'harness-pub' });
    for (let i = 0; i < 1500; i++) await pub.publishAsync('t/x', String(i), { qos: 1 });
    await pub.endAsync();
    await broker.stop();
    await broker.start();
    const got: string[] = [];
    // attach before CONNACK: a persistent session's queue arrives right behind it
    const again = mqtt.connect(broker.url, { clientId: 'harness-sub', clean: false, reconnectPeriod: 100 });
    again.on('message', (_t, m) => got.push(m.toString()));
    await vi.waitFor(() => assert.ok(got.length >= 1500, `${got.length} of 1500 queued messages so far`), { timeout: 10_000, interval: 50 });
    await again.endAsync();
    assert.equal(got.length, 1500, 'more than 1000 queued messages survive (max_queued_messages is set deliberately)');
  } finally {
    await broker.dispose();
  }
});

test('the harness starts a real influxd that answers queries', async () => {
  const influx = await startInfluxd();
  try {
    const r = await influx.query('', 'SHOW DATABASES');
    assert.ok(Array.isArray(r.results));
  } finally {
    await influx.dispose();
  }
});

test('socat pty pair carries bytes and can vanish and come back', async () => {
  const dir = tempDir();
  const pair = new PtyPair(`${dir.path}/ttyPUMP0`);
  try {
    await pair.start();
    const gw = await open(pair.gatewayPath, 'r+');
    const pump = await open(pair.pumpPath, 'r+');
    await pump.write('hello\r\n');
    const buf = Buffer.alloc(16);
    const { bytesRead } = await gw.read(buf, 0, 16);
    assert.equal(buf.subarray(0, bytesRead).toString(), 'hello\r\n');
    await gw.close();
    await pump.close();
    await pair.stop();
    await pair.start();
  } finally {
    await pair.stop();
    dir.remove();
  }
});
