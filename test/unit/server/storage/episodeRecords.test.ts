import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { PointStore } from '../../../../server/storage/influxStore.ts';
import { episodeRecordTimestampNs, MEASUREMENTS } from '../../../../server/storage/points.ts';
import { storedEpisodes } from '../../../../server/storage/queries.ts';

const DAY_NS = 86_400_000_000_000n;
const at = (iso: string): number => Date.parse(iso);

describe('episode record timestamps: one version of a record a day', () => {
  test('every version of a record written the same UTC day lands on the same point', () => {
    const id = 'CS7-004512_20261123T090000Z_9';
    const a = episodeRecordTimestampNs(id, at('2026-11-24T00:00:01Z'));
    assert.equal(episodeRecordTimestampNs(id, at('2026-11-24T23:59:59.999Z')), a);
    const next = episodeRecordTimestampNs(id, at('2026-11-25T00:00:00Z'));
    assert.equal(BigInt(next) - BigInt(a), DAY_NS, 'the next day: the next point');
    assert.ok(BigInt(a) >= BigInt(at('2026-11-24T00:00:00Z')) * 1_000_000n);
    assert.ok(BigInt(a) - BigInt(at('2026-11-24T00:00:00Z')) * 1_000_000n < 2n * 3_600_000_000_000n, 'within two hours of the day start');
  });

  test('records of a pump never share a point: programs by START second and seq, the pump record apart', () => {
    const day = at('2026-11-24T12:00:00Z');
    const ids = [
      'CS7-004512_20261123T090000Z_9', 'CS7-004512_20261123T090000Z_10', 'CS7-004512_20261123T090001Z_9',
      'CS7-004512_20261124T090000Z_9', 'CS7-004512_20231123T090000Z_9', 'pump:CS7-004512', 'something-else',
    ];
    const stamps = ids.map((id) => episodeRecordTimestampNs(id, day));
    assert.equal(new Set(stamps).size, ids.length);
    assert.equal(stamps[5], String(BigInt(at('2026-11-24T00:00:00Z')) * 1_000_000n));
  });
});

describe('storedEpisodes', () => {
  const row = (id: string, v: number, journalId = 1): Record<string, unknown> => ({ json: JSON.stringify({ id, pump: 'P', version: 1, v }), journalEpoch: 'E', journalId });
  function store(tables: Record<string, Record<string, unknown>[]>, asked: string[]): PointStore {
    return {
      select: (q: string) => {
        asked.push(q);
        const m = /FROM "([a-z_]+)"/.exec(q)?.[1] ?? '';
        return Promise.resolve([{ tags: {}, rows: tables[m] ?? [] }]);
      },
    } as unknown as PointStore;
  }

  test('reads the day-stamped records from the start of the day asked, and the older scheme from the time asked', async () => {
    const asked: string[] = [];
    await storedEpisodes(store({}, asked), at('2026-11-24T15:30:00Z'), 'P');
    const daily = asked.filter((q) => q.includes(`"${MEASUREMENTS.episodeDay}"`));
    const legacy = asked.filter((q) => q.includes(`FROM "${MEASUREMENTS.episode}"`));
    assert.ok(daily.length > 0 && legacy.length > 0);
    for (const q of daily) assert.match(q, new RegExp(`time >= ${at('2026-11-24T00:00:00Z')}000000 .*"pump" = 'P'`));
    for (const q of legacy) assert.match(q, new RegExp(`time >= ${at('2026-11-24T15:30:00Z')}000000 .*"pump" = 'P'`));
    assert.ok(asked.every((q) => !q.includes('SELECT *')), 'only the fields used are read');
    // of each pump's own record only the newest
    assert.ok(daily.some((q) => q.includes('"id" =~ /^pump:/') && q.includes('GROUP BY "pump" ORDER BY time DESC LIMIT 1')));
  });

  test('a long period is read in slices that cover it without a gap or an overlap', async () => {
    const asked: string[] = [];
    await storedEpisodes(store({}, asked), at('2026-01-01T00:00:00Z'), undefined, at('2027-01-01T00:00:00Z'));
    const slices = asked.filter((q) => q.includes(`"${MEASUREMENTS.episodeDay}"`) && q.includes('!~'));
    assert.equal(slices.length, 4);
    const bounds = slices.map((q) => [/time >= (\d+)/.exec(q)?.[1], /time < (\d+)/.exec(q)?.[1]]);
    assert.equal(bounds[0]![0], `${at('2026-01-01T00:00:00Z')}000000`);
    for (let i = 1; i < bounds.length; i++) assert.equal(bounds[i]![0], bounds[i - 1]![1]);
    assert.equal(bounds[3]![1], undefined, 'the last slice is open-ended');
  });

  test('the newest version of each record wins; a day-stamped one over any of the older scheme', async () => {
    const got = await storedEpisodes(store({
      [MEASUREMENTS.episode]: [row('a', 1), row('b', 1), row('a', 2)],
      [MEASUREMENTS.episodeDay]: [row('b', 3, 7), row('c', 1), row('b', 4, 8), { json: '{broken' }],
    }, []), 0);
    assert.deepEqual(got.map((s) => `${s.record.id}:${(s.record as unknown as { v: number }).v}:${s.journalId}`).sort(), ['a:2:1', 'b:4:8', 'c:1:1']);
  });
});
