import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  chainText, checkRota, comingShifts, draftsFromShifts, isoToZonedInput, placeReason, serverRotaReasons, zonedInputToIso, zoneLabel,
  type OnCallNow, type Shift,
} from '../../../dashboard/src/rota.ts';

process.env.TZ = 'UTC';
const CHI = 'America/Chicago';

describe('shift times in the agency zone', () => {
  test('a wall-clock time in the zone becomes ISO, in winter and in summer', () => {
    assert.equal(zonedInputToIso('2026-12-03T19:00', CHI), '2026-12-04T01:00:00.000Z');
    assert.equal(zonedInputToIso('2026-07-03T19:00', CHI), '2026-07-04T00:00:00.000Z');
    assert.equal(zonedInputToIso('2026-12-03T19:00', 'Asia/Kolkata'), '2026-12-03T13:30:00.000Z');
  });

  test('around the changes: the repeated hour reads as its first, the skipped hour with the offset before', () => {
    // 1 Nov 2026 01:30 happens twice in Chicago (CDT then CST); 8 Mar 2026 02:30 never happens
    assert.equal(zonedInputToIso('2026-11-01T01:30', CHI), '2026-11-01T06:30:00.000Z');
    assert.equal(zonedInputToIso('2026-03-08T02:30', CHI), '2026-03-08T08:30:00.000Z');
  });

  test('and back: ISO shown as the wall clock there; round trip', () => {
    assert.equal(isoToZonedInput('2026-12-04T01:00:00.000Z', CHI), '2026-12-03T19:00');
    for (const v of ['2026-01-01T00:00', '2026-06-30T23:59', '2026-11-01T03:00']) assert.equal(isoToZonedInput(zonedInputToIso(v, CHI)!, CHI), v);
    assert.equal(isoToZonedInput('nonsense', CHI), '');
  });

  test('no zone, or one this browser does not know: the browser zone (UTC here)', () => {
    assert.equal(zonedInputToIso('2026-12-03T19:00', null), '2026-12-03T19:00:00.000Z');
    assert.equal(zonedInputToIso('2026-12-03T19:00', 'Mars/Olympus'), '2026-12-03T19:00:00.000Z');
    assert.equal(isoToZonedInput('2026-12-03T19:00:00Z', null), '2026-12-03T19:00');
  });

  test('malformed values are null, not a wrong time', () => {
    for (const v of ['', '2026-12-03', '2026-02-31T10:00', '2026-13-01T10:00', '2026-12-03T24:00', 'tomorrow']) assert.equal(zonedInputToIso(v, CHI), null, v);
  });

  test('the zone is named as people know it', () => {
    assert.equal(zoneLabel(CHI, Date.parse('2026-12-03T12:00:00Z')), 'America/Chicago (CST)');
    assert.equal(zoneLabel(CHI, Date.parse('2026-07-03T12:00:00Z')), 'America/Chicago (CDT)');
    assert.equal(zoneLabel(null, 0), "this browser's zone");
  });
});

describe('checking the rota before it is sent', () => {
  const day = { from: '2026-12-03T07:00', to: '2026-12-03T19:00', chain: ['anna', 'ben', ''] };
  const night = { from: '2026-12-03T19:00', to: '2026-12-04T07:00', chain: ['carl'] };

  test('good rows: ISO times in the zone, blank chain places dropped, order kept', () => {
    assert.deepEqual(checkRota([day, night], CHI), {
      ok: true,
      shifts: [
        { from: '2026-12-03T13:00:00.000Z', to: '2026-12-04T01:00:00.000Z', chain: ['anna', 'ben'] },
        { from: '2026-12-04T01:00:00.000Z', to: '2026-12-04T13:00:00.000Z', chain: ['carl'] },
      ],
    });
    assert.deepEqual(checkRota([], CHI), { ok: true, shifts: [] });
  });

  test('every reason at its field: missing and bad times, end before start, empty chain, a bad or repeated name, overlap', () => {
    const r = checkRota([
      { from: '', to: 'soon', chain: [''] },
      { from: '2026-12-03T19:00', to: '2026-12-03T18:00', chain: ['anna', 'bad name', 'anna'] },
    ], CHI);
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors, [
      { field: 'shifts[0].from', reason: 'is required' },
      { field: 'shifts[0].to', reason: 'must be a date and time' },
      { field: 'shifts[0].chain', reason: 'needs at least one person on call' },
      { field: 'shifts[1].to', reason: 'must be after the start' },
      { field: 'shifts[1].chain[1]', reason: 'must be an account name (letters, digits, . _ @ -)' },
      { field: 'shifts[1].chain[2]', reason: "is already anna's place in this chain" },
    ]);
    const overlap = checkRota([day, { ...night, from: '2026-12-03T18:00' }], CHI);
    assert.deepEqual(!overlap.ok && overlap.errors, [{ field: 'shifts[1].from', reason: 'overlaps shift 1' }]);
  });

  test('the stored rota back into rows', () => {
    assert.deepEqual(draftsFromShifts([{ from: '2026-12-03T13:00:00Z', to: '2026-12-04T01:00:00Z', chain: ['anna'] }], CHI), [{ from: '2026-12-03T07:00', to: '2026-12-03T19:00', chain: ['anna'] }]);
  });

  test('the chain in words', () => {
    assert.equal(chainText(['anna', 'ben', 'carl']), '1st anna · 2nd ben · 3rd carl');
    assert.equal(chainText([]), 'nobody');
  });
});

