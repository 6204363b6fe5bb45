import { describe, expect, test } from 'vitest';
import { DECODE_ERRORS, PAYLOAD_ERRORS } from '../../../../protocol/errors.ts';
import { parsePumpMessage } from '../../../../protocol/payloads.ts';
import { PumpHandover } from '../../../../server/cluster/pumpHandover.ts';
import { DropCounter } from '../../../../server/ingest/dropCounter.ts';
import { INGEST_DROP_REASONS, validationDropReason } from '../../../../server/ingest/dropReasons.ts';

function recordingLog() {
  const warnings: Record<string, unknown>[] = [];
  return { warnings, log: { warn: (fields: Record<string, unknown>) => void warnings.push(fields) } };
}

describe('drop reasons', () => {
  test('every validator code and every decode code under BAD_RAW is a known ingest reason, once', () => {
    for (const code of PAYLOAD_ERRORS) expect(INGEST_DROP_REASONS).toContain(code);
    for (const code of DECODE_ERRORS) expect(INGEST_DROP_REASONS).toContain(`BAD_RAW:${code}`);
    expect(INGEST_DROP_REASONS).toEqual(expect.arrayContaining(['DUPLICATE', 'BAD_AVAILABILITY', 'BAD_JOURNAL_ENTRY', 'HANDOVER_QUEUE_FULL']));
    expect(new Set(INGEST_DROP_REASONS).size).toBe(INGEST_DROP_REASONS.length);
  });

  test('a refused payload is counted under its code, a raw that does not decode under BAD_RAW:<decode code>', () => {
    const bad = parsePumpMessage('{"v":1,"type":"status","received":"2026-11-27T12:00:00.000Z","raw":"$PST,1*00"}');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const reason = validationDropReason(bad.code, bad.decodeCode);
    expect(reason).toMatch(/^BAD_RAW:/);
    expect(INGEST_DROP_REASONS).toContain(reason);
    expect(validationDropReason('NOT_JSON')).toBe('NOT_JSON');
    const noRaw = parsePumpMessage('{"v":1,"type":"status","received":"2026-11-27T12:00:00.000Z"}');
    expect(noRaw.ok || validationDropReason(noRaw.code, noRaw.decodeCode)).toBe('BAD_RAW');
  });
});

describe('DropCounter', () => {
  test('counts every drop, logs the first of each reason only, and knows the reasons it was given', () => {
    const { warnings, log } = recordingLog();
    const drops = new DropCounter(log, INGEST_DROP_REASONS);
    drops.drop('DUPLICATE', { pump: 'P1' });
    drops.drop('DUPLICATE', { pump: 'P2' });
    drops.drop('NOT_JSON');
    expect(drops.count('DUPLICATE')).toBe(2);
    expect(drops.count('BAD_TOPIC')).toBe(0);
    expect(drops.total).toBe(3);
    expect(drops.snapshot()).toEqual({ DUPLICATE: 2, NOT_JSON: 1 });
    expect(drops.reasons).toBe(INGEST_DROP_REASONS);
    expect(warnings).toEqual([{ reason: 'DUPLICATE', pump: 'P1' }, { reason: 'NOT_JSON' }]);
  });
});

describe('handover queue', () => {
  test('a message pushed out of a loading pump\'s full queue is reported to the caller', () => {
    const dropped: string[] = [];
    const h = new PumpHandover({
      clock: { now: () => 0 }, log: { warn: () => undefined, info: () => undefined }, staleAfterMs: null,
      owns: () => true, rebuild: () => new Promise<void>(() => undefined), accept: () => undefined, forget: () => undefined,
      maxQueued: 2, dropped: (serial) => dropped.push(serial),
    });
    h.startedWith([], false);
    for (let i = 0; i < 4; i++) h.accept('pumpwatch/gw/pumps/P1', Buffer.from(String(i)));
    expect(dropped).toEqual(['P1', 'P1']);
    expect(h.queuedDropped).toBe(2);
  });
});
