import { test } from 'vitest';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/wait.ts';
import { alertKinds, alertsAll, capturePayloads, metricValue, publishAll, publisher, startStack, storedCount } from '../server/serverStack.ts';

/**
 * The MQTT 5 shared-subscription mode end to end on Mosquitto with one instance: pump topics come
 * through `$share/<group>/...` and are judged and stored as usual. (Mosquitto round-robins a group
 * between members, so pump affinity across several instances needs a hash/sticky broker: see
 * docs/scaling.md; the several-instance test runs in SHARD mode.)
 */
test('a server in a shared subscription group ingests, detects and stores a whole capture', async () => {
  const stack = await startStack();
  try {
    const server = await stack.startServer({ MQTT_SHARED_GROUP: 'pumpwatch', SERVER_INSTANCE_ID: 'shared-a' });
    await server.waitForLine(/"msg":"listening"/);
    const payloads = capturePayloads('occlusion-at-20h.log');
    const pub = await publisher(stack.broker.url, 'shared-pub');
    await publishAll(pub, 'gw-shared', payloads);
    await pub.endAsync();
    await waitFor(async () => (await storedCount(stack.influx)) === payloads.length, 60_000, `${payloads.length} sentences stored`, 250);
    const alerts = await waitFor(async () => {
      const a = await alertsAll(stack);
      return a.length > 0 ? a : null;
    }, 20_000, 'the occlusion alert');
    assert.deepEqual(alertKinds(alerts), ['CS7-004513:occlusion']);
    assert.equal(await metricValue(stack, 'pumpwatch_ingest_accepted_total'), payloads.length);
  } finally {
    await stack.dispose();
  }
});
