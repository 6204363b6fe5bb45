import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { SequenceTracker, type AcceptResult } from '../../../gateway/sequenceTracker.ts';

const P = 'CS7-004512';
const t = (seq: number, base = 0): string => new Date(Date.UTC(2026, 10, 23, 9, 0, 0) + (seq + base) * 60_000).toISOString().replace('.000', '');
const s = (seq: number, opts: { powerOn?: boolean; base?: number; pump?: string } = {}) => ({
  pump: opts.pump ?? P, seq, time: t(seq, opts.base ?? 0), powerOn: opts.powerOn ?? false,
});

function released<T>(r: AcceptResult<T>): T[] {
  return r.kind === 'accepted' ? r.release : [];
}

describe('SequenceTracker', () => {
  test('in-order sentences pass straight through', () => {
    const tr = new SequenceTracker<number>();
    for (let i = 0; i < 5; i++) assert.deepEqual(released(tr.accept(s(i), i, 0)), [i]);
    assert.equal(tr.expectedSeq(P), 5);
    assert.deepEqual(tr.counters, { duplicates: 0, gapsFound: 0, gapsRecovered: 0, gapsUnrecovered: 0 });
  });

  test('duplicates by identity (seq, time) are dropped, also a whole replay of 1,000', () => {
    const tr = new SequenceTracker<number>();
    for (let i = 0; i < 1500; i++) tr.accept(s(i), i, 0);
    for (let i = 500; i < 1500; i++) assert.deepEqual(tr.accept(s(i), i, 0), { kind: 'duplicate' });
    assert.equal(tr.counters.duplicates, 1000);
    assert.deepEqual(released(tr.accept(s(1500), 1500, 0)), [1500]);
  });

  test('a gap asks ?HIST from the expected seq, holds later ones, and the replay fills it in order', () => {
    const tr = new SequenceTracker<number>({ holdMs: 5000 });
    for (let i = 0; i <= 10; i++) tr.accept(s(i), i, 0);
    const r = tr.accept(s(14), 14, 1000);
    assert.deepEqual(r, { kind: 'accepted', release: [], histFrom: 11 });
    assert.equal(tr.isHolding(P), true);
    const r15 = tr.accept(s(15), 15, 1100);
    assert.deepEqual(r15, { kind: 'accepted', release: [], histFrom: null }, 'one ?HIST per gap');
    // the replay: 11..15, then live 16
    assert.deepEqual(released(tr.accept(s(11), 11, 1200)), [11]);
    assert.deepEqual(released(tr.accept(s(12), 12, 1200)), [12]);
    assert.deepEqual(released(tr.accept(s(13), 13, 1200)), [13, 14, 15]);
    assert.deepEqual(tr.accept(s(14), 14, 1200), { kind: 'duplicate' });
    assert.deepEqual(tr.accept(s(15), 15, 1200), { kind: 'duplicate' });
    assert.deepEqual(released(tr.accept(s(16), 16, 1300)), [16]);
    assert.equal(tr.isHolding(P), false);
    assert.equal(tr.counters.gapsFound, 1);
    assert.equal(tr.counters.gapsRecovered, 1);
    assert.deepEqual(tr.tick(999_999), []);
  });

  test('a replay that never comes: held sentences are released in order at the deadline, counted unrecovered', () => {
    const tr = new SequenceTracker<number>({ holdMs: 5000 });
    tr.accept(s(1), 1, 0);
    tr.accept(s(5), 5, 1000);
    tr.accept(s(4), 4, 1500); // out of order arrivals are sorted
    tr.accept(s(6), 6, 2000);
    assert.deepEqual(tr.tick(5999), []);
    assert.deepEqual(tr.tick(6000), [4, 5, 6]);
    assert.equal(tr.counters.gapsUnrecovered, 1);
    assert.deepEqual(released(tr.accept(s(7), 7, 7000)), [7]);
    assert.deepEqual(tr.accept(s(2), 2, 7000).kind, 'accepted', 'a late replay of the missing ones is still taken');
  });

  test('wraps 65535 → 0 without a gap', () => {
    const tr = new SequenceTracker<number>();
    tr.accept(s(65534), 65534, 0);
    assert.deepEqual(released(tr.accept(s(65535), 65535, 0)), [65535]);
    assert.deepEqual(tr.accept({ ...s(0, { base: 70000 }) }, 0, 0), { kind: 'accepted', release: [0], histFrom: null });
    assert.deepEqual(tr.accept({ ...s(2, { base: 70000 }) }, 2, 0), { kind: 'accepted', release: [], histFrom: 1 });
  });

  test('a gap across the wrap asks from the right seq and orders across it', () => {
    const tr = new SequenceTracker<number>({ holdMs: 100 });
    tr.accept(s(65533), 65533, 0);
    assert.deepEqual(tr.accept(s(1, { base: 70000 }), 1, 0), { kind: 'accepted', release: [], histFrom: 65534 });
    tr.accept(s(0, { base: 70000 }), 0, 0);
    assert.deepEqual(tr.tick(100), [0, 1]);
  });

  test('EVT POWER_ON with seq 0 is a power cycle, not a gap; an open hold is released first', () => {
    const tr = new SequenceTracker<number>();
    for (let i = 0; i < 300; i++) tr.accept(s(i), i, 0);
    assert.deepEqual(tr.accept(s(0, { powerOn: true, base: 5000 }), 1000, 0), { kind: 'accepted', release: [1000], histFrom: null });
    assert.deepEqual(released(tr.accept(s(1, { base: 5000 }), 1001, 0)), [1001]);
    tr.accept(s(5, { base: 5000 }), 1005, 0);
    assert.deepEqual(released(tr.accept(s(0, { powerOn: true, base: 9000 }), 2000, 0)), [1005, 2000]);
    assert.equal(tr.counters.gapsFound, 1);
    assert.equal(tr.counters.gapsUnrecovered, 1);
  });

  test('a restart without a POWER_ON we saw (seq behind, new times) is taken, not dropped', () => {
    const tr = new SequenceTracker<number>();
    for (let i = 100; i < 110; i++) tr.accept(s(i), i, 0);
    assert.deepEqual(released(tr.accept(s(3, { base: 9000 }), 3, 0)), [3]);
    assert.deepEqual(released(tr.accept(s(4, { base: 9000 }), 4, 0)), [4]);
  });

  test('pumps are tracked independently', () => {
    const tr = new SequenceTracker<string>();
    tr.accept(s(1), 'a1', 0);
    tr.accept(s(1, { pump: 'B-1' }), 'b1', 0);
    assert.deepEqual(tr.accept(s(3), 'a3', 0), { kind: 'accepted', release: [], histFrom: 2 });
    assert.deepEqual(released(tr.accept(s(2, { pump: 'B-1' }), 'b2', 0)), ['b2']);
    assert.deepEqual(tr.knownPumps().sort(), ['B-1', P]);
  });

  test('snapshot/restore keeps last seq and the dedupe window across a restart', () => {
    const tr = new SequenceTracker<number>();
    for (let i = 0; i < 3000; i++) tr.accept(s(i), i, 0);
    const snap = JSON.parse(JSON.stringify(tr.snapshot())) as ReturnType<typeof tr.snapshot>;
    assert.ok((snap[P]?.recent.length ?? 0) >= 2000);
    const tr2 = new SequenceTracker<number>();
    tr2.restore(snap);
    assert.equal(tr2.expectedSeq(P), 3000);
    for (let i = 2000; i < 3000; i++) assert.equal(tr2.accept(s(i), i, 0).kind, 'duplicate', `replayed ${i}`);
    assert.deepEqual(released(tr2.accept(s(3000), 3000, 0)), [3000]);
  });

  test('rewind forgets refused sentences so the ?HIST replay of them is accepted again', () => {
    const tr = new SequenceTracker<number>();
    for (let i = 0; i < 20; i++) tr.accept(s(i), i, 0);
    tr.rewind(P, 10, Array.from({ length: 10 }, (_, k) => s(10 + k)));
    assert.equal(tr.expectedSeq(P), 10);
    for (let i = 10; i < 20; i++) assert.deepEqual(released(tr.accept(s(i), i, 0)), [i]);
    assert.deepEqual(tr.accept(s(5), 5, 0), { kind: 'duplicate' });
  });

  test('memory is bounded: the hold is released when it grows too large', () => {
    const tr = new SequenceTracker<number>({ maxHeld: 100 });
    tr.accept(s(0), 0, 0);
    let out: number[] = [];
    for (let i = 2; i <= 102; i++) out = out.concat(released(tr.accept(s(i), i, 0)));
    assert.equal(out.length, 101);
    assert.equal(tr.isHolding(P), false);
  });

  test('renewHold gives a re-sent ?HIST its full time again', () => {
    const tr = new SequenceTracker<number>({ holdMs: 5000 });
    tr.accept(s(1), 1, 0);
    tr.accept(s(3), 3, 0);
    tr.renewHold(P, 4000);
    assert.deepEqual(tr.tick(5000), [], 'not released at the first deadline');
    assert.deepEqual(released(tr.accept(s(2), 2, 6000)), [2, 3]);
    assert.equal(tr.counters.gapsRecovered, 1);
  });
});
