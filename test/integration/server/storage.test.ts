import { test } from 'vitest';
import assert from 'node:assert/strict';
import { encodeSentence } from '../../../protocol/encode.ts';
import { toPumpMessage } from '../../../protocol/payloads.ts';
import type { StatusSentence } from '../../../protocol/sentence.ts';
import { createInfluxStore, RETENTION_POLICY } from '../../../server/storage/influxStore.ts';
import { messagePoint } from '../../../server/storage/points.ts';
import { telemetry } from '../../../server/storage/queries.ts';
import { startInfluxd } from '../../helpers/influxd.ts';

function sts(seq: number, time: string, infusedMl: number): StatusSentence {
  return { type: 'status', pump: 'CS7-000001', seq, time, state: 'RUN', rateMlH: 5, infusedMl, vtbiMl: 100, reservoirMl: null, pressureMmHg: 40, batteryPct: 90, alarms: [] };
}

test('storage creates its database and retention policy, and the same sentence twice is one point', async () => {
  const influx = await startInfluxd();
  try {
    const store = createInfluxStore({ url: influx.urlFor('pw_store'), database: 'pw_store', retentionDays: 400 });
    await store.ensureSchema();
    await store.ensureSchema(); // idempotent
    const dbs = await influx.query('', 'SHOW DATABASES');
    assert.ok(JSON.stringify(dbs).includes('"pw_store"'));
    const rps = await influx.query('pw_store', 'SHOW RETENTION POLICIES');
    const row = rps.results[0]?.series?.[0]?.values.find((v) => v[0] === RETENTION_POLICY);
    assert.equal(row?.[1], '9600h0m0s');
    assert.equal(row?.[4], true, 'the default policy');

    const received = new Date('2026-11-24T09:00:05.120Z');
    const a = sts(10, '2026-11-24T09:00:05Z', 1);
    const b = sts(11, '2026-11-24T09:00:05Z', 1.01); // same pump second, next sentence
    const c = sts(10, '2026-11-24T09:00:06Z', 1.02); // same seq after a power cycle, other time
    const msg = (s: StatusSentence) => toPumpMessage(s, encodeSentence(s), received);
    await store.write([messagePoint(msg(a), 'gw-1'), messagePoint(msg(b), 'gw-1')]);
    await store.write([messagePoint(msg(a), 'gw-2'), messagePoint(msg(c), 'gw-1'), messagePoint(msg(b), 'gw-1')]);
    const points = await telemetry(store, 'CS7-000001', Date.parse('2026-11-24T09:00:00Z'), Date.parse('2026-11-24T09:01:00Z'));
    assert.deepEqual(points.map((p) => [p.seq, p.time, p.infusedMl]), [
      [10, '2026-11-24T09:00:05Z', 1],
      [11, '2026-11-24T09:00:05Z', 1.01],
      [10, '2026-11-24T09:00:06Z', 1.02],
    ]);
    assert.equal(points[0]?.pressureMmHg, 40);
    assert.equal(points[0]?.reservoirMl, null);
    const tags = await influx.query('pw_store', 'SHOW TAG KEYS FROM "status"');
    assert.deepEqual(tags.results[0]?.series?.[0]?.values, [['pump']], 'the only tag is pump');
  } finally {
    await influx.dispose();
  }
});
