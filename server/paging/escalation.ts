/**
 * The escalation chain of one alert, pure: state and a time in, the next state and what to send
 * out. No clock, no I/O: the paging service (pagingService.ts) persists each new state with a
 * conditional UPDATE before it acts on the effects, so a step is never taken twice.
 *
 * Rules (docs/paging.md): the first person of the chain is paged at once; whoever has not
 * accepted within `acceptMs` is followed by the next; after the last the chain starts over (a new
 * round) until someone accepts or the alert is acknowledged or cleared. Declining, or a page that
 * could not be delivered on any channel, moves on at once. A round in which nobody could be reached
 * marks the chain `failed` (shown in red) and the next round waits `acceptMs`; `failed` lasts until
 * a page gets through. Accepting tells the others; a clear before anyone accepted tells those paged.
 */
import type { Alert } from '../../protocol/api.ts';

export type ChainStatus = 'paging' | 'failed' | 'accepted' | 'idle' | 'closed';
export type ClosedReason = 'acknowledged' | 'cleared' | 'accepted';

export interface ChainState {
  alertId: string;
  /** usernames, first on call first, as the shift had them when the alert was raised */
  chain: readonly string[];
  status: ChainStatus;
  round: number;
  step: number;
  /** when the current step was paged: its accept deadline runs from here */
  stepAtMs: number;
  acceptedBy: string | null;
  acceptedAtMs: number | null;
  closedReason: ClosedReason | null;
  /** someone got a page in this round (the round is not a failure) */
  reachedInRound: boolean;
  /** everyone a page reached in this chain, in order, once each */
  paged: readonly string[];
}

export type Effect =
  | { type: 'page'; to: string; round: number; step: number }
  | { type: 'notify'; kind: 'accepted' | 'resolved'; to: readonly string[]; acceptedBy?: string };

export interface Transition {
  state: ChainState;
  effects: Effect[];
}

const unchanged = (state: ChainState): Transition => ({ state, effects: [] });
const isRunning = (s: ChainState): boolean => s.status === 'paging' || s.status === 'failed';

/** Which fact starts a chain: `high` when raised, `medium` when escalated (unacknowledged for ESCALATE_AFTER_S), `low` never. */
export function startsChain(alert: Alert, fact: 'raised' | 'escalated' | 'changed'): boolean {
  if (alert.status !== 'active' || alert.acknowledged) return false;
  if (alert.severity === 'high') return true;
  return alert.severity === 'medium' && (fact === 'escalated' || alert.escalated === true);
}

/** The chain of a new alert; `idle` (nothing to page) when nobody is on call. */
export function startChain(alertId: string, chain: readonly string[], nowMs: number): Transition {
  const state: ChainState = {
    alertId, chain: [...chain], status: chain.length > 0 ? 'paging' : 'idle', round: 0, step: 0, stepAtMs: nowMs,
    acceptedBy: null, acceptedAtMs: null, closedReason: null, reachedInRound: false, paged: [],
  };
  return { state, effects: chain.length > 0 ? [{ type: 'page', to: chain[0]!, round: 0, step: 0 }] : [] };
}

export function currentPerson(s: ChainState): string | null {
  return s.chain[s.step] ?? null;
}

/** true when the current step's time is up and the next must be paged */
export function isDue(s: ChainState, nowMs: number, acceptMs: number): boolean {
  return isRunning(s) && nowMs >= s.stepAtMs + acceptMs;
}

/** The next person (the first again after the last, in a new round). */
export function advance(s: ChainState, nowMs: number): Transition {
  if (!isRunning(s) || s.chain.length === 0) return unchanged(s);
  const wraps = s.step + 1 >= s.chain.length;
  const round = wraps ? s.round + 1 : s.round;
  const step = wraps ? 0 : s.step + 1;
  const state: ChainState = { ...s, round, step, stepAtMs: nowMs, reachedInRound: wraps ? false : s.reachedInRound };
  return { state, effects: [{ type: 'page', to: s.chain[step]!, round, step }] };
}

/** The page of (round, step) reached its person on at least one channel. */
export function delivered(s: ChainState, round: number, step: number, to: string): Transition {
  const paged = s.paged.includes(to) ? s.paged : [...s.paged, to];
  if (round !== s.round || step !== s.step) return { state: { ...s, paged }, effects: [] };
  return { state: { ...s, paged, reachedInRound: true, status: s.status === 'failed' ? 'paging' : s.status }, effects: [] };
}

/**
 * The page of (round, step) failed on every channel: move on at once, unless this was the last step
 * of a round that reached nobody: then the chain is `failed` and the next round waits its turn.
 */
export function deliveryFailed(s: ChainState, round: number, step: number, nowMs: number): Transition {
  if (!isRunning(s) || round !== s.round || step !== s.step) return unchanged(s);
  const lastOfRound = s.step + 1 >= s.chain.length;
  if (lastOfRound && !s.reachedInRound) return { state: { ...s, status: 'failed', stepAtMs: nowMs }, effects: [] };
  return advance(s, nowMs);
}

/** `who` declined: the next person at once (a decline of a step already passed changes nothing). */
export function decline(s: ChainState, who: string, nowMs: number): Transition {
  if (!isRunning(s) || currentPerson(s) !== who) return unchanged(s);
  return advance(s, nowMs);
}

/** `who` accepted: no more pages; everyone else paged is told. */
export function accept(s: ChainState, who: string, nowMs: number): Transition {
  if (!isRunning(s)) return unchanged(s);
  const others = s.paged.filter((p) => p !== who);
  const state: ChainState = { ...s, status: 'accepted', acceptedBy: who, acceptedAtMs: nowMs, paged: s.paged.includes(who) ? s.paged : [...s.paged, who] };
  return { state, effects: others.length > 0 ? [{ type: 'notify', kind: 'accepted', to: others, acceptedBy: who }] : [] };
}

/** A nurse acknowledged the alert: the chain stops (whoever accepted stays recorded). */
export function acknowledged(s: ChainState): Transition {
  if (s.status === 'closed') return unchanged(s);
  return { state: { ...s, status: 'closed', closedReason: s.status === 'accepted' ? 'accepted' : 'acknowledged' }, effects: [] };
}

/** The alert cleared: the chain stops; if nobody accepted, those paged are told it resolved. */
export function cleared(s: ChainState): Transition {
  if (s.status === 'closed' || s.status === 'idle') return s.status === 'idle' ? { state: { ...s, status: 'closed', closedReason: 'cleared' }, effects: [] } : unchanged(s);
  const wasRunning = isRunning(s);
  const state: ChainState = { ...s, status: 'closed', closedReason: s.status === 'accepted' ? 'accepted' : 'cleared' };
  return { state, effects: wasRunning && s.paged.length > 0 ? [{ type: 'notify', kind: 'resolved', to: s.paged }] : [] };
}

/**
 * The same alert became active again before anyone acknowledged it (it flapped): the chain goes
 * on with a new round from the first person (the per-person grouping keeps this from a storm).
 */
export function reopen(s: ChainState, nowMs: number): Transition {
  if (s.status !== 'closed' || s.closedReason !== 'cleared' || s.chain.length === 0) return unchanged(s);
  const round = s.round + 1;
  const state: ChainState = { ...s, status: 'paging', round, step: 0, stepAtMs: nowMs, closedReason: null, reachedInRound: false };
  return { state, effects: [{ type: 'page', to: s.chain[0]!, round, step: 0 }] };
}
