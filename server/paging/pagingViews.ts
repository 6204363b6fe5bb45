/** An alert as it leaves the server with paging on: acceptedBy/acceptedAt, its chain's state, the acknowledgement note. */
import type { Logger } from 'pino';
import type { AckOutcome, Alert, AlertPaging } from '../../protocol/api.ts';
import { currentPerson, type ChainState } from './escalation.ts';
import type { PagingStore } from './pagingStore.ts';

export function pagingOf(s: ChainState | null): AlertPaging | null {
  if (!s) return null;
  const base = { round: s.round, step: s.step };
  switch (s.status) {
    case 'paging':
    case 'failed':
      return { status: s.status, ...base, current: currentPerson(s) };
    case 'accepted':
      return { status: 'accepted', ...base, current: null };
    case 'idle':
      return { status: 'idle', ...base, current: null };
    case 'closed':
      return { status: s.acceptedBy !== null ? 'accepted' : 'idle', ...base, current: null };
  }
}

export function withPaging(a: Alert, s: ChainState | null, note?: { note: string | null; outcome: AckOutcome | null }): Alert {
  return {
    ...a,
    acceptedBy: s?.acceptedBy ?? null,
    acceptedAt: s?.acceptedAtMs != null ? new Date(s.acceptedAtMs).toISOString() : null,
    paging: pagingOf(s),
    ackNote: note?.note ?? a.ackNote ?? null,
    ackOutcome: note?.outcome ?? a.ackOutcome ?? null,
  };
}

/**
 * Alerts with their paging: chains held in memory first (`held`), the others (closed, history) and
 * the acknowledgement notes from PostgreSQL. Never held back by it: while it is away the alerts go
 * out with what is held.
 */
export async function decorateAlerts(
  alerts: readonly Alert[], held: (alertId: string) => ChainState | undefined, store: Pick<PagingStore, 'chains' | 'ackNotes'>, log: Pick<Logger, 'warn'>,
): Promise<Alert[]> {
  // what is held now (a chain may close while the query runs)
  const states = new Map<string, ChainState>();
  for (const a of alerts) {
    const s = held(a.id);
    if (s) states.set(a.id, s);
  }
  const missing = alerts.filter((a) => !states.has(a.id)).map((a) => a.id);
  const acked = alerts.filter((a) => a.acknowledged).map((a) => a.id);
  const [stored, notes] = await Promise.all([store.chains(missing), store.ackNotes(acked)])
    .catch((err: Error) => {
      log.warn({ err: err.message }, 'alerts shown without their stored paging (database unavailable)');
      return [[], new Map<string, { note: string | null; outcome: AckOutcome | null }>()] as const;
    });
  for (const c of stored) states.set(c.state.alertId, c.state);
  return alerts.map((a) => withPaging(a, held(a.id) ?? states.get(a.id) ?? null, notes.get(a.id)));
}
