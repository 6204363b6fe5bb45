/** An alert as it leaves the server with paging on: acceptedBy/acceptedAt, its chain's state, the acknowledgement note. */
import type { AckOutcome, Alert, AlertPaging } from '../../protocol/api.ts';
import { currentPerson, type ChainState } from './escalation.ts';

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
