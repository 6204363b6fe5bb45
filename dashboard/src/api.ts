/** HTTP calls to the server (same origin, session cookie, CSRF header on state changes); routes in routes.ts. */
import type { AckOutcome, Alert, Episode, OnCallShift, PageRecord, PumpView, Role, TelemetryPoint } from '../../protocol/api.ts';
import type { Assignment, DrugLimit, NewAssignment, NewOrder, NewPatient, Order, Patient } from '../../protocol/clinical.ts';
import type { FieldError } from '../../protocol/clinicalValidation.ts';
import type { OnCallNow } from './rota.ts';
import { DASHBOARD_ROUTES, routeUrl, type RouteName } from './routes.ts';

export interface Me {
  username: string;
  role: Role;
  csrfToken: string;
  /** the server's IANA zone (TZ); absent from older servers */
  timeZone?: string;
}

export class ApiError extends Error {
  /** `code`: the body's stable `error`; `fields`: what a 400 says of each field, when it says */
  constructor(readonly status: number, message: string, readonly code = '', readonly fields: readonly FieldError[] = []) {
    super(message);
  }
}

let csrfToken = '';
/** called when a request finds the session gone (expired, revoked, server restarted) */
let sessionLost: () => void = () => undefined;

export function onSessionLost(handler: () => void): void {
  sessionLost = handler;
}

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

interface Call {
  params?: Record<string, string>;
  query?: URLSearchParams;
  body?: unknown;
}

