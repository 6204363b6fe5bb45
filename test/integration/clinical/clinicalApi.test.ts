/**
 * The §6 API on the real server (buildServer as main.ts wires it) with real PostgreSQL, Mosquitto
 * and influxd: every route's happy path and its 400/404/409, which role may call what (every
 * route × every role), patient and order on /api/pumps and /ws, and PostgreSQL stopped and
 * restarted under a running server.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Alert, PumpView, Role } from '../../../protocol/api.ts';
import type { Assignment, DrugLimit, Order, Patient } from '../../../protocol/clinical.ts';
import { Board, ClinicalServerStack, ROLES, type Caller } from './clinicalServer.ts';

const stack = new ClinicalServerStack();
const as = {} as Record<Role, Caller>;
const HOUR = 3_600_000;

beforeAll(async () => {
  await stack.start();
  await vi.waitFor(async () => expect((await stack.anonymous().call<{ database: string }>('GET', '/api/health')).body.database).toBe('up'), { timeout: 30_000 });
  for (const role of ROLES) as[role] = await stack.login(role);
}, 120_000);

afterAll(async () => {
  await stack.dispose();
});

const order = (patientId: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  patientId, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous', start: new Date(Date.now() - HOUR).toISOString(), ...over,
});

describe('§6 routes', () => {
  test('patients: create, list, read, change; 400 names every bad field, 409 on a duplicate MRN, 404 for unknown ids', async () => {
    const ph = as.pharmacist;
    const p = await ph.ok<Patient>('POST', '/api/patients', { mrn: 'MRN-100', name: 'Ann Lee', phone: '+1 555 0100', timezone: 'America/Chicago' });
    expect(p.id).toMatch(/^\d+$/);
    expect(p).toEqual({ id: p.id, mrn: 'MRN-100', name: 'Ann Lee', phone: '+1 555 0100', timezone: 'America/Chicago', notes: null });
    expect((await ph.ok<Patient[]>('GET', '/api/patients')).map((x) => x.id)).toContain(p.id);
    expect(await as.nurse.ok<Patient>('GET', `/api/patients/${p.id}`)).toEqual(p);
    expect(await ph.ok<Patient>('PATCH', `/api/patients/${p.id}`, { phone: null, notes: 'gate code 1234' })).toEqual({ ...p, phone: null, notes: 'gate code 1234' });

    const bad = await ph.call<{ error: string; fields: { field: string }[] }>('POST', '/api/patients', { mrn: '', name: 3, timezone: 'Nowhere/Else', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');
    expect(bad.body.fields.map((f) => f.field).sort()).toEqual(['extra', 'mrn', 'name', 'timezone']);
    expect((await ph.call('PATCH', `/api/patients/${p.id}`, { name: '' })).status).toBe(400);
    const dup = await ph.call<{ error: string; code: string }>('POST', '/api/patients', { mrn: 'MRN-100', name: 'Someone Else' });
    expect([dup.status, dup.body.error, dup.body.code]).toEqual([409, 'conflict', 'DUPLICATE_MRN']);
    for (const path of ['/api/patients/999999', '/api/patients/abc']) expect((await ph.call('GET', path)).status).toBe(404);
    expect((await ph.call('PATCH', '/api/patients/999999', { name: 'X' })).status).toBe(404);
  });

  test('orders: create, list by patient, read, discontinue; 400, 404 for an unknown patient or order', async () => {
    const ph = as.pharmacist;
    const p = await ph.ok<Patient>('POST', '/api/patients', { mrn: 'MRN-200', name: 'Bo Chan' });
    const o = await ph.ok<Order>('POST', '/api/orders', order(p.id, { payer: 'Medicare', prescriber: 'Dr. Ray' }));
    expect(o.id).toMatch(/^\d+$/);
    expect(o).toMatchObject({ patientId: p.id, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous', stop: null, payer: 'Medicare', discontinuedAt: null });
    expect((await as.billing.ok<Order[]>('GET', `/api/orders?patientId=${p.id}`)).map((x) => x.id)).toEqual([o.id]);
    expect((await as.nurse.ok<Order[]>('GET', '/api/orders')).map((x) => x.id)).toContain(o.id);
    expect(await as.nurse.ok<Order>('GET', `/api/orders/${o.id}`)).toEqual(o);
    const stopped = await ph.ok<Order>('POST', `/api/orders/${o.id}/discontinue`);
    expect(stopped.discontinuedAt).not.toBeNull();

    const bad = await ph.call<{ fields: { field: string }[] }>('POST', '/api/orders', order(p.id, { rateMlH: -1, mode: 'bolus', start: 'soon' }));
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f) => f.field).sort()).toEqual(['mode', 'rateMlH', 'start']);
    expect((await ph.call('GET', '/api/orders?patientId=x')).status).toBe(400);
    expect((await ph.call('POST', '/api/orders', order('999999'))).status).toBe(404);
    expect((await ph.call('GET', '/api/orders/999999')).status).toBe(404);
    expect((await ph.call('POST', '/api/orders/999999/discontinue')).status).toBe(404);
  });

  test('assignments: assign a pump never heard, list, end; 409 when the pump is already assigned, 400, 404', async () => {
    const ph = as.pharmacist;
    const p = await ph.ok<Patient>('POST', '/api/patients', { mrn: 'MRN-300', name: 'Cy Dunn' });
    const o = await ph.ok<Order>('POST', '/api/orders', order(p.id));
    const a = await ph.ok<Assignment>('POST', '/api/assignments', { pump: 'CLN-300', orderId: o.id });
    expect(a.id).toMatch(/^\d+$/);
    expect(Date.parse(a.from)).toBeGreaterThan(Date.now() - 60_000);
    expect(a).toEqual({ id: a.id, pump: 'CLN-300', orderId: o.id, patientId: p.id, from: a.from, to: null });
    const again = await ph.call<{ code: string }>('POST', '/api/assignments', { pump: 'CLN-300', orderId: o.id });
    expect([again.status, again.body.code]).toEqual([409, 'PUMP_ALREADY_ASSIGNED']);
    expect(await as.nurse.ok<Assignment[]>('GET', '/api/assignments?pump=CLN-300&active=true')).toEqual([a]);
    const ended = await ph.ok<Assignment>('POST', `/api/assignments/${a.id}/end`);
    expect(ended.to).not.toBeNull();
    expect(await as.billing.ok<Assignment[]>('GET', '/api/assignments?pump=CLN-300&active=true')).toEqual([]);
    expect((await as.billing.ok<Assignment[]>('GET', '/api/assignments?pump=CLN-300')).map((x) => x.id)).toEqual([a.id]);

    const bad = await ph.call<{ fields: { field: string }[] }>('POST', '/api/assignments', { pump: 'lower case', orderId: 7 });
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f) => f.field)).toEqual(['pump', 'orderId']);
    expect((await ph.call('GET', '/api/assignments?active=yes')).status).toBe(400);
    expect((await ph.call('POST', '/api/assignments', { pump: 'CLN-301', orderId: '999999' })).status).toBe(404);
    expect((await ph.call('POST', '/api/assignments/999999/end')).status).toBe(404);
  });

  test('drug limits: the whole table replaced and read back; 400 for a drug named twice', async () => {
    const limits: DrugLimit[] = [{ drug: 'Fluorouracil', maxRateMlH: 10, maxVolumeMl: 500 }, { drug: 'CISPLATIN', maxRateMlH: 250, maxVolumeMl: null }];
    expect(await as.pharmacist.ok('PUT', '/api/drug-limits', { limits })).toEqual({ limits: [limits[1], limits[0]] });
    expect(await as.nurse.ok('GET', '/api/drug-limits')).toEqual({ limits: [limits[1], limits[0]] });
    const twice = await as.pharmacist.call<{ fields: { field: string }[] }>('PUT', '/api/drug-limits', { limits: [...limits, { drug: 'fluorouracil', maxRateMlH: 1 }] });
    expect([twice.status, twice.body.fields.map((f) => f.field)]).toEqual([400, ['limits[2].drug']]);
    expect(await as.admin.ok('PUT', '/api/drug-limits', { limits: [] })).toEqual({ limits: [] });
  });

  test('every change and every read of a patient is in the audit log', async () => {
    const audit = await as.admin.ok<{ action: string }[]>('GET', `/api/audit?from=${new Date(Date.now() - HOUR).toISOString()}&limit=1000`);
    const actions = new Set(audit.map((e) => e.action));
    for (const a of ['patient.create', 'patient.read', 'patient.update', 'patient.list', 'order.create', 'order.discontinue', 'assignment.create', 'assignment.end', 'drug_limits.replace']) {
      expect(actions, a).toContain(a);
    }
  });
});

/** every route, with the roles that may call it besides admin (who may call all); 'any': every logged-in caller */
const ROUTES: { method: string; path: string; roles: readonly Role[] | 'any'; body?: unknown }[] = [
  { method: 'GET', path: '/api/me', roles: 'any' },
  { method: 'GET', path: '/api/pumps', roles: ['nurse', 'pharmacist'] },
  { method: 'GET', path: '/api/pumps/NOPE-1', roles: ['nurse', 'pharmacist'] },
  { method: 'GET', path: '/api/pumps/NOPE-1/telemetry', roles: ['nurse', 'pharmacist'] },
  { method: 'PUT', path: '/api/pumps/NOPE-1/label', roles: ['nurse'], body: { label: 'x' } },
  { method: 'PUT', path: '/api/pumps/NOPE-1/visit', roles: ['nurse'], body: { minutes: 30 } },
  { method: 'DELETE', path: '/api/pumps/NOPE-1/visit', roles: ['nurse'] },
  { method: 'GET', path: '/api/alerts', roles: ['nurse', 'pharmacist'] },
  { method: 'POST', path: '/api/alerts/nope/ack', roles: ['nurse'] },
  { method: 'GET', path: '/api/billing/episodes', roles: ['billing'] },
  { method: 'GET', path: '/api/billing/episodes.csv', roles: ['billing'] },
  { method: 'GET', path: '/api/billing/episodes/nope', roles: ['billing'] },
  { method: 'GET', path: '/api/billing/episodes/nope/evidence', roles: ['billing'] },
  { method: 'POST', path: '/api/billing/episodes/nope/review', roles: ['billing'], body: { note: 'checked' } },
  { method: 'GET', path: '/api/audit', roles: [] },
  { method: 'GET', path: '/metrics', roles: [] },
  { method: 'POST', path: '/api/patients', roles: ['pharmacist'], body: {} },
  { method: 'GET', path: '/api/patients', roles: ['nurse', 'billing', 'pharmacist'] },
  { method: 'GET', path: '/api/patients/999999', roles: ['nurse', 'billing', 'pharmacist'] },
  { method: 'PATCH', path: '/api/patients/999999', roles: ['pharmacist'], body: {} },
  { method: 'POST', path: '/api/orders', roles: ['pharmacist'], body: {} },
  { method: 'GET', path: '/api/orders', roles: ['nurse', 'billing', 'pharmacist'] },
  { method: 'GET', path: '/api/orders/999999', roles: ['nurse', 'billing', 'pharmacist'] },
  { method: 'POST', path: '/api/orders/999999/discontinue', roles: ['pharmacist'] },
  { method: 'POST', path: '/api/assignments', roles: ['pharmacist'], body: {} },
  { method: 'POST', path: '/api/assignments/999999/end', roles: ['pharmacist'] },
  { method: 'GET', path: '/api/assignments', roles: ['nurse', 'billing', 'pharmacist'] },
  { method: 'GET', path: '/api/drug-limits', roles: ['nurse', 'billing', 'pharmacist'] },
  { method: 'PUT', path: '/api/drug-limits', roles: ['pharmacist'], body: {} },
];

