import { test } from 'vitest';
import assert from 'node:assert/strict';
import { DEMO_NURSES, demoRota } from '../../../../scripts/demo/oncall.ts';

test('the rota covers now and the next week, back to back, nurse first and nurse2 second', () => {
  const now = Date.parse('2026-12-03T20:17:31.250Z');
  const shifts = demoRota(now, DEMO_NURSES.map((n) => n.username));
  assert.equal(shifts.length, 7);
  assert.equal(shifts[0]?.from, '2026-12-03T19:17:00.000Z');
  assert.ok(Date.parse(shifts[0]?.from ?? '') < now && now < Date.parse(shifts[0]?.to ?? ''));
  for (let i = 1; i < shifts.length; i++) assert.equal(shifts[i]?.from, shifts[i - 1]?.to);
  assert.ok(Date.parse(shifts.at(-1)?.to ?? '') >= now + 6 * 86_400_000);
  assert.ok(shifts.every((s) => s.chain.join() === 'nurse,nurse2'));
  assert.ok(DEMO_NURSES.every((n) => /^[^\s@]+@[^\s@]+$/.test(n.email)));
});
