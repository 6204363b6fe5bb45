import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { encodeSentence } from '../../../../protocol/encode.ts';
import { toPumpMessage, type PumpMessage } from '../../../../protocol/payloads.ts';
import { decodeSentence } from '../../../../protocol/decode.ts';
import { pointLine } from '../../../../server/storage/lineProtocol.ts';
import { identityFromTimestampNs, messageLine, messagePoint, sentenceTimestampNs, ServerTimestamps } from '../../../../server/storage/points.ts';
import { loadCapture } from '../../../../simulators/capture.ts';

function statusMessage(seq: number, time: string, press: number | null): PumpMessage {
  const s = {
    type: 'status' as const, pump: 'CS7-004512', seq, time, state: 'RUN' as const, rateMlH: 5, infusedMl: 0.08, vtbiMl: 229.92,
    reservoirMl: null, pressureMmHg: press, batteryPct: 98, alarms: ['OCCL_DN'],
  };
  return toPumpMessage(s, encodeSentence(s), new Date('2026-11-24T09:00:05.123Z'));
}

describe('sentence timestamps', () => {
  test('different sentences in the same pump second never collide; the same one always maps to the same point', () => {
    const seen = new Set<string>();
    for (let seq = 0; seq < 65536; seq += 1) seen.add(sentenceTimestampNs(seq, '2026-11-24T09:00:05Z'));
    assert.equal(seen.size, 65536);
    assert.equal(sentenceTimestampNs(42, '2026-11-24T09:00:05Z'), sentenceTimestampNs(42, '2026-11-24T09:00:05Z'));
    // the largest seq stays inside its own second, below the next second's seq 0
    assert.ok(BigInt(sentenceTimestampNs(65535, '2026-11-24T09:00:05Z')) < BigInt(sentenceTimestampNs(0, '2026-11-24T09:00:06Z')));
    const ns = sentenceTimestampNs(513, '2026-11-25T20:10:05Z');
    assert.deepEqual(identityFromTimestampNs(ns), { seq: 513, timeSec: Date.parse('2026-11-25T20:10:05Z') / 1000 });
  });

  test('server timestamps are unique within a millisecond', () => {
    const t = new ServerTimestamps();
    const a = t.next(1000);
    const b = t.next(1000);
    const c = t.next(1001);
    assert.notEqual(a, b);
    assert.ok(BigInt(a) < BigInt(b) && BigInt(b) < BigInt(c));
  });
});

describe('messagePoint', () => {
  test('status: tag pump only, fields carry raw, seq, gateway; null readings are left out', () => {
    const m = statusMessage(43, '2026-11-24T09:00:05Z', null);
    const p = messagePoint(m, 'gw-1');
    assert.equal(p.measurement, 'status');
    assert.deepEqual(p.tags, { pump: 'CS7-004512' });
    assert.equal(p.fields?.raw, m.raw);
    assert.equal(p.fields?.seq, 43);
    assert.equal(p.fields?.gateway, 'gw-1');
    assert.equal(p.fields?.alarms, 'OCCL_DN');
    assert.equal('pressureMmHg' in (p.fields ?? {}), false);
    assert.equal('reservoirMl' in (p.fields ?? {}), false);
    assert.equal(p.timestamp, sentenceTimestampNs(43, '2026-11-24T09:00:05Z'));
  });
});

describe('message lines', () => {
  test('the direct line of every capture message is the line of its point', () => {
    let n = 0;
    for (const name of ['folfox-46h-normal.log', 'occlusion-at-20h.log', 'pause-20min.log', 'early-end-19h.log', 'noisy-link.log']) {
      for (const line of loadCapture(new URL(`../../../fixtures/captures/${name}`, import.meta.url).pathname)) {
        const d = decodeSentence(line);
        if (!d.ok) continue;
        const m = toPumpMessage(d.sentence, line, new Date('2026-11-24T09:00:05.123Z'));
        assert.equal(messageLine(m, 'gw-1'), pointLine(messagePoint(m, 'gw-1')));
        n++;
      }
    }
    assert.ok(n > 1000, `${n} messages`);
  });

  test('quotes, backslashes and missing readings are encoded as the point would be', () => {
    const ev = { type: 'event' as const, pump: 'CS7-004512', seq: 9, time: '2026-11-24T09:00:05Z', code: 'NOTE', detail: 'say "hi" \\ bye' };
    const evm = toPumpMessage(ev, encodeSentence(ev), new Date('2026-11-24T09:00:05.123Z'));
    assert.equal(messageLine(evm, 'gw_2'), pointLine(messagePoint(evm, 'gw_2')));
    assert.match(messageLine(evm, 'gw_2'), /detail="say \\"hi\\" \\\\ bye"/);
    for (const press of [null, 40]) {
      const m = statusMessage(7, '2026-11-24T09:00:05Z', press);
      assert.equal(messageLine(m, 'gw-1'), pointLine(messagePoint(m, 'gw-1')));
    }
  });
});
