/**
 * Seeds the demo's clinical records through the server's real HTTP API (interfaces.md §6), as a
 * pharmacist would: log in, then for each home a patient, an order, and (unless the home is meant
 * to show an unassigned pump) the assignment of its pump. Every body is checked with the API's own
 * validators first, so a seed the server would refuse fails here with the same reason.
 *
 * A server without DATABASE_URL answers 503 clinical_records_off: that is not an error, the demo
 * then runs telemetry-only and says so in one line.
 */
import type { Assignment, Order, Patient } from '../protocol/clinical.ts';
import { describeErrors, validateNewAssignment, validateNewOrder, validateNewPatient, type Validated } from '../protocol/clinicalValidation.ts';
import type { DemoRecord } from './demo/clinicalRecords.ts';

export interface SeedOptions {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  username: string;
  password: string;
  records: readonly DemoRecord[];
}

export type SeedResult =
  | { kind: 'seeded'; patients: Patient[]; orders: Order[]; assignments: Assignment[] }
  | { kind: 'off' };

/** A refusal from the API, with its status and stable code. */
export class SeedError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Thrown inside the seed when the server has no database: ends it quietly. */
class RecordsOff extends Error {}

export interface ApiClient {
  post<T>(path: string, body: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
}

/** Logs in with a password; the client sends the session cookie, Origin and CSRF token the API asks of a browser. */
export async function login(baseUrl: string, username: string, password: string): Promise<ApiClient> {
  const origin = new URL(baseUrl).origin;
  const res = await fetch(`${baseUrl}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new SeedError(res.status, 'login_failed', `could not log in as ${username}: HTTP ${res.status}`);
  const cookie = (res.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  const send = async <T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> => {
    const r = await fetch(`${baseUrl}${path}`, {
      method, body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', cookie, origin, 'x-csrf-token': csrfToken },
    });
    const json = (await r.json().catch(() => ({}))) as { error?: string; message?: string };
    if (r.status === 503 && json.error === 'clinical_records_off') throw new RecordsOff();
    if (r.status !== 201 && r.status !== 200) {
      throw new SeedError(r.status, json.error ?? 'http_error', `${method} ${path}: HTTP ${r.status} ${json.error ?? ''} ${json.message ?? ''}`.trim());
    }
    return json as T;
  };
  return { post: (path, body) => send('POST', path, body), put: (path, body) => send('PUT', path, body) };
}

/** Creates the records in order; stops at the first refusal (the demo's database is fresh). */
export async function seedDemoClinical(o: SeedOptions): Promise<SeedResult> {
  const api = await login(o.baseUrl, o.username, o.password);
  const patients: Patient[] = [];
  const orders: Order[] = [];
  const assignments: Assignment[] = [];
  try {
    for (const r of o.records) {
      const patient = await api.post<Patient>('/api/patients', checked(`${r.gatewayId} patient`, validateNewPatient(r.patient)));
      patients.push(patient);
      const order = await api.post<Order>('/api/orders', checked(`${r.gatewayId} order`, validateNewOrder({ ...r.order, patientId: patient.id })));
      orders.push(order);
      if (r.assignFrom !== null) {
        const body = validateNewAssignment({ pump: r.pump, orderId: order.id, from: r.assignFrom });
        assignments.push(await api.post<Assignment>('/api/assignments', checked(`${r.gatewayId} assignment`, body)));
      }
    }
  } catch (err) {
    if (err instanceof RecordsOff) return { kind: 'off' };
    throw err;
  }
  return { kind: 'seeded', patients, orders, assignments };
}

/** The validated body, or a refusal naming each bad field as the API's 400 would. */
function checked<T>(what: string, v: Validated<T>): T {
  if (!v.ok) throw new SeedError(400, 'bad_request', `${what}: ${describeErrors(v.errors)}`);
  return v.value;
}
