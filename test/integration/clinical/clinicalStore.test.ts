/** The clinical store against a real PostgreSQL: constraints, their error codes, audit, the in-memory index, a restart. */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ActiveAssignments } from '../../../server/clinical/activeAssignments.ts';
import { ClinicalStore } from '../../../server/clinical/clinicalStore.ts';
import type { NewOrder } from '../../../protocol/clinical.ts';
import { manualClock } from '../../../server/clock.ts';
import { parseDatabaseUrl } from '../../../server/db/databaseUrl.ts';
import { migrate } from '../../../server/db/migrate.ts';
import { createDatabasePool } from '../../../server/db/pool.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const clock = manualClock(T0);
let server: PostgresServer;
let pool: pg.Pool;
let store: ClinicalStore;
let mrnCount = 0;
let pumpCount = 0;

const ACTOR = 'pharm1';
const newPump = (): string => `CADD-${String(++pumpCount).padStart(4, '0')}`;

async function newOrder(over: Partial<NewOrder> = {}): Promise<{ patientId: string; orderId: string }> {
  const p = await store.createPatient({ mrn: `MRN-${++mrnCount}`, name: 'Test Patient', timezone: 'America/Chicago' }, ACTOR);
  const o = await store.createOrder({ patientId: p.id, drug: '5-FU', rateMlH: 2.1, volumeMl: 100, hours: 46, mode: 'continuous', start: '2026-03-02T09:00:00Z', ...over }, ACTOR);
  return { patientId: p.id, orderId: o.id };
}

async function auditActions(): Promise<string[]> {
  return (await pool.query<{ action: string }>('SELECT action FROM audit_log ORDER BY id')).rows.map((r) => r.action);
}

