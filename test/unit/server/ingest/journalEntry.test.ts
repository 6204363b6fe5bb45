import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeSentence } from '../../../../protocol/decode.ts';
import { parsePumpMessage, toPumpMessage, type PumpMessage } from '../../../../protocol/payloads.ts';
import { decodeEntry, encodeEntry, type JournalEntry } from '../../../../server/ingest/journalEntry.ts';
import { loadCapture } from '../../../../simulators/capture.ts';

const capture = (name: string): string[] => loadCapture(new URL(`../../../fixtures/captures/${name}`, import.meta.url).pathname);

/** every valid sentence of a capture as the validator hands it to the journal */
function validated(name: string): PumpMessage[] {
  const out: PumpMessage[] = [];
  for (const line of capture(name)) {
    const d = decodeSentence(line);
    if (!d.ok) continue;
    const v = parsePumpMessage(JSON.stringify({ ...toPumpMessage(d.sentence, line, new Date('2026-11-27T12:00:00.123Z')), extra: 'dropped' }));
    assert.ok(v.ok);
    out.push(v.message);
  }
  return out;
}

describe('journal entries', () => {
  test('every message of the captures comes back exactly as it was validated', () => {
    let n = 0;
    for (const name of ['folfox-46h-normal.log', 'occlusion-at-20h.log', 'pause-20min.log', 'early-end-19h.log']) {
      for (const m of validated(name)) {
        const e: JournalEntry = { k: 'm', g: 'gw-kitchen_2', t: 1_795_000_000_123, m };
        assert.deepEqual(decodeEntry(encodeEntry(e)), e);
        n++;
      }
    }
    assert.ok(n > 1000, `${n} messages`);
  });

  test('a message entry is small: gateway, arrival, received and raw only', () => {
    const m = validated('occlusion-at-20h.log')[5] as PumpMessage;
    const text = encodeEntry({ k: 'm', g: 'gw-1', t: 5, m }).toString('utf8');
    assert.equal(text, `M\tgw-1\t5\t${m.received}\t${m.raw}`);
  });

  test('a sentence replayed on ?HIST keeps its flag through the journal', () => {
    const m = { ...(validated('occlusion-at-20h.log')[5] as PumpMessage), replay: true as const };
    const e: JournalEntry = { k: 'm', g: 'gw-1', t: 5, m };
    const back = decodeEntry(encodeEntry(e));
    assert.deepEqual(back, e);
    assert.equal(back?.k === 'm' && back.m.replay, true);
  });

  test('availability and acknowledgement entries round-trip', () => {
    const a: JournalEntry = { k: 'a', g: 'gw-1', t: 7, state: 'offline', time: '2026-11-27T01:02:03.000Z' };
    const ack: JournalEntry = { k: 'ack', t: 8, id: 'al-1', by: 'nurse "Ann"' };
    assert.deepEqual(decodeEntry(encodeEntry(a)), a);
    assert.deepEqual(decodeEntry(encodeEntry(ack)), ack);
  });

  test('message entries written as JSON by earlier versions are still read', () => {
    const m = validated('folfox-46h-normal.log')[3] as PumpMessage;
    const e: JournalEntry = { k: 'm', g: 'gw-1', t: 9, m };
    assert.deepEqual(decodeEntry(Buffer.from(JSON.stringify(e))), e);
  });

  test('damaged entries are unreadable, never thrown or half-read', () => {
    const m = validated('occlusion-at-20h.log')[5] as PumpMessage;
    const good = encodeEntry({ k: 'm', g: 'gw-1', t: 5, m }).toString('utf8');
    for (const bad of [
      'M\tgw-1\t5', // fields missing
      good.replace('\t5\t', '\tfive\t'), // arrival not a number
      good.slice(0, -3), // raw cut short: its checksum fails
      good.replace(/,RUN,/, ',RNU,'), // raw altered
      '{"k":"m","t":1}', // JSON without a message
      '{"k":', // torn JSON
      '',
    ]) assert.equal(decodeEntry(bad), null, bad);
  });
});
