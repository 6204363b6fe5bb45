import type pg from 'pg';
import { expect, test, vi } from 'vitest';
import { PgAuditLog } from '../../../../server/http/auditStore.ts';
import type { AuditEvent } from '../../../../server/http/backend.ts';

/** a pool that fails like a stopped database until `up` is set, and records what was inserted */
function fakePool(): { pool: pg.Pool; state: { up: boolean; inserted: string[][] } } {
  const state = { up: false, inserted: [] as string[][] };
  const pool = {
    query(_text: string, values: unknown[]) {
      if (!state.up) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      state.inserted.push(values[1] as string[]);
      return Promise.resolve({ rows: [], rowCount: (values[1] as string[]).length });
    },
  } as unknown as pg.Pool;
  return { pool, state };
}

const event = (actor: string): AuditEvent => ({ time: '2026-11-27T12:00:00.000Z', action: 'login', actor, role: 'nurse', from: '10.0.0.1', outcome: 'ok' });
const unavailable = (err: unknown): boolean => (err as { code?: string }).code === 'ECONNREFUSED';

test('while the database is down, events wait in a bounded queue (the oldest dropped and counted), then go out in order', async () => {
  const { pool, state } = fakePool();
  const log = new PgAuditLog({ pool, maxQueued: 3, batchSize: 2, retryMs: 3_600_000 }, unavailable);
  for (const actor of ['a', 'b', 'c', 'd']) log.audit(event(actor));
  await log.drain();
  expect(log.queued).toBe(3);
  expect(log.dropped).toBe(1);
  expect(state.inserted).toEqual([]);
  state.up = true;
  await log.drain();
  expect(state.inserted).toEqual([['b', 'c'], ['d']]);
  expect(log.queued).toBe(0);
  expect(log.written).toBe(3);
  await log.stop();
});

test('a batch the table refuses (not an outage) is dropped and counted, not retried for ever', async () => {
  const errors: string[] = [];
  const pool = { query: () => Promise.reject(Object.assign(new Error('new row violates check constraint'), { code: '23514' })) } as unknown as pg.Pool;
  const log = new PgAuditLog({ pool, onError: (m) => errors.push(m) }, unavailable);
  log.audit(event('a'));
  await log.drain();
  expect(log.queued).toBe(0);
  expect(log.dropped).toBe(1);
  expect(errors).toEqual(['audit batch refused: new row violates check constraint']);
  await log.stop();
});

test('with waitForOpen, events wait for open() (the table is migrated), not only for a reachable database', async () => {
  const { pool, state } = fakePool();
  state.up = true; // reachable, but the migrations may not have made audit_log yet
  const log = new PgAuditLog({ pool, waitForOpen: true, retryMs: 3_600_000 }, unavailable);
  log.audit(event('early'));
  await Promise.resolve();
  await log.drain();
  expect(state.inserted).toEqual([]);
  expect(log.queued).toBe(1);
  await log.open();
  expect(state.inserted).toEqual([['early']]);
  log.audit(event('later'));
  await vi.waitFor(() => expect(state.inserted).toEqual([['early'], ['later']]));
  await log.stop();
});

test('stopped before it was opened, it writes nothing and keeps the count of what waited', async () => {
  const { pool, state } = fakePool();
  state.up = true;
  const log = new PgAuditLog({ pool, waitForOpen: true }, unavailable);
  log.audit(event('a'));
  await log.stop();
  expect(state.inserted).toEqual([]);
  expect(log.queued).toBe(1);
});
