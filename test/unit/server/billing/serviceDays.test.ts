import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { feed, PumpScript, tracker } from './billingFixtures.ts';
import { addDays, localDate, serviceDays } from '../../../../server/billing/serviceDays.ts';
import { isValidTimeZone } from '../../../../server/billing/index.ts';

const NY = 'America/New_York';
const at = (iso: string): number => Date.parse(iso);

describe('local dates', () => {
  test('the agency-local date follows the zone, DST included', () => {
    assert.equal(localDate(at('2026-11-01T03:59:00Z'), NY), '2026-10-31'); // 23:59 EDT
    assert.equal(localDate(at('2026-11-01T04:00:00Z'), NY), '2026-11-01'); // 00:00 EDT
    assert.equal(localDate(at('2026-11-02T04:59:00Z'), NY), '2026-11-01'); // 23:59 EST, 25-hour day
    assert.equal(localDate(at('2026-11-02T05:00:00Z'), NY), '2026-11-02');
    assert.equal(localDate(at('2026-03-08T04:59:00Z'), NY), '2026-03-07'); // spring forward day
  });
  test('date arithmetic and zone validation', () => {
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(isValidTimeZone(NY), true);
    assert.equal(isValidTimeZone('Mars/Olympus'), false);
  });
});

describe('calendar_day', () => {
  test('an episode across midnight has a service day on each side', () => {
    assert.deepEqual(serviceDays([[at('2026-11-23T20:00:00Z'), at('2026-11-24T02:00:00Z')]], 'calendar_day', 'UTC'), ['2026-11-23', '2026-11-24']);
  });
  test('delivery that stops exactly at midnight adds no day after it', () => {
    assert.deepEqual(serviceDays([[at('2026-11-23T20:00:00Z'), at('2026-11-24T00:00:00Z')]], 'calendar_day', 'UTC'), ['2026-11-23']);
  });
  test('24 h 25 min on the 25-hour day of the DST change (New York, 2026-11-01) is one local day', () => {
    const seg: [number, number] = [at('2026-11-01T04:30:00Z'), at('2026-11-02T04:55:00Z')]; // 00:30 EDT → 23:55 EST
    assert.deepEqual(serviceDays([seg], 'calendar_day', NY), ['2026-11-01']);
    assert.deepEqual(serviceDays([seg], 'calendar_day', 'UTC'), ['2026-11-01', '2026-11-02']);
  });
  test('zero-length stretches add nothing; days are unique and sorted', () => {
    assert.deepEqual(serviceDays([[5, 5]], 'calendar_day', 'UTC'), []);
    const segs: [number, number][] = [[at('2026-11-24T10:00:00Z'), at('2026-11-24T11:00:00Z')], [at('2026-11-23T10:00:00Z'), at('2026-11-24T01:00:00Z')]];
    assert.deepEqual(serviceDays(segs, 'calendar_day', 'UTC'), ['2026-11-23', '2026-11-24']);
  });
});

describe('full_24h', () => {
  test('one day per full 24 h of delivery, dated from the local start date', () => {
    const start = at('2026-11-23T09:00:00Z');
    assert.deepEqual(serviceDays([[start, start + 46 * 3_600_000]], 'full_24h', 'UTC'), ['2026-11-23']);
    assert.deepEqual(serviceDays([[start, start + 48 * 3_600_000]], 'full_24h', 'UTC'), ['2026-11-23', '2026-11-24']);
    assert.deepEqual(serviceDays([[start, start + 23 * 3_600_000]], 'full_24h', 'UTC'), []);
  });
  test('elapsed hours, not wall-clock days: 49 h across the fall-back change in New York is 2 days', () => {
    const start = at('2026-10-31T16:00:00Z'); // 12:00 EDT
    assert.deepEqual(serviceDays([[start, start + 49 * 3_600_000]], 'full_24h', NY), ['2026-10-31', '2026-11-01']);
  });
  test('delivery split by interruptions adds up', () => {
    const a = at('2026-11-23T00:00:00Z');
    const segs: [number, number][] = [[a, a + 12 * 3_600_000], [a + 13 * 3_600_000, a + 25 * 3_600_000]];
    assert.deepEqual(serviceDays(segs, 'full_24h', 'UTC'), ['2026-11-23']);
  });
});

describe('episodes across midnight and the DST change (America/New_York, 2026-11-01)', () => {
  // 20:00 EDT on 31 Oct for 30 h: ends 01:00 EST on 2 Nov (the night has 25 hours)
  const script = (): PumpScript => new PumpScript('PW-DST', at('2026-11-01T00:00:00Z')).start().run(30 * 60).event('END', 'P1');
  test('calendar_day: 31 Oct, 1 Nov, 2 Nov', () => {
    const [e] = feed(tracker({ timeZone: NY, serviceDayRule: 'calendar_day' }), script().out).episodes({});
    assert.equal(e?.deliveryHours, 30);
    assert.deepEqual(e?.serviceDays, ['2026-10-31', '2026-11-01', '2026-11-02']);
  });
  test('full_24h: one day, 31 Oct', () => {
    const [e] = feed(tracker({ timeZone: NY, serviceDayRule: 'full_24h' }), script().out).episodes({});
    assert.deepEqual(e?.serviceDays, ['2026-10-31']);
  });
  test('the same episode in UTC has other days (the zone matters)', () => {
    const [e] = feed(tracker({ timeZone: 'UTC' }), script().out).episodes({});
    assert.deepEqual(e?.serviceDays, ['2026-11-01', '2026-11-02']);
  });
});