describe("the server's reasons at their rows", () => {
  test('field paths in any of the usual spellings', () => {
    assert.deepEqual(placeReason('shifts[1].chain[2]', 'unknown user'), { row: 1, field: 'chain.2', reason: 'unknown user' });
    assert.deepEqual(placeReason('shifts.0.to', 'x'), { row: 0, field: 'to', reason: 'x' });
    assert.deepEqual(placeReason('/shifts/3/from', 'x'), { row: 3, field: 'from', reason: 'x' });
    assert.deepEqual(placeReason('shifts[2]', 'overlaps'), { row: 2, field: null, reason: 'overlaps' });
    assert.deepEqual(placeReason('', 'too many shifts'), { row: null, field: null, reason: 'too many shifts' });
  });

  test('a fields list, or the message split at "; " (ajv says body/shifts/0/to …)', () => {
    assert.deepEqual(serverRotaReasons({ message: 'bad', fields: [{ field: 'shifts[0].chain[0]', reason: 'is not an account' }] }), [{ row: 0, field: 'chain.0', reason: 'is not an account' }]);
    assert.deepEqual(serverRotaReasons({ message: 'body/shifts/0/to must match format "date-time"; rota too long' }), [
      { row: 0, field: 'to', reason: 'must match format "date-time"' },
      { row: null, field: null, reason: 'rota too long' },
    ]);
  });

  test('"no such account: …" beside every place of those names in the rows sent', () => {
    const drafts = [{ from: '', to: '', chain: ['anna', 'ghost'] }, { from: '', to: '', chain: ['ghost ', 'bob', 'anna'] }];
    assert.deepEqual(serverRotaReasons({ message: 'no such account: ghost, bob' }, drafts), [
      { row: 0, field: 'chain.1', reason: 'is not an account' },
      { row: 1, field: 'chain.0', reason: 'is not an account' },
      { row: 1, field: 'chain.1', reason: 'is not an account' },
    ]);
    // a name not in the rows: said above the button, as sent
    assert.deepEqual(serverRotaReasons({ message: 'no such account: zed' }, drafts), [{ row: null, field: null, reason: 'no such account: zed' }]);
  });
});

describe('the coming shifts, walked from GET /api/oncall?at=', () => {
  const H = 3_600_000;
  const t0 = Date.parse('2026-12-03T12:00:00Z');
  const iso = (ms: number): string => new Date(ms).toISOString();
  const rota: Shift[] = [
    { from: iso(t0 - 2 * H), to: iso(t0 + 10 * H), chain: ['anna', 'ben'] },
    { from: iso(t0 + 10 * H), to: iso(t0 + 22 * H), chain: ['carl'] },
    { from: iso(t0 + 22 * H), to: iso(t0 + 34 * H), chain: ['dina'] },
    { from: iso(t0 + 40 * H), to: iso(t0 + 50 * H), chain: ['eve'] },
  ];
  /** what the server answers: the shift holding `at` (from ≤ at < to) */
  const server = (shifts: Shift[], asked: string[]) => (at: string): Promise<OnCallNow> => {
    asked.push(at);
    const ms = Date.parse(at);
    const shift = shifts.find((s) => Date.parse(s.from) <= ms && ms < Date.parse(s.to)) ?? null;
    return Promise.resolve({ shift, chain: shift?.chain ?? [] });
  };

  test('now, then each next shift from the previous end, until a gap (shown as one)', async () => {
    const asked: string[] = [];
    const r = await comingShifts(server(rota, asked), t0);
    assert.deepEqual(r.now.chain, ['anna', 'ben']);
    assert.deepEqual(r.coming.map((s) => s.chain[0]), ['carl', 'dina']);
    assert.equal(r.gapFrom, iso(t0 + 34 * H));
    assert.deepEqual(asked, [iso(t0), iso(t0 + 10 * H), iso(t0 + 22 * H), iso(t0 + 34 * H)]);
  });

  test('nobody on call now: a gap from now', async () => {
    const r = await comingShifts(server(rota.slice(3), []), t0);
    assert.equal(r.now.shift, null);
    assert.deepEqual(r.coming, []);
    assert.equal(r.gapFrom, iso(t0));
  });

  test('bounded: at most maxShifts, and not past the horizon', async () => {
    const many: Shift[] = Array.from({ length: 100 }, (_, i) => ({ from: iso(t0 + i * H), to: iso(t0 + (i + 1) * H), chain: [`u${i}`] }));
    const asked: string[] = [];
    const r = await comingShifts(server(many, asked), t0, { maxShifts: 5 });
    assert.equal(r.coming.length, 5);
    assert.equal(asked.length, 6);
    assert.equal(r.gapFrom, null);
    assert.equal((await comingShifts(server(many, []), t0, { horizonMs: 3 * H })).coming.length, 2);
  });

  test('a server that lists its whole rota needs no walk, and its first gap is found', async () => {
    const asked: string[] = [];
    const r = await comingShifts((at) => { asked.push(at); return Promise.resolve({ shift: rota[0]!, chain: rota[0]!.chain, shifts: rota }); }, t0);
    assert.equal(asked.length, 1);
    assert.deepEqual(r.coming.map((s) => s.chain[0]), ['carl', 'dina', 'eve']);
    assert.equal(r.gapFrom, iso(t0 + 34 * H));
  });
});
