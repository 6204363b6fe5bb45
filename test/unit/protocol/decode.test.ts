import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checksumHex, decodeSentence, encodeSentence, type DecodeErrorCode } from '../../../protocol/index.ts';
import { loadCapture } from '../../../simulators/capture.ts';

const CAPTURES = join(import.meta.dirname, '../../fixtures/captures');
/** body → full sentence with a correct checksum */
const framed = (body: string): string => `$${body}*${checksumHex(body)}`;
const codeOf = (line: string): DecodeErrorCode | 'ok' => {
  const r = decodeSentence(line);
  return r.ok ? 'ok' : r.code;
};

describe('decodeSentence on the shared captures', () => {
  for (const file of readdirSync(CAPTURES).filter((f) => f.endsWith('.log'))) {
    test(`${file}: every valid line decodes and re-encodes byte-identically`, () => {
      let valid = 0;
      for (const line of loadCapture(join(CAPTURES, file))) {
        const r = decodeSentence(line);
        if (!r.ok) continue;
        valid++;
        assert.equal(encodeSentence(r.sentence), line);
      }
      assert.ok(valid > 30, 'captures are mostly valid sentences');
    });
  }

  test('noisy-link.log: exactly 36 valid sentences, and each bad line gets its own reason', () => {
    const lines = loadCapture(join(CAPTURES, 'noisy-link.log'));
    const codes = lines.map(codeOf);
    assert.equal(codes.filter((c) => c === 'ok').length, 36);
    const bad = codes.filter((c) => c !== 'ok').sort();
    assert.deepEqual(bad, ['BAD_CHARACTER', 'BAD_CHECKSUM', 'EMPTY', 'NO_CHECKSUM', 'TOO_LONG'].sort());
  });
});

