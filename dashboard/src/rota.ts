/**
 * The on-call rota (interfaces.md §7), pure and unit-tested: shift times typed as wall-clock times
 * in the agency's zone (the server's TZ, named on the page) and sent as ISO 8601; the admin's rows
 * checked before PUT /api/oncall, and the server's reasons placed at their row and field; the coming
 * shifts read from GET /api/oncall?at= by walking from one shift's end to the next.
 */
import type { OnCallShift } from '../../protocol/api.ts';
import type { FieldError } from '../../protocol/clinicalValidation.ts';
import { ordinal } from './pagingText.ts';

/** from, to (ISO) and the chain of usernames: first on call, then second, … */
export type Shift = OnCallShift;

/** GET /api/oncall?at= */
export interface OnCallNow {
  shift: Shift | null;
  chain: string[];
  /** the whole rota, when a server gives it (not in §7); then the page needs no walk */
  shifts?: Shift[];
}

/** what an admin edits: inputs' values (datetime-local in the agency's zone) */
export interface ShiftDraft {
  from: string;
  to: string;
  chain: string[];
}

/** the account names `npm run users` accepts */
const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

interface Wall { y: number; mo: number; d: number; h: number; mi: number; s: number }

const formats = new Map<string, Intl.DateTimeFormat | null>();

function wallIn(ms: number, zone: string): Wall | null {
  let f = formats.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });
    } catch {
      f = null;
    }
    formats.set(zone, f);
  }
  if (!f) return null;
  const w: Wall = { y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0 };
  for (const p of f.formatToParts(ms)) {
    const v = Number(p.value);
    if (p.type === 'year') w.y = v;
    else if (p.type === 'month') w.mo = v;
    else if (p.type === 'day') w.d = v;
    else if (p.type === 'hour') w.h = v % 24;
    else if (p.type === 'minute') w.mi = v;
    else if (p.type === 'second') w.s = v;
  }
  return w;
}

/** the zone's offset from UTC at `ms`, ms (east positive) */
function offsetMs(ms: number, zone: string): number | null {
  const w = wallIn(ms, zone);
  if (!w) return null;
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * A datetime-local value ("2026-12-03T19:00") read as the wall clock in `zone` (IANA), as ISO 8601;
 * null for an empty or malformed value. Without a zone (or one this browser does not know), the
 * browser's own. A time the zone skips (spring forward) is read with the offset before the change.
 */
export function zonedInputToIso(value: string, zone: string | null): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(asUtc).getUTCDate() !== d) return null; // 31 February
  const first = zone ? offsetMs(asUtc, zone) : null;
  if (first === null) {
    const local = new Date(y, mo - 1, d, h, mi, s);
    return Number.isNaN(local.getTime()) ? null : local.toISOString();
  }
  let ms = asUtc - first;
  const second = offsetMs(ms, zone!)!;
  if (second !== first) {
    const other = asUtc - second;
    // the wall time exists with the other offset: take it; else (a skipped hour) keep the first reading
    if (offsetMs(other, zone!) === second) ms = other;
  }
  return new Date(ms).toISOString();
}

/** ISO → the datetime-local value showing that moment's wall clock in `zone` (the browser's without one); '' when bad. */
export function isoToZonedInput(iso: string, zone: string | null): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const w = zone ? wallIn(ms, zone) : null;
  if (w) return `${pad(w.y, 4)}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
  const d = new Date(ms);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "America/Chicago (CST)": the zone named as people know it at `ms`; "this browser's zone" without one */
export function zoneLabel(zone: string | null, ms: number): string {
  if (!zone) return "this browser's zone";
  try {
    const short = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'short' }).formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value;
    return short && short !== zone ? `${zone} (${short})` : zone;
  } catch {
    return zone;
  }
}

export function draftsFromShifts(shifts: readonly Shift[], zone: string | null): ShiftDraft[] {
  return shifts.map((s) => ({ from: isoToZonedInput(s.from, zone), to: isoToZonedInput(s.to, zone), chain: [...s.chain] }));
}

export type RotaCheck = { ok: true; shifts: Shift[] } | { ok: false; errors: FieldError[] };

/**
 * The PUT /api/oncall body from the admin's rows, or every reason with its field
 * (`shifts[i].from`, `shifts[i].to`, `shifts[i].chain`, `shifts[i].chain[j]`). Blank chain inputs
 * are dropped; shifts are sent in time order, as the rows are.
 */
export function checkRota(drafts: readonly ShiftDraft[], zone: string | null): RotaCheck {
  const errors: FieldError[] = [];
  const shifts: Shift[] = [];
  drafts.forEach((d, i) => {
    const at = `shifts[${i}]`;
    const from = d.from.trim() ? zonedInputToIso(d.from, zone) : null;
    const to = d.to.trim() ? zonedInputToIso(d.to, zone) : null;
    if (!d.from.trim()) errors.push({ field: `${at}.from`, reason: 'is required' });
    else if (!from) errors.push({ field: `${at}.from`, reason: 'must be a date and time' });
    if (!d.to.trim()) errors.push({ field: `${at}.to`, reason: 'is required' });
    else if (!to) errors.push({ field: `${at}.to`, reason: 'must be a date and time' });
    if (from && to && Date.parse(to) <= Date.parse(from)) errors.push({ field: `${at}.to`, reason: 'must be after the start' });
    const chain: string[] = [];
    d.chain.forEach((raw, j) => {
      const name = raw.trim();
      if (!name) return;
      if (!USERNAME_RE.test(name)) errors.push({ field: `${at}.chain[${j}]`, reason: 'must be an account name (letters, digits, . _ @ -)' });
      else if (chain.includes(name)) errors.push({ field: `${at}.chain[${j}]`, reason: `is already ${name}'s place in this chain` });
      else chain.push(name);
    });
    if (!d.chain.some((c) => c.trim())) errors.push({ field: `${at}.chain`, reason: 'needs at least one person on call' });
    if (from && to) shifts.push({ from, to, chain });
  });
  // two shifts at once would leave it open who is on call (checked once every row has its times)
  if (shifts.length === drafts.length) {
    for (let b = 1; b < shifts.length; b++) {
      for (let a = 0; a < b; a++) {
        const x = shifts[a]!;
        const y = shifts[b]!;
        if (Date.parse(x.from) < Date.parse(y.to) && Date.parse(y.from) < Date.parse(x.to)) {
          errors.push({ field: `shifts[${b}].from`, reason: `overlaps shift ${a + 1}` });
          break;
        }
      }
    }
  }
  if (errors.length > 0 || shifts.length !== drafts.length) return { ok: false, errors };
  return { ok: true, shifts };
}

