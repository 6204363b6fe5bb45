import { test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeSentence, encodeSentence, DECODE_ERRORS, PUMP_STATES, type Sentence } from '../../../protocol/index.ts';

const serial = fc.stringMatching(/^[A-Z0-9-]{3,20}$/);
const time = fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 })
  .map((s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z'));
const amount = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: Math.round(max * 100) }).map((c) => c / 100);
const common = { pump: serial, seq: fc.integer({ min: 0, max: 65535 }), time };

const sentence: fc.Arbitrary<Sentence> = fc.oneof(
  fc.record({
    type: fc.constant('status' as const), ...common,
    state: fc.constantFrom(...PUMP_STATES), rateMlH: amount(500), infusedMl: amount(9999.99), vtbiMl: amount(9999.99),
    reservoirMl: fc.option(amount(9999.99), { nil: null }), pressureMmHg: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: null }),
    batteryPct: fc.integer({ min: 0, max: 100 }), alarms: fc.array(fc.stringMatching(/^[A-Z0-9_]{1,12}$/), { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant('program' as const), ...common,
    programId: fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/), drug: fc.stringMatching(/^[A-Za-z0-9 ./-]{0,32}$/),
    rateMlH: amount(500), volumeMl: amount(9999.99), hours: fc.integer({ min: 0, max: 9999 }).map((h) => h / 10),
  }),
  fc.record({
    type: fc.constant('event' as const), ...common,
    code: fc.stringMatching(/^[A-Z_]{1,16}$/), detail: fc.stringMatching(/^[A-Za-z0-9._-]{0,24}$/),
  }),
);

test('encode → decode is the identity for every well-formed sentence', () => {
  fc.assert(fc.property(sentence, (s) => {
    const r = decodeSentence(encodeSentence(s));
    assert.ok(r.ok, `rejected ${encodeSentence(s)}`);
    assert.deepEqual(r.sentence, { ...s }); // fast-check records have a null prototype
  }), { numRuns: 3000 });
});

test('random bytes never throw and always map to a known error code', () => {
  const known = new Set<string>(DECODE_ERRORS);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
    const r = decodeSentence(Buffer.from(bytes).toString('latin1'));
    if (!r.ok) assert.ok(known.has(r.code));
  }), { numRuns: 5000 });
});

test('any single-character corruption of a valid sentence is rejected, never half-used', () => {
  fc.assert(fc.property(sentence, fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), (s, at, ch) => {
    const line = encodeSentence(s);
    const i = at % line.length;
    const mutated = line.slice(0, i) + String.fromCharCode(ch) + line.slice(i + 1);
    if (mutated === line) return;
    const r = decodeSentence(mutated);
    // A changed byte changes the XOR, so the frame fails; the one harmless edit is the case of a
    // checksum hex digit (either case is accepted), which must then decode to the same sentence.
    const caseOnly = mutated.toUpperCase() === line.toUpperCase() && i >= line.length - 2;
    if (caseOnly) {
      assert.ok(r.ok);
      assert.deepEqual(r.sentence, { ...s });
    } else {
      assert.equal(r.ok, false, `accepted ${mutated}`);
    }
  }), { numRuns: 3000 });
});

test('the checksum case edit found by the property: lower-case hex decodes to the same sentence', () => {
  const s: Sentence = { type: 'program', pump: 'V17RWU', seq: 32510, time: '2000-01-01T00:00:00Z', programId: 'P34mDK_-hr0', drug: '/.f ', rateMlH: 346.44, volumeMl: 7343.5, hours: 518.8 };
  const line = encodeSentence(s);
  const lower = line.slice(0, -2) + line.slice(-2).toLowerCase();
  const r = decodeSentence(lower);
  assert.ok(r.ok);
  assert.deepEqual(r.sentence, s);
});