async function request<T>(route: RouteName, call: Call = {}): Promise<T> {
  const { method } = DASHBOARD_ROUTES[route];
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(routeUrl(route, call.params, call.query), {
    method, headers, credentials: 'same-origin',
    body: call.body === undefined ? null : JSON.stringify(call.body),
  });
  if (res.status === 401 && route !== 'login' && route !== 'me') sessionLost();
  if (!res.ok) {
    let reason = res.statusText;
    let code = '';
    let fields: FieldError[] = [];
    try {
      // {error, message} always; a clinical 400 adds `fields: [{field, reason}]`, a 409 its `code` (DUPLICATE_MRN, ...)
      const j = (await res.json()) as { message?: string; error?: string; code?: string; fields?: unknown };
      reason = j.message ?? j.error ?? reason;
      code = j.code ?? j.error ?? '';
      if (Array.isArray(j.fields)) fields = j.fields.filter((e): e is FieldError => typeof (e as FieldError)?.field === 'string' && typeof (e as FieldError)?.reason === 'string');
    } catch { /* not JSON */ }
    throw new ApiError(res.status, reason, code, fields);
  }
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** The current session, or null when not logged in. */
export async function fetchMe(): Promise<Me | null> {
  try {
    const me = await request<Me>('me');
    setCsrfToken(me.csrfToken);
    return me;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return null;
    throw err;
  }
}

export async function login(username: string, password: string): Promise<Me> {
  await request<{ username: string; role: Role }>('login', { body: { username, password } });
  const me = await fetchMe();
  if (!me) throw new ApiError(401, 'session not established');
  return me;
}

export async function logout(): Promise<void> {
  try {
    await request('logout');
  } finally {
    setCsrfToken('');
  }
}

/** True when the server answers /api/health within `timeoutMs` (degraded still counts: it is there). */
export async function serverReachable(timeoutMs = 5000): Promise<boolean> {
  try {
    const res = await fetch(routeUrl('health'), { cache: 'no-store', signal: AbortSignal.timeout(timeoutMs) });
    return res.status < 500 || res.status === 503;
  } catch {
    return false;
  }
}

export interface Health {
  status: 'ok' | 'degraded';
  /** absent from servers without clinical records support; 'off' without DATABASE_URL */
  database?: 'up' | 'down' | 'off';
}

export function fetchHealth(): Promise<Health> {
  return request<Health>('health');
}

/** One tap sends no body; a note and an outcome, when given, go with it (§7). */
export function acknowledgeAlert(id: string, extra?: { note?: string; outcome?: AckOutcome }): Promise<Alert> {
  const body = extra && (extra.note !== undefined || extra.outcome !== undefined) ? extra : undefined;
  return request<Alert>('acknowledge', body ? { params: { id }, body } : { params: { id } });
}

/** The nurse-facing label of a pump (null removes it); the server pushes the change to everyone. */
export function setPumpLabel(pump: string, label: string | null): Promise<PumpView> {
  return request<PumpView>('pumpLabel', { params: { pump }, body: { label } });
}

/** A nurse visit for `minutes` (5–240): stops and silences of the pump do not page until it ends. */
export function startPumpVisit(pump: string, minutes: number): Promise<PumpView> {
  return request<PumpView>('pumpVisit', { params: { pump }, body: { minutes } });
}

export function endPumpVisit(pump: string): Promise<PumpView> {
  return request<PumpView>('endPumpVisit', { params: { pump } });
}

export function fetchTelemetry(pump: string, fromIso: string, toIso: string): Promise<TelemetryPoint[]> {
  return request<TelemetryPoint[]>('telemetry', { params: { pump }, query: new URLSearchParams({ from: fromIso, to: toIso }) });
}

export function fetchPumpAlerts(pump: string, fromIso: string, toIso: string): Promise<Alert[]> {
  return request<Alert[]>('pumpAlerts', { query: new URLSearchParams({ status: 'all', pump, from: fromIso, to: toIso }) });
}

export interface EpisodeFilter {
  from?: string;
  to?: string;
  pump?: string;
}

export function episodeParams(f: EpisodeFilter): URLSearchParams {
  const q = new URLSearchParams();
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  if (f.pump) q.set('pump', f.pump);
  return q;
}

/** the filter as a query string, '?…' or '' */
export function episodeQuery(f: EpisodeFilter): string {
  const s = episodeParams(f).toString();
  return s ? `?${s}` : '';
}

export function fetchEpisodes(f: EpisodeFilter): Promise<Episode[]> {
  return request<Episode[]>('episodes', { query: episodeParams(f) });
}

/** a billing user marks an episode reviewed with a note; answers the episode with its review */
export function reviewEpisode(id: string, note: string): Promise<Episode> {
  return request<Episode>('reviewEpisode', { params: { id }, body: { note } });
}

// clinical records (interfaces.md §6)

export function fetchPatients(): Promise<Patient[]> {
  return request<Patient[]>('patients');
}

export function createPatient(p: NewPatient): Promise<Patient> {
  return request<Patient>('createPatient', { body: p });
}

export function fetchOrders(patientId: string): Promise<Order[]> {
  return request<Order[]>('orders', { query: new URLSearchParams({ patientId }) });
}

export function createOrder(o: NewOrder): Promise<Order> {
  return request<Order>('createOrder', { body: o });
}

/** open assignments (a pump on a patient now) */
export function fetchActiveAssignments(): Promise<Assignment[]> {
  return request<Assignment[]>('assignments', { query: new URLSearchParams({ active: 'true' }) });
}

export function createAssignment(a: NewAssignment): Promise<Assignment> {
  return request<Assignment>('createAssignment', { body: a });
}

export async function fetchDrugLimits(): Promise<DrugLimit[]> {
  return (await request<{ limits: DrugLimit[] }>('drugLimits')).limits;
}

/** replaces the whole table; answers it as stored */
export async function saveDrugLimits(limits: DrugLimit[]): Promise<DrugLimit[]> {
  return (await request<{ limits: DrugLimit[] }>('saveDrugLimits', { body: { limits } })).limits;
}

/** the pump was taken off the patient */
export function endAssignment(id: string): Promise<Assignment> {
  return request<Assignment>('endAssignment', { params: { id } });
}

/** the server's VAPID public key (base64url), or null when the server has no Web Push (404) */
export async function fetchPushKey(): Promise<string | null> {
  try {
    return (await request<{ publicKey: string }>('pushKey')).publicKey;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** this device's PushSubscription (its toJSON()), for the logged-in person */
export async function savePushSubscription(subscription: unknown): Promise<void> {
  await request<unknown>('pushSubscribe', { body: subscription });
}

export async function deletePushSubscription(endpoint: string): Promise<void> {
  await request<null>('pushUnsubscribe', { body: { endpoint } });
}

// paging (interfaces.md §7)

/** who is on call at `atIso` (now when absent) */
export function fetchOnCall(atIso?: string): Promise<OnCallNow> {
  return request<OnCallNow>('onCall', atIso ? { query: new URLSearchParams({ at: atIso }) } : {});
}

/** replaces the whole rota (admin) */
export async function saveOnCall(shifts: OnCallShift[]): Promise<OnCallShift[]> {
  return (await request<{ shifts: OnCallShift[] }>('saveOnCall', { body: { shifts } })).shifts;
}

/** the whole stored rota (admin) */
export async function fetchOnCallShifts(): Promise<OnCallShift[]> {
  return (await request<{ shifts: OnCallShift[] }>('onCallShifts')).shifts;
}

export interface Contact {
  username?: string;
  email: string | null;
  /** how many Web Push subscriptions (devices) the person has */
  push?: number;
}

export function fetchContact(username: string): Promise<Contact> {
  return request<Contact>('contact', { params: { username } });
}

/** an empty e-mail removes it */
export function saveContact(username: string, email: string | null): Promise<Contact> {
  return request<Contact>('saveContact', { params: { username }, body: { email } });
}

/** every page sent for the alert: one row per person per channel tried */
export function fetchAlertPages(id: string): Promise<PageRecord[]> {
  return request<PageRecord[]>('alertPages', { params: { id } });
}
