import { expect, test } from 'vitest';
import assert from 'node:assert/strict';
import type { Alert } from '../../../protocol/api.ts';
import { waitFor } from '../../helpers/wait.ts';
import { alertKinds, alertsAll, capturePayloads, DB, metricValue, publishAll, publisher, startStack, storedAlertIds, storedCount } from './serverStack.ts';

test('a server killed (-9) mid-stream and restarted loses nothing, keeps its active alert and raises nothing twice', async () => {
  const stack = await startStack();
  try {
    const payloads = capturePayloads('occlusion-at-20h.log');
    // the occlusion is inferred at seq 1210, the pump alarms at 1246 and it clears at 1284
    const firstCut = payloads.findIndex((p) => p.seq === 1240);
    const secondCut = payloads.findIndex((p) => p.seq === 1280);
    const server = await stack.startServer();
    const pub = await publisher(stack.broker.url, 'restart-pub');
    await publishAll(pub, 'gw-1', payloads.slice(0, firstCut));
    const active = await waitFor(async () => {
      const a = await stack.api<Alert[]>('/api/alerts?status=active');
      return a.find((x) => x.type === 'occlusion');
    }, 20_000, 'an active occlusion alert');

    // the open alert is in a stored checkpoint (every CHECKPOINT_MS): what a restart rebuilds from
    await expect.poll(async () => {
      const r = await stack.influx.query(DB, 'SELECT "alerts" FROM "pump_state"');
      return (r.results[0]?.series ?? []).some((s) => s.values.some((v) => String(v[1]).includes(active.id)));
    }, { timeout: 10_000 }).toBe(true);

    // mid-stream: the publisher keeps going while the server dies without a chance to flush;
    // killed once it has taken in part of this stretch
    const streaming = publishAll(pub, 'gw-1', payloads.slice(firstCut, secondCut), 20);
    await expect.poll(() => metricValue(stack, 'pumpwatch_ingest_accepted_total'), { timeout: 10_000 }).toBeGreaterThanOrEqual(firstCut + 5);
    await server.kill9();
    await streaming; // the broker holds the rest for the server's persistent session

    const again = await stack.startServer();
    const rebuilt = JSON.parse(await again.waitForLine(/state rebuilt from storage/)) as { pumps: number; alerts: number };
    assert.equal(rebuilt.pumps, 1);
    assert.ok(rebuilt.alerts >= 1, 'the open alert came back from storage');
    const after = await stack.api<Alert[]>('/api/alerts?status=active');
    assert.ok(after.some((a) => a.id === active.id), 'the active occlusion is still active right after the restart');

    await publishAll(pub, 'gw-1', payloads.slice(secondCut));
    await waitFor(async () => (await storedCount(stack.influx)) === payloads.length, 60_000, `${payloads.length} sentences stored`, 250);
    await pub.endAsync();

    const alerts = await alertsAll(stack);
    assert.deepEqual(alertKinds(alerts), ['CS7-004513:occlusion'], 'one occlusion alert, no duplicate');
    assert.equal(alerts[0]?.id, active.id);
    assert.equal(alerts[0]?.status, 'cleared', 'the rest of the capture cleared it');
    const ids = await storedAlertIds(stack.influx);
    assert.deepEqual([...(ids.get('occlusion') ?? [])], [active.id], 'storage holds one occlusion alert id');
    assert.equal(ids.size, 1, `no other alert type stored: ${[...ids.keys()].join()}`);
    assert.equal(await storedCount(stack.influx), payloads.length, 'every sentence once');
  } finally {
    await stack.dispose();
  }
});
