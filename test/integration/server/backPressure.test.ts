import { test } from 'vitest';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/wait.ts';
import { capturePayloads, metricValue, publishAll, publisher, startStack, storedCount } from './serverStack.ts';

test('a full journal holds PUBACKs back so the broker keeps the rest; nothing is lost once InfluxDB returns', async () => {
  const stack = await startStack();
  try {
    await stack.startServer({ JOURNAL_MAX_MB: '1' });
    // four pumps' captures: 8,011 sentences, 1.07 MB of journal, more than the 1 MB bound holds
    const payloads = ['folfox-46h-normal.log', 'occlusion-at-20h.log', 'pause-20min.log', 'early-end-19h.log'].flatMap((f) => capturePayloads(f));
    await stack.influx.stop();
    const pub = await publisher(stack.broker.url, 'backpressure-pub');
    await publishAll(pub, 'gw-1', payloads);
    await waitFor(async () => (await metricValue(stack, 'pumpwatch_ingest_held_back_total')) > 0, 30_000, 'ingest held back');
    const accepted = await metricValue(stack, 'pumpwatch_ingest_accepted_total');
    assert.ok(accepted > 0 && accepted < payloads.length, `only part accepted while full (${accepted})`);
    const health = await stack.api<{ status: string; influx: string }>('/api/health');
    assert.equal(health.status, 'degraded');

    await stack.influx.start();
    await waitFor(async () => (await storedCount(stack.influx)) === payloads.length, 90_000, `${payloads.length} stored`, 500);
    await pub.endAsync();
    assert.equal(await metricValue(stack, 'pumpwatch_ingest_accepted_total'), payloads.length, 'every sentence accepted once');
    assert.equal(await metricValue(stack, 'pumpwatch_ingest_duplicates_total'), 0);
  } finally {
    await stack.dispose();
  }
});
