import { describe, test, expect } from 'vitest';
import fc from 'fast-check';
import { DedupeWindows, decodeIdentities, encodeIdentities, identityNumber } from '../../../../server/ingest/dedupeWindow.ts';
import { ownsPump, shardOf } from '../../../../server/ingest/shard.ts';

const id = (seq: number, timeS: number): number => timeS * 65536 + seq;
const T0 = Date.parse('2026-11-24T09:00:00Z') / 1000;

/** The window's meaning, spelt out: the last `capacity` distinct identities per pump, oldest forgotten first. */
class ReferenceWindows {
  private readonly pumps = new Map<string, number[]>();
  constructor(private readonly capacity: number) {}

  seenOrAdd(pump: string, ident: number): boolean {
    const list = this.pumps.get(pump) ?? [];
    this.pumps.set(pump, list);
    if (list.includes(ident)) return true;
    list.push(ident);
    if (list.length > this.capacity) list.shift();
    return false;
  }

  export(pump: string): number[] {
    return [...(this.pumps.get(pump) ?? [])];
  }
}

describe('DedupeWindows', () => {
  test('the same (seq, time) is seen once per pump; other pumps and times are distinct', () => {
    const w = new DedupeWindows(8, 2);
    const a = identityNumber(7, '2026-11-24T09:00:00Z');
    expect(w.seenOrAdd('P1', a)).toBe(false);
    expect(w.seenOrAdd('P1', a)).toBe(true);
    expect(w.seenOrAdd('P2', a), 'another pump').toBe(false);
    expect(w.seenOrAdd('P1', identityNumber(7, '2026-11-24T09:00:01Z')), 'same seq, other time (after a power cycle)').toBe(false);
    expect(w.seenOrAdd('P1', identityNumber(8, '2026-11-24T09:00:00Z')), 'same time, other seq').toBe(false);
  });

  test('grows up to its capacity and then forgets the oldest first', () => {
    const w = new DedupeWindows(4, 1);
    for (let i = 0; i < 4; i++) expect(w.seenOrAdd('P', i)).toBe(false);
    for (let i = 0; i < 4; i++) expect(w.has('P', i)).toBe(true);
    expect(w.export('P')).toEqual([0, 1, 2, 3]);
    w.seenOrAdd('P', 4);
    expect(w.has('P', 0)).toBe(false);
    expect(w.export('P')).toEqual([1, 2, 3, 4]);
    w.seenOrAdd('P', 5);
    expect(w.export('P')).toEqual([2, 3, 4, 5]);
  });

  test('a window of one keeps just the newest', () => {
    const w = new DedupeWindows(1);
    expect(w.seenOrAdd('P', id(1, T0))).toBe(false);
    expect(w.seenOrAdd('P', id(1, T0))).toBe(true);
    expect(w.seenOrAdd('P', id(2, T0))).toBe(false);
    expect(w.export('P')).toEqual([id(2, T0)]);
    expect(w.seenOrAdd('P', id(1, T0)), 'forgotten').toBe(false);
  });

  test('seq wraps 65535 → 0: every sentence across the wrap is new once and a duplicate after', () => {
    const w = new DedupeWindows(1024);
    const sent: number[] = [];
    for (let k = 0; k < 40; k++) sent.push(id((65516 + k) % 65536, T0 + 60 * k));
    for (const s of sent) expect(w.seenOrAdd('P', s)).toBe(false);
    for (const s of sent) expect(w.seenOrAdd('P', s)).toBe(true);
    expect(w.export('P')).toEqual(sent);
    // the same seq numbers a whole wrap later (65,536 sentences on) are other sentences
    expect(w.seenOrAdd('P', id(65516, T0 + 60 * 65536))).toBe(false);
  });

  test('a ?HIST replay of the pump history (1,000 sentences), out of order, is all duplicates; new sentences between them are not', () => {
    const w = new DedupeWindows(1024);
    const history: number[] = [];
    for (let seq = 0; seq < 3000; seq++) {
      // statuses every 60 s with events in the same second now and then
      const timeS = T0 + 60 * Math.floor(seq / 1.2);
      history.push(id(seq, timeS));
      expect(w.seenOrAdd('P', id(seq, timeS))).toBe(false);
    }
    const kept = history.slice(-1000);
    const shuffled = kept.map((h, i) => [h, (i * 7919) % 1000] as const).sort((a, b) => a[1] - b[1]).map(([h]) => h);
    for (const h of shuffled) expect(w.seenOrAdd('P', h)).toBe(true);
    expect(w.seenOrAdd('P', id(3000, T0 + 60 * 2500))).toBe(false);
    expect(w.seenOrAdd('P', id(3000, T0 + 60 * 2500))).toBe(true);
    // the window holds 1,024 (the history and seq 3000): the history's 1,024th newest is forgotten
    expect(w.has('P', history[history.length - 1023] as number)).toBe(true);
    expect(w.has('P', history[history.length - 1024] as number)).toBe(false);
  });

  test('clock changes: a clock set back or forward, and the same seq at another time, are new sentences', () => {
    const w = new DedupeWindows(64);
    for (let seq = 100; seq < 110; seq++) w.seenOrAdd('P', id(seq, T0 + 60 * (seq - 100)));
    // clock set back an hour: seq goes on, time jumps back
    expect(w.seenOrAdd('P', id(110, T0 - 3600))).toBe(false);
    expect(w.seenOrAdd('P', id(111, T0 - 3540))).toBe(false);
    // power cycle: seq 0 again, clock set forward by days
    expect(w.seenOrAdd('P', id(0, T0 + 5 * 86_400))).toBe(false);
    // every earlier seq at a time it did not have: new
    for (let seq = 100; seq < 112; seq++) expect(w.seenOrAdd('P', id(seq, T0 + 7))).toBe(false);
    // and every sentence really sent before is still a duplicate
    for (let seq = 100; seq < 110; seq++) expect(w.seenOrAdd('P', id(seq, T0 + 60 * (seq - 100)))).toBe(true);
    expect(w.seenOrAdd('P', id(110, T0 - 3600))).toBe(true);
    expect(w.seenOrAdd('P', id(0, T0 + 5 * 86_400))).toBe(true);
  });

  test('an identity that is not a safe integer (pump time after the year 6325) is never called a duplicate', () => {
    const w = new DedupeWindows(8);
    const far = identityNumber(3, '9999-12-31T23:59:59Z');
    expect(Number.isSafeInteger(far)).toBe(false);
    expect(w.seenOrAdd('P', far)).toBe(false);
    expect(w.seenOrAdd('P', far)).toBe(false);
    expect(w.seenOrAdd('P', Number.NaN)).toBe(false);
  });

  test('a day of one sentence a minute takes about one byte per identity, not eight', () => {
    const w = new DedupeWindows(1024);
    for (let pump = 0; pump < 10; pump++) {
      for (let k = 0; k < 1440; k++) {
        w.seenOrAdd(`P${pump}`, id(k, T0 + 60 * k));
        if (k % 100 === 0) w.seenOrAdd(`P${pump}`, id(++k, T0 + 60 * (k - 1))); // an event in the same second
      }
    }
    for (let pump = 0; pump < 10; pump++) expect(w.export(`P${pump}`)).toHaveLength(1024);
    expect(w.bufferBytes() / 10).toBeLessThan(1300);
  });

  test('random streams decide exactly as the reference window (property)', () => {
    const op = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('next' as const), pump: fc.nat(2), dt: fc.oneof(fc.constant(0), fc.constant(60), fc.constant(300), fc.integer({ min: -3, max: 400 })) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('replay' as const), pump: fc.nat(2), back: fc.nat(120) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('jump' as const), pump: fc.nat(2), seq: fc.integer({ min: 0, max: 65535 }), dt: fc.integer({ min: -10_000_000, max: 10_000_000 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('sameSeqOtherTime' as const), pump: fc.nat(2), dt: fc.integer({ min: -100_000, max: 100_000 }).filter((d) => d !== 0) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), pump: fc.nat(2) }) },
    );
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 48 }),
      fc.integer({ min: 65_400, max: 65_535 + 200 }).map((s) => s % 65536),
      // pump clocks from 1900 to 3000: negative identity numbers too
      fc.integer({ min: -2_208_988_800, max: 32_503_680_000 }),
      fc.array(op, { maxLength: 400 }),
      (capacity, seq0, time0, ops) => {
        const w = new DedupeWindows(capacity, 1);
        const ref = new ReferenceWindows(capacity);
        const last = [0, 1, 2].map(() => ({ seq: seq0, timeS: time0 }));
        const sent: number[][] = [[], [], []];
        const send = (pump: number, seq: number, timeS: number): void => {
          const ident = id(seq, timeS);
          sent[pump]!.push(ident);
          last[pump] = { seq, timeS };
          expect(w.seenOrAdd(`P${pump}`, ident)).toBe(ref.seenOrAdd(`P${pump}`, ident));
        };
        for (const o of ops) {
          const prev = last[o.pump]!;
          if (o.kind === 'next') send(o.pump, (prev.seq + 1) % 65536, prev.timeS + o.dt);
          else if (o.kind === 'jump') send(o.pump, o.seq, prev.timeS + o.dt);
          else if (o.kind === 'sameSeqOtherTime') send(o.pump, prev.seq, prev.timeS + o.dt);
          else if (o.kind === 'replay') {
            const list = sent[o.pump]!;
            const again = list[list.length - 1 - Math.min(o.back, list.length - 1)];
            if (again !== undefined) expect(w.seenOrAdd(`P${o.pump}`, again)).toBe(ref.seenOrAdd(`P${o.pump}`, again));
          } else {
            const text = encodeIdentities(w.export(`P${o.pump}`));
            w.restore(`P${o.pump}`, decodeIdentities(text));
          }
        }
        for (const pump of [0, 1, 2]) {
          expect(w.export(`P${pump}`)).toEqual(ref.export(`P${pump}`));
          for (const ident of sent[pump]!) expect(w.has(`P${pump}`, ident)).toBe(ref.export(`P${pump}`).includes(ident));
        }
      },
    ), { numRuns: 300 });
  });
});

