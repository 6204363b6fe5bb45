/**
 * Body of GET /api/billing/episodes.csv: RFC 4180 (CRLF line ends, header row first, a cell with
 * `"` `,` CR or LF is quoted with `"` doubled). Spreadsheet-safe: a cell that starts with
 * = + - @ TAB or CR gets a leading apostrophe, so no spreadsheet reads it as a formula.
 * Columns: docs/billing.md.
 */
import type { Episode } from '../../protocol/api.ts';

export const EPISODE_CSV_COLUMNS = [
  'id', 'pump', 'programId', 'drug', 'start', 'end', 'deliveryHours', 'unverifiedHours', 'stalledMinutes', 'interruptions',
  'longestInterruptionMin', 'continuous24h', 'code', 'serviceDays', 'serviceDayCount', 'interruptionDetail',
  'firstSeq', 'lastSeq', 'sentences',
  // the course and its review, for the billing clerk (added after the original columns, which keep their places)
  'mrn', 'patientName', 'orderId', 'payer', 'mode', 'units', 'needsReview', 'reviewReasons', 'provisional', 'startObserved', 'endedBy',
  'reviewedBy', 'reviewedAt', 'reviewNote', 'dayRule', 'timeZone', 'pumps',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell, neutralised and quoted as needed. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** hours to 3 decimals, rounded down (23.9999 h must not read as 24.000) */
const floor3 = (n: number): string => (Math.floor(n * 1000) / 1000).toFixed(3);

function interruptionDetail(e: Episode): string {
  return e.interruptions.map((i) => `${i.reason} ${i.minutes} min ${i.from}/${i.to}`).join('; ');
}

/** the course fields (interfaces.md §4, added fields) and the review, when present */
type CsvEpisode = Episode & Partial<{
  mrn: string | null; patientName: string | null; orderId: string | null; payer: string | null; units: number;
  needsReview: boolean; reviewReasons: string[]; provisional: boolean; startObserved: boolean; endedBy: string | null;
  reviewedBy: string | null; reviewedAt: string | null; reviewNote: string | null; mode: string | null; dayRule: string; timeZone: string;
  stalledMinutes: number; pumps: string[];
}>;

function row(e: CsvEpisode): string {
  const cells: (string | number | boolean | null | undefined)[] = [
    e.id, e.pump, e.programId, e.drug, e.start, e.end, floor3(e.deliveryHours), floor3(e.unverifiedHours ?? 0), e.stalledMinutes ?? 0,
    e.interruptions.length, e.longestInterruptionMin, e.continuous24h, e.code, e.serviceDays.join(' '),
    e.serviceDays.length, interruptionDetail(e), e.evidence.firstSeq, e.evidence.lastSeq, e.evidence.sentences,
    e.mrn, e.patientName, e.orderId, e.payer, e.mode, e.units ?? e.serviceDays.length, e.needsReview, (e.reviewReasons ?? []).join(' '),
    e.provisional, e.startObserved, e.endedBy, e.reviewedBy, e.reviewedAt, e.reviewNote, e.dayRule, e.timeZone, (e.pumps ?? [e.pump]).join(' '),
  ];
  return cells.map(csvCell).join(',');
}

export function episodesToCsv(episodes: readonly Episode[]): string {
  const lines = [EPISODE_CSV_COLUMNS.join(','), ...episodes.map(row)];
  return `${lines.join('\r\n')}\r\n`;
}
