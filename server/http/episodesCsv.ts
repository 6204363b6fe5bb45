/**
 * Billing episodes as CSV (RFC 4180, CRLF, header row first). Spreadsheet-safe: a text cell that a
 * spreadsheet would read as a formula (= + - @, tab, CR) is prefixed with an apostrophe.
 */
import type { Episode } from '../../protocol/api.ts';

export const EPISODE_CSV_COLUMNS = [
  'id', 'pump', 'programId', 'drug', 'start', 'end', 'deliveryHours', 'interruptions', 'longestInterruptionMin',
  'continuous24h', 'code', 'serviceDays', 'firstSeq', 'lastSeq', 'sentences',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text) || text !== text.trim()) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

function row(e: Episode): string {
  const cells: (string | number | boolean | null | undefined)[] = [
    e.id, e.pump, e.programId, e.drug, e.start, e.end, round(e.deliveryHours, 3), e.interruptions.length,
    round(e.longestInterruptionMin, 1), e.continuous24h, e.code, e.serviceDays.join(' '),
    e.evidence.firstSeq, e.evidence.lastSeq, e.evidence.sentences,
  ];
  return cells.map(csvCell).join(',');
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function episodesToCsv(episodes: readonly Episode[]): string {
  const lines = [EPISODE_CSV_COLUMNS.join(','), ...episodes.map(row)];
  return `${lines.join('\r\n')}\r\n`;
}