describe('roles', () => {
  test('every role sees exactly its routes: 403 on the others, 401 for nobody', async () => {
    const wrong: string[] = [];
    for (const r of ROUTES) {
      const anon = await stack.anonymous().call(r.method, r.path, r.body);
      if (anon.status !== 401) wrong.push(`anonymous ${r.method} ${r.path}: ${anon.status}`);
      for (const role of ROLES) {
        const allowed = r.roles === 'any' || role === 'admin' || r.roles.includes(role);
        const { status } = await as[role].call(r.method, r.path, r.body);
        if (allowed ? status === 401 || status === 403 : status !== 403) wrong.push(`${role} ${r.method} ${r.path}: ${status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('an API token reads every route, acknowledges and labels; it changes no patient, order, assignment or drug limit', async () => {
    const wrong: string[] = [];
    for (const r of ROUTES) {
      const { status } = await stack.token().call(r.method, r.path, r.body);
      const mayChange = r.path.endsWith('/ack') || r.path.endsWith('/label');
      if (r.method === 'GET' || mayChange ? status === 401 || status === 403 : status !== 403) wrong.push(`token ${r.method} ${r.path}: ${status}`);
    }
    expect(wrong).toEqual([]);
  });

  test('the live board: nurse, pharmacist and admin; billing refused', async () => {
    for (const role of ['nurse', 'pharmacist', 'admin'] as const) {
      const b = await Board.open(stack.port, as[role].headers);
      await vi.waitFor(() => expect(b.messages[0]?.type).toBe('snapshot'));
      await b.close();
    }
    await expect(Board.open(stack.port, as.billing.headers)).rejects.toThrow(/HTTP 403/);
  });
});

const statusOf = (state: string, rateMlH: number, infusedMl: number, alarms: string[] = []): Record<string, unknown> => ({
  type: 'status', state, rateMlH, infusedMl, vtbiMl: 230 - infusedMl, reservoirMl: 230 - infusedMl, pressureMmHg: 30, batteryPct: 90, alarms,
});

describe('pumps carry their patient and order', () => {
  test('/api/pumps and /ws show the assigned patient and order at once, and null after the assignment ends', async () => {
    const ph = as.pharmacist;
    const board = await Board.open(stack.port, as.nurse.headers);
    await stack.send('CLN-400', { type: 'event', code: 'POWER_ON', detail: '4.2.1' });
    await stack.send('CLN-400', statusOf('IDLE', 0, 0));
    const unassigned = await vi.waitFor(async () => {
      const v = (await as.nurse.ok<PumpView[]>('GET', '/api/pumps')).find((x) => x.pump === 'CLN-400');
      expect(v).toBeDefined();
      return v as PumpView;
    }, { timeout: 10_000 });
    expect([unassigned.patient, unassigned.order]).toEqual([null, null]);

    const p = await ph.ok<Patient>('POST', '/api/patients', { mrn: 'MRN-400', name: 'Di Evans', phone: '+1 555 0400' });
    const o = await ph.ok<Order>('POST', '/api/orders', order(p.id));
    const a = await ph.ok<Assignment>('POST', '/api/assignments', { pump: 'CLN-400', orderId: o.id });
    const patient = { id: p.id, mrn: 'MRN-400', name: 'Di Evans', phone: '+1 555 0400' };
    const ordered = { id: o.id, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46, mode: 'continuous' };
    expect(await as.nurse.ok<PumpView>('GET', '/api/pumps/CLN-400')).toMatchObject({ patient, order: ordered });
    // the board is told at once, without waiting for the pump's next sentence
    await vi.waitFor(() => {
      const last = board.messages.filter((m) => m.type === 'pump' && m.pump.pump === 'CLN-400').at(-1);
      expect(last?.type === 'pump' && last.pump).toMatchObject({ patient, order: ordered });
    }, { timeout: 5000 });
    await stack.send('CLN-400', statusOf('IDLE', 0, 0));
    const fresh = await Board.open(stack.port, as.nurse.headers);
    await vi.waitFor(() => {
      const snap = fresh.messages[0];
      expect(snap?.type === 'snapshot' && snap.pumps.find((x) => x.pump === 'CLN-400')).toMatchObject({ patient, order: ordered });
    });

    await ph.ok('POST', `/api/assignments/${a.id}/end`);
    expect(await as.nurse.ok<PumpView>('GET', '/api/pumps/CLN-400')).toMatchObject({ patient: null, order: null });
    await vi.waitFor(() => {
      const last = board.messages.filter((m) => m.type === 'pump' && m.pump.pump === 'CLN-400').at(-1);
      expect(last?.type === 'pump' && last.pump).toMatchObject({ patient: null, order: null });
    }, { timeout: 5000 });
    await board.close();
    await fresh.close();
  });
});

describe('PostgreSQL stopped and restarted under the running server', () => {
  test('alarms still reach the board, health is degraded, the assignment made before still applies, and the records return', async () => {
    const ph = as.pharmacist;
    const p = await ph.ok<Patient>('POST', '/api/patients', { mrn: 'MRN-500', name: 'Ed Fox', phone: '+1 555 0500' });
    const o = await ph.ok<Order>('POST', '/api/orders', order(p.id));
    // assigned at the pharmacy, before the pump was programmed
    await ph.ok<Assignment>('POST', '/api/assignments', { pump: 'CLN-500', orderId: o.id, from: new Date(Date.now() - HOUR).toISOString() });
    const board = await Board.open(stack.port, as.nurse.headers);
    const t0 = Date.now();
    await stack.send('CLN-500', { type: 'event', code: 'POWER_ON', detail: '4.2.1' }, t0 - 120_000);

    await stack.pg.restart(async () => {
      const health = await vi.waitFor(async () => {
        const h = (await stack.anonymous().call<{ status: string; database: string }>('GET', '/api/health')).body;
        expect(h.database).toBe('down');
        return h;
      }, { timeout: 10_000 });
      expect(health.status).toBe('degraded');
      const refused = await as.nurse.call<{ error: string }>('GET', '/api/patients');
      expect([refused.status, refused.body.error]).toEqual([503, 'database_unavailable']);
      // a program 3× the order, and an occlusion, while PostgreSQL is away
      await stack.send('CLN-500', { type: 'program', programId: 'P500', drug: 'FLUOROURACIL', rateMlH: 15, volumeMl: 230, hours: 15.3 }, t0 - 60_000);
      await stack.send('CLN-500', { type: 'event', code: 'START', detail: 'P500' }, t0);
      await stack.send('CLN-500', statusOf('ALARM', 0, 2, ['OCCL_DN']), t0 + 30_000);
      await vi.waitFor(() => {
        const types = board.messages.flatMap((m) => (m.type === 'alert' && m.alert.pump === 'CLN-500' ? [m.alert.type] : []));
        expect(types).toContain('occlusion');
        expect(types).toContain('program_mismatch');
      }, { timeout: 10_000 });
      // the board still shows whom to call: the assignment is held in memory
      expect(await as.nurse.ok<PumpView>('GET', '/api/pumps/CLN-500')).toMatchObject({ patient: { mrn: 'MRN-500', phone: '+1 555 0500' }, order: { id: o.id } });
    });

    await vi.waitFor(async () => expect((await stack.anonymous().call<{ status: string; database: string }>('GET', '/api/health')).body).toMatchObject({ database: 'up' }), { timeout: 20_000 });
    expect((await as.nurse.ok<Patient>('GET', `/api/patients/${p.id}`)).mrn).toBe('MRN-500');
    const mismatch = board.messages.flatMap((m) => (m.type === 'alert' && m.alert.type === 'program_mismatch' && m.alert.pump === 'CLN-500' ? [m.alert] : [])).at(-1) as Alert;
    expect(mismatch).toMatchObject({ patientId: p.id, orderId: o.id, status: 'active' });
    await board.close();
  });

  test('a server started while PostgreSQL is down runs the alarm path and checks a program that arrived meanwhile once it returns', async () => {
    const ph = as.pharmacist;
    const p = await ph.ok<Patient>('POST', '/api/patients', { mrn: 'MRN-600', name: 'Fay Gold' });
    const o = await ph.ok<Order>('POST', '/api/orders', order(p.id));
    // assigned at the pharmacy, before the pump was programmed
    await ph.ok<Assignment>('POST', '/api/assignments', { pump: 'CLN-600', orderId: o.id, from: new Date(Date.now() - HOUR).toISOString() });
    await stack.stopServer();
    const t0 = Date.now();
    await stack.pg.restart(async () => {
      await stack.startServer();
      const token = stack.token();
      expect((await token.ok<{ database: string; status: string }>('GET', '/api/health'))).toMatchObject({ database: 'down', status: 'degraded' });
      const board = await Board.open(stack.port, stack.token().headers);
      await stack.send('CLN-600', { type: 'event', code: 'POWER_ON', detail: '4.2.1' }, t0 - 120_000);
      await stack.send('CLN-600', { type: 'program', programId: 'P600', drug: 'FLUOROURACIL', rateMlH: 15, volumeMl: 230, hours: 15.3 }, t0 - 60_000);
      await stack.send('CLN-600', { type: 'event', code: 'START', detail: 'P600' }, t0);
      await stack.send('CLN-600', statusOf('ALARM', 0, 0.1, ['OCCL_DN']), t0 + 30_000);
      await vi.waitFor(() => expect(board.messages.some((m) => m.type === 'alert' && m.alert.pump === 'CLN-600' && m.alert.type === 'occlusion')).toBe(true), { timeout: 10_000 });
      // the line is cleared and the pump runs on: the program, 3× its order, is still unchecked
      await stack.send('CLN-600', statusOf('RUN', 15, 0.2), t0 + 60_000);
      await vi.waitFor(async () => expect((await token.ok<PumpView>('GET', '/api/pumps/CLN-600')).state).toBe('RUN'), { timeout: 10_000 });
      // assignments unknown: verification waits rather than guessing
      expect(board.messages.some((m) => m.type === 'alert' && m.alert.pump === 'CLN-600' && m.alert.type.startsWith('program_'))).toBe(false);
      await board.close();
    });
    await vi.waitFor(async () => expect(await stack.token().ok<PumpView>('GET', '/api/pumps/CLN-600')).toMatchObject({ patient: { id: p.id } }), { timeout: 20_000 });
    await vi.waitFor(async () => {
      const alerts = await stack.token().ok<Alert[]>('GET', '/api/alerts?status=active&pump=CLN-600');
      expect(alerts.map((a) => a.type)).toContain('program_mismatch');
    }, { timeout: 20_000 });
    for (const role of ROLES) as[role] = await stack.login(role);
  });
});