describe('dedupe snapshots', () => {
  test('export and restore round-trip through the compact snapshot form', () => {
    const w = new DedupeWindows(16);
    const ids = [identityNumber(65535, '2026-11-24T09:00:00Z'), identityNumber(0, '2026-11-24T09:00:01Z'), 3.5e14];
    for (const i of ids) w.seenOrAdd('P', i);
    const text = encodeIdentities(w.export('P'));
    expect(text.startsWith('v2:')).toBe(true);
    expect(decodeIdentities(text)).toEqual(ids);
    const again = new DedupeWindows(16);
    again.restore('P', decodeIdentities(text));
    for (const i of ids) expect(again.seenOrAdd('P', i)).toBe(true);
    expect(again.seenOrAdd('P', identityNumber(1, '2026-11-24T09:00:01Z'))).toBe(false);
  });

  test('a full window of a day stores in about 1.4 kB of text, not 11 kB', () => {
    const w = new DedupeWindows(1024);
    for (let k = 0; k < 1440; k++) w.seenOrAdd('P', id(k, T0 + 60 * k));
    const ids = w.export('P');
    const text = encodeIdentities(ids);
    expect(decodeIdentities(text)).toEqual(ids);
    expect(text.length).toBeLessThan(1400);
    expect(encodeIdentities([])).toBe('');
    expect(decodeIdentities('')).toEqual([]);
  });

  test('snapshots written before the compact form (base64 doubles) are still read', () => {
    // pump_state.dedupe as stored by earlier servers
    const stored = 'QAoAhFTB2kKACkCFVMHaQsAKQIVUwdpCwP9/lFTB2kIAAECjVMHaQg==';
    const ids = [
      identityNumber(41, '2026-11-24T09:00:00Z'), identityNumber(42, '2026-11-24T09:00:05Z'), identityNumber(43, '2026-11-24T09:00:05Z'),
      identityNumber(65535, '2026-11-24T09:01:05Z'), identityNumber(0, '2026-11-24T09:02:05Z'),
    ];
    expect(decodeIdentities(stored)).toEqual(ids);
    const w = new DedupeWindows(1024);
    w.restore('P', decodeIdentities(stored));
    for (const i of ids) expect(w.seenOrAdd('P', i)).toBe(true);
    expect(w.seenOrAdd('P', identityNumber(1, '2026-11-24T09:03:05Z'))).toBe(false);
  });

  test('a list a step cannot hold is written as doubles; a damaged compact text restores nothing', () => {
    const odd = [1.5, 2 ** 60];
    expect(decodeIdentities(encodeIdentities(odd))).toEqual(odd);
    const ids = [id(1, T0), id(2, T0 + 60 * 200), id(9, T0 + 1), id(10, T0 + 1)];
    const good = encodeIdentities(ids);
    expect(decodeIdentities('v2:AAA')).toEqual([]);
    expect(decodeIdentities(`v2:${Buffer.from([...new Uint8Array(new Float64Array([id(1, T0)]).buffer), 0xf3]).toString('base64')}`), 'unknown step tag').toEqual([]);
    // cut short anywhere: either nothing or the identities before the cut, never an invented one
    for (let n = 3; n < good.length; n++) {
      const got = decodeIdentities(good.slice(0, n));
      expect(got, `cut at ${n}`).toEqual(ids.slice(0, got.length));
    }
  });

  test('identity numbers are exact for every seq at a real pump time', () => {
    const t = '2099-12-31T23:59:59Z';
    expect(identityNumber(65535, t)).not.toBe(identityNumber(65534, t));
    expect(identityNumber(65535, t) % 65536).toBe(65535);
  });
});

describe('shard', () => {
  test('every serial belongs to exactly one of N instances, spread over all of them', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const serial = `CS7-${String(i).padStart(6, '0')}`;
      const owners = [0, 1, 2].filter((index) => ownsPump({ index, count: 3 }, serial));
      expect(owners).toHaveLength(1);
      counts[shardOf(serial, 3)]!++;
    }
    for (const c of counts) expect(c, `balanced enough: ${counts.join(',')}`).toBeGreaterThan(800);
    expect(ownsPump(null, 'ANY')).toBe(true);
  });
});
