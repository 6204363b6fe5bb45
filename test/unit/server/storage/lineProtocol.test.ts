import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { InfluxDB, type IPoint } from 'influx';
import { linesOf, pointLine } from '../../../../server/storage/lineProtocol.ts';

/** what the `influx` package sends for the same points (its pool replaced by a recorder) */
async function influxBody(points: IPoint[]): Promise<string> {
  const influx = new InfluxDB({ host: '127.0.0.1', database: 'x' });
  let body = '';
  (influx as unknown as { _pool: { discard(o: { body: string }): Promise<void> } })._pool.discard = (o) => {
    body = o.body;
    return Promise.resolve();
  };
  await influx.writePoints(points, { precision: 'n' });
  return body;
}

describe('line protocol', () => {
  test('quotes and escapes strings, writes numbers and booleans like the influx package', async () => {
    // fields in sorted order, the order `influx` uses, so the bodies compare byte for byte
    const points: IPoint[] = [
      { measurement: 'pump_state', tags: { pump: 'BN-000001' }, timestamp: '1795794646326000001', fields: { alerts: '[]', engine: JSON.stringify({ a: 'x"y', b: 'c\\d', n: 1.5 }), journalId: 27000 } },
      { measurement: 'status', tags: { pump: 'CS7 0,1=2' }, timestamp: '1795794635000020000', fields: { acknowledged: false, ok: true, raw: '$STS,CS7-004512,43*1F', seq: 43, x: 0.16 } },
    ];
    assert.equal(linesOf(points).body, await influxBody(points));
    assert.equal(pointLine(points[1] as IPoint), 'status,pump=CS7\\ 0\\,1\\=2 acknowledged=false,ok=true,raw="$STS,CS7-004512,43*1F",seq=43,x=0.16 1795794635000020000');
  });

  test('a value line protocol cannot carry is left out; a point with nothing left is skipped, not sent', () => {
    const points: IPoint[] = [
      { measurement: 'm', tags: { pump: 'p' }, fields: { bad: Number.NaN, inf: Infinity, good: 1 }, timestamp: '5' },
      { measurement: 'm', tags: { pump: 'p' }, fields: { bad: Number.NaN }, timestamp: '6' },
    ];
    const r = linesOf(points);
    assert.equal(r.body, 'm,pump=p good=1 5');
    assert.equal(r.skipped, 1);
  });

  test('Date timestamps become nanoseconds', () => {
    assert.equal(pointLine({ measurement: 'm', fields: { v: 1 }, timestamp: new Date(1700000000123) }), 'm v=1 1700000000123000000');
  });
});
