import { test } from 'vitest';
import assert from 'node:assert/strict';
import { encodeSentence } from '../../../protocol/encode.ts';
import { decodeSentence } from '../../../protocol/decode.ts';
import type { Alert } from '../../../protocol/api.ts';
import { waitFor } from '../../helpers/wait.ts';
import { capturePayloads, DB, metricValue, publishAll, publisher, startStack, storedCount } from './serverStack.ts';

test('duplicates and invalid payloads from a plain MQTT client are counted and dropped; nothing invalid is stored', async () => {
  const stack = await startStack();
  try {
    await stack.startServer();
    const payloads = capturePayloads('occlusion-at-20h.log').slice(0, 200);
    const pub = await publisher(stack.broker.url, 'validation-pub');
    await publishAll(pub, 'gw-1', payloads);
    await publishAll(pub, 'gw-1', payloads.slice(0, 50)); // redelivered / replayed
    await publishAll(pub, 'gw-2', payloads.slice(50, 60)); // the same sentences through another gateway

    const serial = payloads[0]!.serial;
    const base = JSON.parse(payloads[150]!.body) as Record<string, unknown>;
    // a forged sentence: a fresh identity, claims an occlusion, raw does not say so
    const forged = { ...base, seq: 60_000, alarms: ['OCCL_DN'], state: 'ALARM' };
    const forgedRaw = decodeSentence(base.raw as string);
    assert.ok(forgedRaw.ok);
    const occludedRaw = encodeSentence({ ...forgedRaw.sentence, seq: 60_001, state: 'ALARM', alarms: ['OCCL_DN'] } as typeof forgedRaw.sentence);
    const invalid: [string, string][] = [
      [`pumpwatch/gw-1/pumps/${serial}`, 'not json at all'],
      [`pumpwatch/gw-1/pumps/${serial}`, JSON.stringify(forged)],
      [`pumpwatch/gw-1/pumps/${serial}`, JSON.stringify({ ...base, raw: occludedRaw.replace(/\*..$/, '*00'), seq: 60_001, state: 'ALARM', alarms: ['OCCL_DN'] })],
      [`pumpwatch/gw-1/pumps/CS7-999999`, payloads[100]!.body],
      [`pumpwatch/gw-1/pumps/${serial}`, JSON.stringify({ ...base, v: 2 })],
    ];
    for (const [topic, body] of invalid) await pub.publishAsync(topic, body, { qos: 1 });
    await waitFor(async () => (await metricValue(stack, 'pumpwatch_ingest_dropped_total{reason="TOPIC_MISMATCH"}')) === 1, 15_000, 'every message handled');
    await waitFor(async () => (await storedCount(stack.influx)) === payloads.length, 15_000, `${payloads.length} stored`);
    // a fixed wait on purpose: it proves nothing is stored a second time a little later
    await new Promise((r) => setTimeout(r, 1000));
    await pub.endAsync();

    assert.equal(await storedCount(stack.influx), payloads.length, 'each sentence stored once');
    assert.equal(await metricValue(stack, 'pumpwatch_ingest_duplicates_total'), 60);
    assert.equal(await metricValue(stack, 'pumpwatch_ingest_accepted_total'), payloads.length);
    for (const reason of ['NOT_JSON', 'RAW_MISMATCH', 'BAD_RAW:BAD_CHECKSUM', 'TOPIC_MISMATCH', 'BAD_VERSION']) {
      assert.equal(await metricValue(stack, `pumpwatch_ingest_dropped_total{reason="${reason}"}`), 1, reason);
    }
    const r = await stack.influx.query(DB, 'SELECT count("raw") FROM "status" WHERE "seq" >= 60000');
    assert.equal(r.results[0]?.series, undefined, 'nothing forged stored');
    const alerts = await stack.api<Alert[]>('/api/alerts?status=all&from=2026-11-01T00:00:00Z');
    assert.deepEqual(alerts, [], 'a forged alarm raises nothing');
    // each reason logged once, not once per message
    const logged = stack.server!.lines.filter((l) => l.includes('"reason":"DUPLICATE"'));
    assert.equal(logged.length, 1);
  } finally {
    await stack.dispose();
  }
});
