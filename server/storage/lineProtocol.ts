/**
 * InfluxDB 1.x line protocol for a batch of points, built in one pass. The `influx` package's
 * writePoints sorts, coerces and escapes every field through generic escapers; for checkpoint
 * snapshots (kilobytes of JSON each) that cost more CPU than everything else per point.
 * Same encoding as `influx`: numbers as floats, booleans as true/false, strings quoted.
 */
import type { INanoDate, IPoint } from 'influx';

const TAG_SPECIAL = /[,= ]/g;
const MEASUREMENT_SPECIAL = /[, ]/g;
const STRING_SPECIAL = /["\\]/g;

/** a point, or one already encoded as a line (pump messages, the bulk of every write) */
export type PointOrLine = IPoint | string;

/** tag keys, tag values and field keys: `,` `=` and space escaped */
export function escapeKey(s: string): string {
  TAG_SPECIAL.lastIndex = 0;
  return TAG_SPECIAL.test(s) ? s.replace(TAG_SPECIAL, '\\$&') : s;
}

/** a string field value: quoted, with `"` and `\` escaped */
export function quoteString(s: string): string {
  STRING_SPECIAL.lastIndex = 0;
  return STRING_SPECIAL.test(s) ? `"${s.replace(STRING_SPECIAL, '\\$&')}"` : `"${s}"`;
}

/** one field value, or null for a value line protocol cannot carry (NaN, Infinity, undefined) */
function fieldValue(v: unknown): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return null;
}

/**
 * One line, or null for a point without any writable field (InfluxDB would refuse the whole
 * batch for it). Timestamps are taken as given: decimal strings in the write's precision.
 */
export function pointLine(p: IPoint): string | null {
  MEASUREMENT_SPECIAL.lastIndex = 0;
  const m = p.measurement ?? '';
  let line = MEASUREMENT_SPECIAL.test(m) ? m.replace(MEASUREMENT_SPECIAL, '\\$&') : m;
  if (p.tags) {
    for (const k of Object.keys(p.tags).sort()) {
      const v = p.tags[k];
      if (v === undefined || v === '') continue; // InfluxDB refuses empty tag values
      line += `,${escapeKey(k)}=${escapeKey(v)}`;
    }
  }
  let sep = ' ';
  if (p.fields) {
    for (const k in p.fields) {
      const v = fieldValue(p.fields[k]);
      if (v === null) continue;
      line += `${sep}${escapeKey(k)}=${v}`;
      sep = ',';
    }
  }
  if (sep === ' ') return null;
  if (p.timestamp !== undefined) line += ` ${timestampNs(p.timestamp)}`;
  return line;
}

/** ns since the epoch; our points carry decimal strings already */
function timestampNs(t: NonNullable<IPoint['timestamp']>): string {
  if (typeof t === 'string') return t;
  if (typeof t === 'number') return String(t);
  const nano = t as Partial<INanoDate>;
  if (typeof nano.getNanoTime === 'function') return nano.getNanoTime();
  return `${t.getTime()}000000`;
}

/** the request body for a batch; `skipped` counts points that had nothing to write */
export function linesOf(points: readonly PointOrLine[]): { body: string; skipped: number } {
  const lines: string[] = [];
  let skipped = 0;
  for (const p of points) {
    const l = typeof p === 'string' ? p : pointLine(p);
    if (l === null) skipped++;
    else lines.push(l);
  }
  return { body: lines.join('\n'), skipped };
}