beforeAll(async () => {
  server = await startPostgres();
  pool = createDatabasePool(parseDatabaseUrl(server.url), { connectTimeoutMs: 10_000 });
  await migrate(pool);
  store = new ClinicalStore({ pool, clock });
  await store.loadActive();
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

describe('patients', () => {
  test('created, read, changed and listed in the API shape, each call in the audit log', async () => {
    const before = (await auditActions()).length;
    const p = await store.createPatient({ mrn: 'A-100', name: 'Ada Byron', phone: '+1 555 0100' }, ACTOR);
    expect(p.id).toMatch(/^\d+$/);
    expect(p).toEqual({ id: p.id, mrn: 'A-100', name: 'Ada Byron', phone: '+1 555 0100', timezone: null, notes: null });
    expect(await store.getPatient(p.id, 'nurse1')).toEqual(p);
    const changed = await store.updatePatient(p.id, { notes: 'port left arm', phone: null }, ACTOR);
    expect(changed).toEqual({ ...p, notes: 'port left arm', phone: null });
    expect((await store.listPatients('billing1')).map((x) => x.id)).toContain(p.id);
    expect((await auditActions()).slice(before)).toEqual(['patient.create', 'patient.read', 'patient.update', 'patient.list']);
    const read = await pool.query('SELECT actor, entity_id, patient_id FROM audit_log WHERE action = $1', ['patient.read']);
    expect(read.rows).toEqual([{ actor: 'nurse1', entity_id: p.id, patient_id: p.id }]);
  });

  test('a duplicate MRN is DUPLICATE_MRN (409), on create and on change', async () => {
    await store.createPatient({ mrn: 'DUP-1', name: 'First' }, ACTOR);
    const other = await store.createPatient({ mrn: 'DUP-2', name: 'Second' }, ACTOR);
    await expect(store.createPatient({ mrn: 'DUP-1', name: 'Again' }, ACTOR)).rejects.toMatchObject({ code: 'DUPLICATE_MRN', httpStatus: 409 });
    await expect(store.updatePatient(other.id, { mrn: 'DUP-1' }, ACTOR)).rejects.toMatchObject({ code: 'DUPLICATE_MRN' });
  });

  test('unknown and malformed ids are NOT_FOUND; a value the schema refuses is INVALID_INPUT', async () => {
    await expect(store.getPatient('987654321', ACTOR)).rejects.toMatchObject({ code: 'NOT_FOUND', httpStatus: 404 });
    await expect(store.getPatient('abc', ACTOR)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.getPatient('99999999999999999999', ACTOR)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.createPatient({ mrn: '', name: 'No MRN' }, ACTOR)).rejects.toMatchObject({ code: 'INVALID_INPUT', httpStatus: 400 });
  });

  test('the audit log cannot be changed or emptied', async () => {
    await expect(pool.query("UPDATE audit_log SET actor = 'someone else'")).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });
});

describe('orders', () => {
  test('numbers stay numbers, times ISO; an unknown patient is NOT_FOUND; discontinue keeps its first time', async () => {
    const { patientId, orderId } = await newOrder({ payer: 'Medicare', prescriber: 'Dr. Who' });
    const o = await store.getOrder(orderId, ACTOR);
    expect(o).toEqual({
      id: orderId, patientId, drug: '5-FU', rateMlH: 2.1, volumeMl: 100, hours: 46, mode: 'continuous',
      start: '2026-03-02T09:00:00.000Z', stop: null, payer: 'Medicare', prescriber: 'Dr. Who', discontinuedAt: null,
    });
    expect((await store.listOrders({ patientId }, ACTOR)).map((x) => x.id)).toEqual([orderId]);
    await expect(store.createOrder({ ...o, patientId: '987654321' }, ACTOR)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(store.createOrder({ ...o, mode: 'sometimes' as 'continuous' }, ACTOR)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.createOrder({ ...o, start: 'yesterday' }, ACTOR)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const first = await store.discontinueOrder(orderId, ACTOR);
    expect(first.discontinuedAt).toBe(new Date(T0).toISOString());
    clock.advance(60_000);
    expect((await store.discontinueOrder(orderId, ACTOR)).discontinuedAt).toBe(first.discontinuedAt);
  });
});

describe('assignments', () => {
  test('a pump with an open assignment is PUMP_ALREADY_ASSIGNED (409); ended, it takes a new one', async () => {
    const pump = newPump();
    const a1 = await newOrder();
    const a2 = await newOrder();
    const first = await store.createAssignment({ pump, orderId: a1.orderId, from: '2026-03-02T09:00:00Z' }, ACTOR);
    expect(first.id).toMatch(/^\d+$/);
    expect(first).toEqual({ id: first.id, pump, orderId: a1.orderId, patientId: a1.patientId, from: '2026-03-02T09:00:00.000Z', to: null });
    expect(store.active.forPump(pump)?.assignment).toEqual(first);
    expect(store.active.forPump(pump)?.patient).toMatchObject({ id: a1.patientId, timezone: 'America/Chicago' });
    await expect(store.createAssignment({ pump, orderId: a2.orderId }, ACTOR)).rejects.toMatchObject({ code: 'PUMP_ALREADY_ASSIGNED', httpStatus: 409 });

    clock.set(Date.parse('2026-03-04T07:00:00Z'));
    const ended = await store.endAssignment(first.id, ACTOR);
    expect(ended.to).toBe('2026-03-04T07:00:00.000Z');
    expect(store.active.forPump(pump)).toBeUndefined();
    // ending again returns it as it is
    clock.advance(60_000);
    expect(await store.endAssignment(first.id, ACTOR)).toEqual(ended);

    // a new period may not reach back into the ended one
    await expect(store.createAssignment({ pump, orderId: a2.orderId, from: '2026-03-04T06:00:00Z' }, ACTOR)).rejects.toMatchObject({ code: 'PUMP_ALREADY_ASSIGNED' });
    const second = await store.createAssignment({ pump, orderId: a2.orderId }, ACTOR);
    expect(second).toMatchObject({ pump, orderId: a2.orderId, patientId: a2.patientId, from: '2026-03-04T07:01:00.000Z', to: null });
    expect(store.active.forPump(pump)?.assignment.id).toBe(second.id);
    expect((await store.listAssignments({ pump }, ACTOR)).map((a) => a.id)).toEqual([second.id, first.id]);
    expect((await store.listAssignments({ pump, active: true }, ACTOR)).map((a) => a.id)).toEqual([second.id]);
  });

  test('two concurrent assignments of one pump: exactly one wins, the other is PUMP_ALREADY_ASSIGNED', async () => {
    // PostgreSQL may resolve two conflicting inserts under an exclusion constraint as a deadlock
    // (40P01) rather than a violation: enough rounds that a store which does not retry it fails here
    for (let round = 0; round < 400; round++) {
      const pump = newPump();
      const [x, y] = await Promise.all([newOrder(), newOrder()]);
      const results = await Promise.allSettled([
        store.createAssignment({ pump, orderId: x.orderId }, ACTOR),
        store.createAssignment({ pump, orderId: y.orderId }, ACTOR),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      const why = lost?.status === 'rejected' ? (lost.reason as { cause?: { code?: string } }).cause?.code : undefined;
      expect(lost?.status === 'rejected' && lost.reason, `round ${round}, SQLSTATE ${why}`).toMatchObject({ code: 'PUMP_ALREADY_ASSIGNED' });
      const open = await pool.query('SELECT count(*)::int AS n FROM assignments WHERE pump = $1 AND to_at IS NULL', [pump]);
      expect(open.rows[0]).toEqual({ n: 1 });
    }
  });

  test('a discontinued order takes no pump; an unknown order or a bad serial is refused', async () => {
    const { orderId } = await newOrder();
    await store.discontinueOrder(orderId, ACTOR);
    await expect(store.createAssignment({ pump: newPump(), orderId }, ACTOR)).rejects.toMatchObject({ code: 'ORDER_DISCONTINUED', httpStatus: 409 });
    await expect(store.createAssignment({ pump: newPump(), orderId: '987654321' }, ACTOR)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const ok = await newOrder();
    await expect(store.createAssignment({ pump: 'lower case', orderId: ok.orderId }, ACTOR)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  test('the in-memory index follows changes and equals a fresh load from the database', async () => {
    const pump = newPump();
    const { patientId, orderId } = await newOrder();
    await store.createAssignment({ pump, orderId }, ACTOR);
    await store.updatePatient(patientId, { name: 'Renamed Patient' }, ACTOR);
    await store.discontinueOrder(orderId, ACTOR);
    expect(store.active.forPump(pump)?.patient.name).toBe('Renamed Patient');
    expect(store.active.forPump(pump)?.order.discontinuedAt).not.toBeNull();
    const fresh = new ActiveAssignments();
    await fresh.load(pool);
    const byPump = (xs: { assignment: { pump: string } }[]): unknown[] => [...xs].sort((a, b) => a.assignment.pump.localeCompare(b.assignment.pump));
    expect(byPump(fresh.all())).toEqual(byPump(store.active.all()));
    expect(fresh.size).toBeGreaterThan(0);
  });
});

describe('database restart', () => {
  test('while down calls fail with DATABASE_UNAVAILABLE; after the restart the same pool works again', async () => {
    const p = await store.createPatient({ mrn: 'RESTART-1', name: 'Before Restart' }, ACTOR);
    // every pooled connection was used and is idle now: the restart breaks them all
    await Promise.all([1, 2, 3].map(() => store.getPatient(p.id, ACTOR)));
    await server.restart(async () => {
      await expect(store.getPatient(p.id, ACTOR)).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE', httpStatus: 503 });
    });
    expect(await store.getPatient(p.id, ACTOR)).toEqual(p);
    await store.loadActive();
    expect(store.active.size).toBeGreaterThan(0);
  });
});
