import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { BillingHistory } from '../../../../server/core/billingHistory.ts';
import type { BillingAssignment, CourseEpisode, EpisodeRecord } from '../../../../server/billing/index.ts';
import type { PointStore } from '../../../../server/storage/influxStore.ts';
import { feed, PumpScript, tracker } from '../billing/billingFixtures.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-05T09:00:00Z');

/** the episode measurement as InfluxDB keeps it: records with the server time they were written */
class FakeStore {
  readonly points: { timeMs: number; pump: string; record: EpisodeRecord }[] = [];
  selects = 0;
  write(timeMs: number, records: EpisodeRecord[]): void {
    for (const record of records) this.points.push({ timeMs, pump: record.pump, record });
  }
  select(q: string): Promise<{ tags: Record<string, string>; rows: Record<string, unknown>[] }[]> {
    this.selects++;
    const since = Number(/time >= (\d+)000000/.exec(q)?.[1] ?? 0);
    const pump = /"pump" = '([^']+)'/.exec(q)?.[1];
    const rows = this.points.filter((p) => p.timeMs >= since && (pump === undefined || p.pump === pump))
      .map((p) => ({ time: p.timeMs * 1000, json: JSON.stringify(p.record), journalEpoch: 'e', journalId: 1 }));
    return Promise.resolve([{ tags: {}, rows }]);
  }
}

const assignment: BillingAssignment = {
  id: '1', pump: 'PW-H1', fromMs: T0 - DAY, toMs: T0 + 3 * DAY,
  order: { id: '5', drug: 'FLUOROURACIL', mode: 'continuous', payer: null, stoppedMs: null },
  patient: { id: '9', mrn: 'MRN-9', name: 'P', timeZone: 'UTC' },
};

function history(store: FakeStore, nowMs: () => number): BillingHistory {
  return new BillingHistory({ store: store as unknown as PointStore, createTracker: () => tracker(), assignments: () => [assignment], now: nowMs });
}

describe('billing history from the stored record', () => {
  test('a course a year old is listed from storage; two instances give the same answer; asked again it is brought up to date', async () => {
    const store = new FakeStore();
    const s = new PumpScript('PW-H1', T0).start().run(46 * 60).event('END', 'P1').set('END').status();
    const t = feed(tracker(), s.out);
    store.write(T0 + 47 * 3_600_000, t.takeChanged());
    const now = T0 + 365 * DAY;
    const a = history(store, () => now);
    const b = history(store, () => now);
    const q = { fromMs: T0 - DAY, toMs: T0 + 3 * DAY };
    const [fromA, fromB] = [await a.episodes(q), await b.episodes(q)];
    assert.equal(fromA.length, 1);
    assert.deepEqual(fromA, fromB);
    assert.deepEqual([fromA[0]?.id, fromA[0]?.code, fromA[0]?.units, fromA[0]?.mrn], ['order-5', 'S9330', 3, 'MRN-9']);
    // a period without a course is empty
    assert.equal((await a.episodes({ fromMs: T0 + 10 * DAY, toMs: T0 + 20 * DAY })).length, 0);
    // a late record (a correction written later) is picked up by the next question
    const more = new PumpScript('PW-H1', T0 + 2 * DAY).start('P2').run(60).event('END', 'P2').set('END').status();
    feed(t, more.out);
    store.write(now - 1000, t.takeChanged());
    const again = (await a.episodes(q)) as CourseEpisode[];
    assert.equal(again[0]?.programs.length, 2);
    assert.deepEqual(again, await b.episodes(q));
    // one episode by its id, and its evidence ranges
    assert.equal(((await history(store, () => now).episode('order-5')) as CourseEpisode | undefined)?.programs.length, 2);
    assert.equal((await a.evidenceRanges('order-5'))?.length, 2);
  });
});
