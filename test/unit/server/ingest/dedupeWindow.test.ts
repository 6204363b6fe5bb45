import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { DedupeWindows, decodeIdentities, encodeIdentities, identityNumber } from '../../../../server/ingest/dedupeWindow.ts';
import { ownsPump, shardOf } from '../../../../server/ingest/shard.ts';

describe('DedupeWindows', () => {
  test('the same (seq, time) is seen once per pump; other pumps and times are distinct', () => {
    const w = new DedupeWindows(8, 2);
    const a = identityNumber(7, '2026-11-24T09:00:00Z');
    assert.equal(w.seenOrAdd('P1', a), false);
    assert.equal(w.seenOrAdd('P1', a), true);
    assert.equal(w.seenOrAdd('P2', a), false, 'another pump');
    assert.equal(w.seenOrAdd('P1', identityNumber(7, '2026-11-24T09:00:01Z')), false, 'same seq, other time (after a power cycle)');
    assert.equal(w.seenOrAdd('P1', identityNumber(8, '2026-11-24T09:00:00Z')), false, 'same time, other seq');
  });

  test('grows up to its capacity and then forgets the oldest first', () => {
    const w = new DedupeWindows(4, 1);
    for (let i = 0; i < 4; i++) assert.equal(w.seenOrAdd('P', i), false);
    for (let i = 0; i < 4; i++) assert.equal(w.has('P', i), true);
    assert.deepEqual(w.export('P'), [0, 1, 2, 3]);
    w.seenOrAdd('P', 4);
    assert.equal(w.has('P', 0), false);
    assert.deepEqual(w.export('P'), [1, 2, 3, 4]);
    w.seenOrAdd('P', 5);
    assert.deepEqual(w.export('P'), [2, 3, 4, 5]);
  });

  test('export and restore round-trip through the compact snapshot form', () => {
    const w = new DedupeWindows(16);
    const ids = [identityNumber(65535, '2026-11-24T09:00:00Z'), identityNumber(0, '2026-11-24T09:00:01Z'), 3.5e14];
    for (const id of ids) w.seenOrAdd('P', id);
    const again = new DedupeWindows(16);
    again.restore('P', decodeIdentities(encodeIdentities(w.export('P'))));
    for (const id of ids) assert.equal(again.seenOrAdd('P', id), true);
    assert.equal(again.seenOrAdd('P', identityNumber(1, '2026-11-24T09:00:01Z')), false);
  });

  test('identity numbers are exact for every seq at a real pump time', () => {
    const t = '2099-12-31T23:59:59Z';
    assert.notEqual(identityNumber(65535, t), identityNumber(65534, t));
    assert.equal(identityNumber(65535, t) % 65536, 65535);
  });
});

describe('shard', () => {
  test('every serial belongs to exactly one of N instances, spread over all of them', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const serial = `CS7-${String(i).padStart(6, '0')}`;
      const owners = [0, 1, 2].filter((index) => ownsPump({ index, count: 3 }, serial));
      assert.equal(owners.length, 1);
      counts[shardOf(serial, 3)]!++;
    }
    for (const c of counts) assert.ok(c > 800, `balanced enough: ${counts.join(',')}`);
    assert.equal(ownsPump(null, 'ANY'), true);
  });
});