export interface RotaReason {
  /** the row (0-based), null for a reason about the rota as a whole */
  row: number | null;
  /** `from`, `to`, `chain`, or `chain.<j>`; null for the row as a whole */
  field: string | null;
  reason: string;
}

/** where a field path points: `shifts[1].chain[2]`, `shifts.1.chain.2`, `/shifts/1/chain/2`, `body/shifts/1/to` */
const PATH_RE = /shifts(?:\[(\d+)\]|[./](\d+))(?:[./](from|to|chain))?(?:\[(\d+)\]|[./](\d+))?/;

/** A reason's place: a FieldError's field, or the start of a server message ("body/shifts/0/to must match format…"). */
export function placeReason(field: string, reason: string): RotaReason {
  const m = PATH_RE.exec(field);
  if (!m) return { row: null, field: null, reason: field ? `${field} ${reason}`.trim() : reason };
  const row = Number(m[1] ?? m[2]);
  const name = m[3] ?? null;
  const j = m[4] ?? m[5];
  return { row, field: name === 'chain' && j !== undefined ? `chain.${j}` : name, reason };
}

/**
 * The server's refusal placed at its rows: its `fields` list; "no such account: a, b" beside every
 * place of those names in the rows sent (`drafts`); else its message split at "; ".
 */
export function serverRotaReasons(err: { message: string; fields?: readonly FieldError[] }, drafts: readonly ShiftDraft[] = []): RotaReason[] {
  if (err.fields && err.fields.length > 0) return err.fields.map((e) => placeReason(e.field, e.reason));
  const unknown = /^no such accounts?: (.+)$/.exec(err.message);
  if (unknown) {
    const names = new Set(unknown[1]!.split(',').map((n) => n.trim()));
    const placed: RotaReason[] = [];
    drafts.forEach((d, row) => d.chain.forEach((c, j) => {
      if (names.has(c.trim())) placed.push({ row, field: `chain.${j}`, reason: 'is not an account' });
    }));
    if (placed.length > 0) return placed;
  }
  return err.message.split('; ').map((part) => {
    const m = /^(\S*shifts\S*)\s+(.*)$/.exec(part);
    return m ? placeReason(m[1]!, m[2]!) : { row: null, field: null, reason: part };
  });
}

/** "1st anna · 2nd ben · 3rd carl"; "nobody" for an empty chain */
export function chainText(chain: readonly string[]): string {
  if (chain.length === 0) return 'nobody';
  return chain.map((u, i) => `${ordinal(i + 1)} ${u}`).join(' · ');
}

/**
 * The shift on now and the coming ones, from GET /api/oncall?at= (`at` injected): each next shift is
 * asked for at the previous one's end. A gap (nobody on call from a time) ends the walk: it is shown
 * as a gap. A server that lists its whole rota (`shifts`) needs no walk.
 */
export async function comingShifts(
  at: (iso: string) => Promise<OnCallNow>, nowMs: number, opts: { maxShifts?: number; horizonMs?: number } = {},
): Promise<{ now: OnCallNow; coming: Shift[]; gapFrom: string | null }> {
  const maxShifts = opts.maxShifts ?? 14;
  const horizon = nowMs + (opts.horizonMs ?? 14 * 86_400_000);
  const now = await at(new Date(nowMs).toISOString());
  if (now.shifts) {
    const coming = now.shifts.filter((sh) => Date.parse(sh.from) > nowMs).sort((x, y) => Date.parse(x.from) - Date.parse(y.from)).slice(0, maxShifts);
    return { now, coming, gapFrom: firstGap(now.shift, coming, nowMs) };
  }
  const coming: Shift[] = [];
  let cursor = now.shift;
  let gapFrom: string | null = now.shift ? null : new Date(nowMs).toISOString();
  while (cursor && coming.length < maxShifts && Date.parse(cursor.to) < horizon) {
    const next = await at(cursor.to);
    if (!next.shift || Date.parse(next.shift.to) <= Date.parse(cursor.to)) {
      gapFrom = cursor.to;
      break;
    }
    coming.push(next.shift);
    cursor = next.shift;
  }
  return { now, coming, gapFrom };
}

/** where the listed rota first leaves nobody on call (at the latest, where it ends) */
function firstGap(current: Shift | null, coming: readonly Shift[], nowMs: number): string {
  let end = current ? Date.parse(current.to) : nowMs;
  for (const sh of coming) {
    if (Date.parse(sh.from) > end) return new Date(end).toISOString();
    end = Math.max(end, Date.parse(sh.to));
  }
  return new Date(end).toISOString();
}
