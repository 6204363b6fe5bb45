/**
 * Paging on the board, as text (pure, unit-tested): an alert's paging state (who is being paged,
 * who accepted, "nobody could be paged"), its page history rows, and the acknowledgement's note and
 * outcome. Shapes: interfaces.md §7 and the paging extension of the alert.
 */
import { ACK_OUTCOMES, type AckOutcome, type Alert, type PageRecord } from '../../protocol/api.ts';
import { clockTime, dateTime } from './format.ts';

export type { AckOutcome, AlertPaging, PageRecord } from '../../protocol/api.ts';

const OUTCOME_LABELS: Readonly<Record<AckOutcome, string>> = {
  patient_called: 'Patient called',
  line_unkinked: 'Line unkinked',
  visit_scheduled: 'Visit scheduled',
  pump_restarted: 'Pump restarted',
  no_action_needed: 'No action needed',
  other: 'Other',
};

/** the outcomes of an acknowledgement (§7), with their words, in the contract's order */
export const ACK_OUTCOME_OPTIONS: readonly (readonly [AckOutcome, string])[] = ACK_OUTCOMES.map((c) => [c, OUTCOME_LABELS[c]] as const);

/** longest acknowledgement note the server keeps, characters */
export const ACK_NOTE_MAX = 500;

/** "1st", "2nd", "3rd", "4th", … "11th", "12th", "13th", "21st" */
export function ordinal(n: number): string {
  const v = Math.trunc(n);
  const tens = v % 100;
  if (tens >= 11 && tens <= 13) return `${v}th`;
  switch (v % 10) {
    case 1: return `${v}st`;
    case 2: return `${v}nd`;
    case 3: return `${v}rd`;
    default: return `${v}th`;
  }
}

export type PagingTone = 'failed' | 'paging' | 'accepted' | 'idle';

export interface PagingLine {
  text: string;
  tone: PagingTone;
}

export const NOBODY_PAGED_TEXT = 'Nobody could be paged';

/**
 * The alert's paging state in one line, null when the server says nothing of paging (a server
 * without paging, or an alert that never paged). An accept is shown whatever the status says.
 */
export function pagingLine(a: Alert, zone?: string | null): PagingLine | null {
  const f = a;
  if (f.acceptedBy) return { tone: 'accepted', text: `Accepted by ${f.acceptedBy}${f.acceptedAt ? ` at ${clockTime(f.acceptedAt, zone)}` : ''}` };
  const p = f.paging;
  if (!p) return null;
  switch (p.status) {
    case 'failed':
      return { tone: 'failed', text: `${NOBODY_PAGED_TEXT}: the whole on-call chain was tried (round ${p.round + 1}). Call the team directly.` };
    case 'paging': {
      const who = p.current ?? 'the next person on call';
      return { tone: 'paging', text: `Paging ${who} (${ordinal(p.step + 1)} on call, round ${p.round + 1}) — waiting for an accept` };
    }
    case 'accepted':
      return { tone: 'accepted', text: 'Accepted' };
    case 'idle':
      return { tone: 'idle', text: 'Not paged (not urgent enough, or nobody on call)' };
    default:
      return null;
  }
}

/** A label for a stored outcome code; an unknown code is shown as it is rather than hidden. */
export function outcomeText(code: string | null | undefined): string {
  if (!code) return '';
  const known = ACK_OUTCOME_OPTIONS.find(([c]) => c === code);
  return known ? known[1] : code.replace(/_/g, ' ');
}

/** "Outcome: Patient called · Note: spoke to her daughter", '' when the acknowledgement has neither. */
export function ackDetailText(a: Alert): string {
  const parts: string[] = [];
  const outcome = outcomeText(a.ackOutcome);
  if (outcome) parts.push(`Outcome: ${outcome}`);
  const note = a.ackNote?.trim();
  if (note) parts.push(`Note: ${note}`);
  return parts.join(' · ');
}

/** The body of POST /api/alerts/:id/ack from the form: only what was given; a reason when the note is too long. */
export function ackBody(note: string, outcome: string): { ok: true; body: { note?: string; outcome?: AckOutcome } } | { ok: false; field: 'note' | 'outcome'; reason: string } {
  const body: { note?: string; outcome?: AckOutcome } = {};
  const n = note.trim();
  if (n.length > ACK_NOTE_MAX) return { ok: false, field: 'note', reason: `must be at most ${ACK_NOTE_MAX} characters (it has ${n.length})` };
  if (n) body.note = n;
  if (outcome) {
    const known = ACK_OUTCOMES.find((c) => c === outcome);
    if (!known) return { ok: false, field: 'outcome', reason: 'is not one of the listed outcomes' };
    body.outcome = known;
  }
  return { ok: true, body };
}

const CHANNEL_NAMES: Readonly<Record<string, string>> = { email: 'E-mail', push: 'Push', webhook: 'Webhook', none: 'no way to reach' };
const PAGE_STATUS: Readonly<Record<PageRecord['status'], string>> = {
  sent: 'Sent', failed: 'FAILED', accepted: 'Accepted', declined: 'Declined', expired: 'No answer (expired)',
};

export interface PageRow {
  to: string;
  channel: string;
  sentAt: string;
  status: string;
  /** for the row's colour */
  failed: boolean;
  error: string;
  /** "round 1, 2nd on call", '' when the server does not say */
  step: string;
}

/** "27 Nov 14:05:09 CST": a page's time to the second, in `zone` and named; '—' when missing */
export function dateClock(iso: string | null | undefined, zone?: string | null): string {
  const day = dateTime(iso, zone);
  if (day === '—') return day;
  return `${day.split(' ').slice(0, 2).join(' ')} ${clockTime(iso, zone)}`;
}

/** One history row in words, times in `zone`. */
export function pageRow(p: PageRecord, zone?: string | null): PageRow {
  return {
    to: p.to,
    channel: CHANNEL_NAMES[p.channel] ?? p.channel,
    sentAt: dateClock(p.sentAt, zone),
    status: PAGE_STATUS[p.status] ?? p.status,
    failed: p.status === 'failed',
    error: p.error ?? '',
    step: typeof p.round === 'number' && typeof p.step === 'number' ? `round ${p.round + 1}, ${ordinal(p.step + 1)} on call` : '',
  };
}

/** Pages oldest first, as the chain went (the server's order when times tie). */
export function pagesInOrder(pages: readonly PageRecord[]): PageRecord[] {
  return pages.map((p, i) => ({ p, i, t: Date.parse(p.sentAt ?? '') }))
    .sort((a, b) => (Number.isFinite(a.t) && Number.isFinite(b.t) && a.t !== b.t ? a.t - b.t : a.i - b.i))
    .map((x) => x.p);
}

/** A short summary for the history toggle: "3 pages, 1 failed". */
export function pagesSummary(pages: readonly PageRecord[]): string {
  if (pages.length === 0) return 'No page sent for this alert.';
  const failed = pages.filter((p) => p.status === 'failed').length;
  return `${pages.length} page${pages.length === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`;
}

/** True when the alert's paging moved on (so an open page history is worth reloading). */
export function pagingChanged(before: Alert | null, after: Alert): boolean {
  if (!before) return true;
  return JSON.stringify([before.paging ?? null, before.acceptedBy ?? null]) !== JSON.stringify([after.paging ?? null, after.acceptedBy ?? null]);
}
