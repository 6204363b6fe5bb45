/**
 * The demo's on-call rota (interfaces.md §7): the demo's nurses, first and second on call, from
 * an hour before the demo starts for a week, one shift a day so the rota editor shows several.
 * Every shift has the same order, so whoever tries the demo knows who is paged first whenever
 * an alert comes.
 */
import { login } from '../demoClinical.ts';

export interface DemoNurse {
  username: string;
  email: string;
}

/** first on call, then second; their pages land in the demo's mailbox */
export const DEMO_NURSES: readonly DemoNurse[] = [
  { username: 'nurse', email: 'nurse@demo.pumpwatch.example' },
  { username: 'nurse2', email: 'nurse2@demo.pumpwatch.example' },
];

export interface Shift {
  from: string;
  to: string;
  chain: string[];
}

const HOUR_MS = 3_600_000;

/** `days` back-to-back 24-h shifts, the first starting an hour before `nowMs` */
export function demoRota(nowMs: number, chain: readonly string[], days = 7): Shift[] {
  const start = Math.floor(nowMs / 60_000) * 60_000 - HOUR_MS;
  return Array.from({ length: days }, (_, i) => ({
    from: new Date(start + i * 24 * HOUR_MS).toISOString(),
    to: new Date(start + (i + 1) * 24 * HOUR_MS).toISOString(),
    chain: [...chain],
  }));
}

/** Sets the rota as the admin (PUT /api/oncall replaces it); returns the shifts stored. */
export async function seedOncall(o: { baseUrl: string; username: string; password: string; shifts: Shift[] }): Promise<Shift[]> {
  const api = await login(o.baseUrl, o.username, o.password);
  const r = await api.put<{ shifts: Shift[] }>('/api/oncall', { shifts: o.shifts });
  return r.shifts;
}
