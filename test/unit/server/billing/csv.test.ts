import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { csvCell, EPISODE_CSV_COLUMNS, episodesToCsv } from '../../../../server/billing/index.ts';
import type { Episode } from '../../../../protocol/api.ts';
import { captureMessages, feed, tracker } from './billingFixtures.ts';

/** Minimal RFC 4180 reader, to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += ch;
  }
  assert.equal(cell, '', 'file ends with CRLF');
  return rows;
}

const base: Episode = {
  id: 'PW-1_20261123T090000Z_9', pump: 'PW-1', programId: 'P1', drug: 'FLUOROURACIL', start: '2026-11-23T09:00:00Z', end: null,
  deliveryHours: 23.99972, interruptions: [], longestInterruptionMin: 0, continuous24h: false, code: 'S9331',
  serviceDays: ['2026-11-23', '2026-11-24'], evidence: { firstSeq: 9, lastSeq: 100, sentences: 92 }, unverifiedHours: 0,
};

describe('episodes CSV', () => {
  test('header row first, one row per episode, CRLF, every documented column', () => {
    const episodes = feed(tracker(), captureMessages('folfox-46h-normal.log')).episodes({});
    const rows = parseCsv(episodesToCsv(episodes));
    assert.deepEqual(rows[0], [...EPISODE_CSV_COLUMNS]);
    assert.equal(rows.length, 2);
    const rec = Object.fromEntries(EPISODE_CSV_COLUMNS.map((c, i) => [c, rows[1]?.[i]]));
    assert.equal(rec.pump, 'CS7-004512');
    assert.equal(rec.code, 'S9330');
    assert.equal(rec.deliveryHours, '46.000');
    assert.equal(rec.continuous24h, 'true');
    assert.equal(rec.serviceDays, '2026-11-23 2026-11-24 2026-11-25');
    assert.equal(rec.serviceDayCount, '3');
    assert.equal(rec.end, '2026-11-25T07:00:00Z');
    assert.equal(rec.sentences, '2763');
  });
  test('no rows: just the header', () => {
    assert.equal(episodesToCsv([]), `${EPISODE_CSV_COLUMNS.join(',')}\r\n`);
  });
  test('an open episode has an empty end; hours never round up to 24', () => {
    const rows = parseCsv(episodesToCsv([base]));
    const rec = Object.fromEntries(EPISODE_CSV_COLUMNS.map((c, i) => [c, rows[1]?.[i]]));
    assert.equal(rec.end, '');
    assert.equal(rec.deliveryHours, '23.999');
  });
  test('RFC 4180 quoting: comma, quote, CR and LF round-trip', () => {
    const drug = 'A, "B"\r\nC';
    const rows = parseCsv(episodesToCsv([{ ...base, drug }]));
    assert.equal(rows[1]?.[EPISODE_CSV_COLUMNS.indexOf('drug')], drug);
    assert.equal(csvCell('a"b'), '"a""b"');
  });
  describe('spreadsheet-safe: a cell starting with = + - @ TAB or CR gets a leading apostrophe', () => {
    for (const evil of ['=HYPERLINK("http://x","y")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\r=1']) {
      test(JSON.stringify(evil), () => {
        const rows = parseCsv(episodesToCsv([{ ...base, drug: evil, programId: evil }]));
        const drug = rows[1]?.[EPISODE_CSV_COLUMNS.indexOf('drug')];
        const programId = rows[1]?.[EPISODE_CSV_COLUMNS.indexOf('programId')];
        assert.equal(drug, `'${evil}`);
        assert.equal(programId, `'${evil}`);
        for (const cell of rows[1] ?? []) assert.doesNotMatch(cell, /^[=+\-@\t\r]/);
      });
    }
    test('harmless text and numbers are left as they are', () => {
      assert.equal(csvCell('FLUOROURACIL 5-FU'), 'FLUOROURACIL 5-FU');
      assert.equal(csvCell(12.5), '12.5');
      assert.equal(csvCell(null), '');
      assert.equal(csvCell(true), 'true');
    });
  });
});

describe('episodes CSV for the billing clerk, read back by a spreadsheet parser (csv-parse)', () => {
  test('every course field round-trips; formula-like cells come back with the leading apostrophe only', async () => {
    const { parse } = await import('csv-parse/sync');
    const course = {
      ...base, id: 'order-7', end: '2026-11-25T07:00:00Z', deliveryHours: 46, code: 'S9330' as const,
      serviceDays: ['2026-11-23', '2026-11-24', '2026-11-25'], mrn: '=MRN-1,"2"', patientName: 'Lovelace, Ada "Countess"',
      orderId: '7', payer: '+Acme\r\nHealth', mode: 'continuous' as const, units: 3, provisional: false, needsReview: true,
      reviewReasons: ['interrupted', 'clock'], startObserved: true, endedBy: 'END', reviewedBy: 'clerk', reviewedAt: '2026-11-26T10:00:00.000Z',
      reviewNote: '@SUM(A1) checked with the nurse', dayRule: 'nhia', timeZone: 'America/New_York', pumps: ['PW-1', 'PW-2'],
      longestInterruptionMin: 31,
    };
    const text = episodesToCsv([course]);
    const records = parse<Record<string, string>>(text, { columns: true, record_delimiter: '\r\n' });
    assert.equal(records.length, 1);
    const r = records[0] as Record<string, string>;
    assert.deepEqual(Object.keys(r), [...EPISODE_CSV_COLUMNS]);
    const unsafe = (v: string): string => `'${v}`;
    assert.equal(r.mrn, unsafe(course.mrn));
    assert.equal(r.patientName, course.patientName);
    assert.equal(r.payer, unsafe(course.payer));
    assert.equal(r.reviewNote, unsafe(course.reviewNote));
    assert.equal(r.orderId, '7');
    assert.equal(r.code, 'S9330');
    assert.equal(r.units, '3');
    assert.equal(r.serviceDays, '2026-11-23 2026-11-24 2026-11-25');
    assert.equal(r.start, course.start);
    assert.equal(r.end, course.end);
    assert.equal(r.deliveryHours, '46.000');
    assert.equal(r.longestInterruptionMin, '31');
    assert.equal(r.needsReview, 'true');
    assert.equal(r.reviewReasons, 'interrupted clock');
    assert.equal(r.provisional, 'false');
    assert.equal(r.startObserved, 'true');
    assert.equal(r.endedBy, 'END');
    assert.equal(r.pump, 'PW-1');
    assert.equal(r.pumps, 'PW-1 PW-2');
    // no cell a spreadsheet would evaluate
    for (const v of Object.values(r)) assert.doesNotMatch(v, /^[=+\-@\t\r]/);
  });
});
