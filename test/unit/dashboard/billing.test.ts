import { test } from 'vitest';
import assert from 'node:assert/strict';
import { codeText, dayToIso } from '../../../dashboard/src/billing.ts';
import { episodeQuery } from '../../../dashboard/src/api.ts';

process.env.TZ = 'UTC';

test('date filters become ISO bounds; the "to" day is included', () => {
  assert.equal(dayToIso('2026-11-01', false), '2026-11-01T00:00:00.000Z');
  assert.equal(dayToIso('2026-11-30', true), '2026-12-01T00:00:00.000Z');
  assert.equal(dayToIso('', false), undefined);
  assert.equal(dayToIso('2026-13-45', false), undefined);
});

test('episode query carries only the filters given, encoded', () => {
  assert.equal(episodeQuery({}), '');
  assert.equal(episodeQuery({ pump: 'CS7 1&x' }), '?pump=CS7+1%26x');
  assert.equal(episodeQuery({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z' }), '?from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-02T00%3A00%3A00.000Z');
});

test('billing code says what it means', () => {
  assert.match(codeText({ code: 'S9330', continuous24h: true }), /^S9330 — continuous/);
  assert.match(codeText({ code: 'S9331', continuous24h: false }), /^S9331/);
});

test('what awaits review comes first, with its reasons in words; a review covering the reasons settles it', async () => {
  const { reviewOrder, awaitingReview, reasonText } = await import('../../../dashboard/src/billing.ts');
  const base = {
    pump: 'PW-1', programId: 'P1', drug: 'X', end: null, deliveryHours: 1, interruptions: [], longestInterruptionMin: 0,
    continuous24h: false, code: 'S9331' as const, serviceDays: [], evidence: { firstSeq: 0, lastSeq: 0, sentences: 1 },
  };
  const list = reviewOrder([
    { ...base, id: 'a', start: '2026-11-01T00:00:00Z', needsReview: false },
    { ...base, id: 'b', start: '2026-11-02T00:00:00Z', needsReview: true, reviewed: true },
    { ...base, id: 'c', start: '2026-11-03T00:00:00Z', needsReview: true, reviewed: false },
  ]);
  assert.deepEqual(list.map((e) => e.id), ['c', 'a', 'b']);
  assert.equal(awaitingReview({ needsReview: true, reviewed: false }), true);
  assert.equal(awaitingReview({ needsReview: true, reviewed: true }), false);
  assert.match(reasonText('unverified_gap'), /cannot prove/);
  assert.equal(reasonText('other'), 'other');
});