describe('decodeSentence fields', () => {
  test('status with empty reservoir and pressure, and several alarms, including an unknown one', () => {
    const r = decodeSentence(framed('STS,CS7-1,5,2026-11-24T09:00:05Z,ALARM,5.00,1.50,228.50,,,61,OCCL_DN+NEW_CODE_9'));
    assert.ok(r.ok);
    assert.deepEqual(r.sentence, {
      type: 'status', pump: 'CS7-1', seq: 5, time: '2026-11-24T09:00:05Z', state: 'ALARM', rateMlH: 5, infusedMl: 1.5,
      vtbiMl: 228.5, reservoirMl: null, pressureMmHg: null, batteryPct: 61, alarms: ['OCCL_DN', 'NEW_CODE_9'],
    });
  });

  test('program and event sentences', () => {
    const p = decodeSentence(framed('PRG,CS7-1,41,2026-11-24T09:00:00Z,FOLFOX-C3,FLUOROURACIL 5/FU,5.00,230.00,46.0'));
    assert.ok(p.ok && p.sentence.type === 'program');
    assert.equal(p.sentence.drug, 'FLUOROURACIL 5/FU');
    assert.equal(p.sentence.hours, 46);
    const e = decodeSentence(framed('EVT,CS7-1,42,2026-11-24T09:00:05Z,PAUSE,'));
    assert.ok(e.ok && e.sentence.type === 'event');
    assert.equal(e.sentence.detail, '');
  });

  test('lower-case checksum is accepted, a bare trailing CR tolerated', () => {
    let seq = 0;
    while (!/[A-F]/.test(checksumHex(`EVT,CS7-1,${seq},2026-11-24T09:00:00Z,POWER_ON,4.2.1`))) seq++;
    const line = framed(`EVT,CS7-1,${seq},2026-11-24T09:00:00Z,POWER_ON,4.2.1`);
    assert.equal(codeOf(line.slice(0, -2) + line.slice(-2).toLowerCase()), 'ok');
    assert.equal(codeOf(`${line}\r`), 'ok');
  });

  const rejects: [string, string, DecodeErrorCode][] = [
    ['empty line', '', 'EMPTY'],
    ['no dollar', 'STS,CS7-1,1*00', 'NO_START'],
    ['no checksum', '$STS,CS7-1,1,2026-11-24T09:00:00Z', 'NO_CHECKSUM'],
    ['non-hex checksum', '$EVT,CS7-1,1,2026-11-24T09:00:00Z,PAUSE,*ZZ', 'NO_CHECKSUM'],
    ['wrong checksum', '$EVT,CS7-1,1,2026-11-24T09:00:00Z,PAUSE,*00', 'BAD_CHECKSUM'],
    ['too long', framed(`EVT,CS7-1,1,2026-11-24T09:00:00Z,PAUSE,${'A'.repeat(300)}`), 'TOO_LONG'],
    ['binary', `$EVT,CS7-1,1,2026-11-24T09:00:00Z,PAUSE,\u0000*00`, 'BAD_CHARACTER'],
    ['unknown type', framed('GPS,CS7-1,1,2026-11-24T09:00:00Z,1,2'), 'UNKNOWN_TYPE'],
    ['status field count', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,5.00'), 'BAD_FIELD_COUNT'],
    ['event field count', framed('EVT,CS7-1,1,2026-11-24T09:00:00Z,PAUSE'), 'BAD_FIELD_COUNT'],
    ['lower-case serial', framed('EVT,cs7-1,1,2026-11-24T09:00:00Z,PAUSE,'), 'BAD_SERIAL'],
    ['short serial', framed('EVT,C7,1,2026-11-24T09:00:00Z,PAUSE,'), 'BAD_SERIAL'],
    ['seq over 65535', framed('EVT,CS7-1,65536,2026-11-24T09:00:00Z,PAUSE,'), 'BAD_SEQ'],
    ['negative seq', framed('EVT,CS7-1,-1,2026-11-24T09:00:00Z,PAUSE,'), 'BAD_SEQ'],
    ['31 November', framed('EVT,CS7-1,1,2026-11-31T09:00:00Z,PAUSE,'), 'BAD_TIME'],
    ['local time', framed('EVT,CS7-1,1,2026-11-24T09:00:00,PAUSE,'), 'BAD_TIME'],
    ['hour 24', framed('EVT,CS7-1,1,2026-11-24T24:00:00Z,PAUSE,'), 'BAD_TIME'],
    ['unknown state', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUNNING,5.00,0.00,230.00,230.00,35,98,'), 'UNKNOWN_STATE'],
    ['rate over 500', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,500.01,0.00,230.00,230.00,35,98,'), 'BAD_NUMBER'],
    ['three decimals', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,5.001,0.00,230.00,230.00,35,98,'), 'BAD_NUMBER'],
    ['pressure over 2000', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,5.00,0.00,230.00,230.00,2001,98,'), 'BAD_NUMBER'],
    ['battery 101', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,5.00,0.00,230.00,230.00,35,101,'), 'BAD_NUMBER'],
    ['fractional battery', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,5.00,0.00,230.00,230.00,35,9.5,'), 'BAD_NUMBER'],
    ['exponent', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,5e1,0.00,230.00,230.00,35,98,'), 'BAD_NUMBER'],
    ['empty battery', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,RUN,5.00,0.00,230.00,230.00,35,,'), 'BAD_NUMBER'],
    ['bad alarm code', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,ALARM,5.00,0.00,230.00,230.00,35,98,OCCL DN'), 'BAD_FIELD'],
    ['empty alarm in list', framed('STS,CS7-1,1,2026-11-24T09:00:00Z,ALARM,5.00,0.00,230.00,230.00,35,98,OCCL_DN+'), 'BAD_FIELD'],
    ['bad program id', framed('PRG,CS7-1,1,2026-11-24T09:00:00Z,FOLFOX C3,X,5.00,230.00,46.0'), 'BAD_FIELD'],
    ['drug too long', framed(`PRG,CS7-1,1,2026-11-24T09:00:00Z,P1,${'D'.repeat(33)},5.00,230.00,46.0`), 'BAD_FIELD'],
  ];
  for (const [name, line, code] of rejects) {
    test(`rejects ${name} with ${code}`, () => assert.equal(codeOf(line), code));
  }
});
