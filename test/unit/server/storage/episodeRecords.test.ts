import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { PointStore } from '../../../../server/storage/influxStore.ts';
import { EPISODE_BUCKET_MS, episodeRecordTimestampNs, MEASUREMENTS } from '../../../../server/storage/points.ts';
import { storedEpisodes } from '../../../../server/storage/queries.ts';

const at = (iso: string): number => Date.parse(iso);
/** start of the week `ms` falls in */
const week = (ms: number): number => Math.floor(ms / EPISODE_BUCKET_MS) * EPISODE_BUCKET_MS;

describe('episode record timestamps: one version of a record a week', () => {
  test('every version of a record written the same week lands on the same point', () => {
    const id = 'CS7-004512_20261123T090000Z_9';
    const start = week(at('2026-11-24T12:00:00Z'));
    const a = episodeRecordTimestampNs(id, start);
    assert.equal(episodeRecordTimestampNs(id, start + EPISODE_BUCKET_MS - 1), a);
    const next = episodeRecordTimestampNs(id, start + EPISODE_BUCKET_MS);
    assert.equal(BigInt(next) - BigInt(a), BigInt(EPISODE_BUCKET_MS) * 1_000_000n, 'the next week: the next point');
    assert.ok(BigInt(a) > BigInt(start) * 1_000_000n);
    assert.ok(BigInt(a) - BigInt(start) * 1_000_000n < 2n * 3_600_000_000_000n, 'within two hours of the week start');
  });

  test('records of a pump never share a point: programs by START second and seq, the pump record apart', () => {
    const t = at('2026-11-24T12:00:00Z');
    const ids = [
      'CS7-004512_20261123T090000Z_9', 'CS7-004512_20261123T090000Z_10', 'CS7-004512_20261123T090001Z_9',
      'CS7-004512_20261124T090000Z_9', 'CS7-004512_20231123T090000Z_9', 'pump:CS7-004512', 'something-else',
    ];
    const stamps = ids.map((id) => episodeRecordTimestampNs(id, t));
    assert.equal(new Set(stamps).size, ids.length);
    assert.equal(stamps[5], String(BigInt(week(t)) * 1_000_000n));
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

  test('reads the week-stamped records from the start of the week asked, and the older scheme from the time asked', async () => {
    const asked: string[] = [];
    await storedEpisodes(store({}, asked), at('2026-11-24T15:30:00Z'), 'P');
    const daily = asked.filter((q) => q.includes(`"${MEASUREMENTS.episodeWeek}"`));
    const legacy = asked.filter((q) => q.includes(`FROM "${MEASUREMENTS.episode}"`));
    assert.ok(daily.length > 0 && legacy.length > 0);
    for (const q of daily) assert.match(q, new RegExp(`time >= ${week(at('2026-11-24T15:30:00Z'))}000000 .*"pump" = 'P'`));
    for (const q of legacy) assert.match(q, new RegExp(`time >= ${at('2026-11-24T15:30:00Z')}000000 .*"pump" = 'P'`));
    assert.ok(asked.every((q) => !q.includes('SELECT *')), 'only the fields used are read');
    // of each pump's own record only the newest
    assert.ok(daily.some((q) => q.includes('"id" =~ /^pump:/') && q.includes('GROUP BY "pump" ORDER BY time DESC LIMIT 1')));
  });

  test('a long period is read in slices that cover it without a gap or an overlap', async () => {
    const asked: string[] = [];
    await storedEpisodes(store({}, asked), at('2026-01-01T00:00:00Z'), undefined, at('2027-01-01T00:00:00Z'));
    const slices = asked.filter((q) => q.includes(`"${MEASUREMENTS.episodeWeek}"`) && q.includes('!~'));
    assert.equal(slices.length, 4);
    const bounds = slices.map((q) => [/time >= (\d+)/.exec(q)?.[1], /time < (\d+)/.exec(q)?.[1]]);
    assert.equal(bounds[0]![0], `${week(at('2026-01-01T00:00:00Z'))}000000`);
    for (let i = 1; i < bounds.length; i++) assert.equal(bounds[i]![0], bounds[i - 1]![1]);
    assert.equal(bounds[3]![1], undefined, 'the last slice is open-ended');
  });

  test('the newest version of each record wins; a week-stamped one over any of the older scheme', async () => {
    const got = await storedEpisodes(store({
      [MEASUREMENTS.episode]: [row('a', 1), row('b', 1), row('a', 2)],
      [MEASUREMENTS.episodeWeek]: [row('b', 3, 7), row('c', 1), row('b', 4, 8), { json: '{broken' }],
    }, []), 0);
    assert.deepEqual(got.map((s) => `${s.record.id}:${(s.record as unknown as { v: number }).v}:${s.journalId}`).sort(), ['a:2:1', 'b:4:8', 'c:1:1']);
  });
});
