import { test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../protocol/api.ts';
import { waitFor } from '../../helpers/wait.ts';
import { alertKinds, alertsAll, capturePayloads, metricValue, publishAll, publisher, startStack, storedCount } from './serverStack.ts';

interface Health { status: string; mqtt: string; influx: string }

test('InfluxDB stopped and restarted mid-stream: the server keeps alerting, reports degraded, and loses nothing', async () => {
  const stack = await startStack();
  try {
    await stack.startServer();
    const payloads = capturePayloads('occlusion-at-20h.log');
    const cut = payloads.findIndex((p) => p.seq === 1000);
    const alarmOn = payloads.findIndex((p) => p.seq === 1260);
    const pub = await publisher(stack.broker.url, 'outage-pub');
    await publishAll(pub, 'gw-1', payloads.slice(0, cut));
    await waitFor(async () => (await storedCount(stack.influx)) === cut, 30_000, 'first part stored');

    await stack.influx.stop();
    await publishAll(pub, 'gw-1', payloads.slice(cut, alarmOn));
    const health = await waitFor(async () => {
      const h = await stack.api<Health>('/api/health');
      return h.influx === 'down' ? h : null;
    }, 30_000, 'health to report influx down');
    assert.equal(health.status, 'degraded');
    assert.equal(health.mqtt, 'up');
    // detection goes on without storage
    await waitFor(async () => (await stack.api<Alert[]>('/api/alerts?status=active')).some((a) => a.type === 'occlusion'), 20_000, 'occlusion raised while InfluxDB is down');
    assert.ok((await metricValue(stack, 'pumpwatch_storage_backlog')) > 0, 'the backlog waits in the journal');

    await stack.influx.start();
    await publishAll(pub, 'gw-1', payloads.slice(alarmOn));
    await waitFor(async () => (await storedCount(stack.influx)) === payloads.length, 60_000, `${payloads.length} stored`, 250);
    await waitFor(async () => (await stack.api<Health>('/api/health')).status === 'ok', 20_000, 'health ok again');
    await pub.endAsync();
    assert.deepEqual(alertKinds(await alertsAll(stack)), ['CS7-004513:occlusion']);
    await waitFor(async () => (await metricValue(stack, 'pumpwatch_storage_backlog')) === 0, 20_000, 'backlog drained');
  } finally {
    await stack.dispose();
  }
});
