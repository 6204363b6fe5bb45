import { test } from 'vitest';
import assert from 'node:assert/strict';
import { checksumHex, decodeSentence, parsePumpMessage, toPumpMessage, validatePumpMessage, encodeHistRequest, decodeHistRequest, parseTopic, topics } from '../../../protocol/index.ts';

const raw = (body: string): string => `$${body}*${checksumHex(body)}`;
const line = raw('STS,CS7-004512,44,2026-11-24T09:01:05Z,RUN,5.00,0.08,229.92,229.92,36,98,');
const decoded = decodeSentence(line);
assert.ok(decoded.ok);
const message = toPumpMessage(decoded.sentence, line, new Date('2026-11-24T09:01:05.123Z'));

test('a gateway message round-trips through JSON and validates', () => {
  const r = parsePumpMessage(JSON.stringify(message), 'CS7-004512');
  assert.ok(r.ok);
  assert.deepEqual(r.message, message);
  assert.equal(r.message.received, '2026-11-24T09:01:05.123Z');
});

test('a field that disagrees with raw is refused as RAW_MISMATCH', () => {
  for (const [field, value] of [['pressureMmHg', 36.5], ['alarms', ['OCCL_DN']], ['seq', 45], ['state', 'PAUSE'], ['reservoirMl', null]] as const) {
    const r = validatePumpMessage({ ...message, [field]: value });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.code, 'RAW_MISMATCH', field);
  }
});

test('other refusals carry their own codes', () => {
  const cases: [unknown, string, string?][] = [
    ['nope', 'NOT_OBJECT'],
    [[], 'NOT_OBJECT'],
    [{ ...message, v: 2 }, 'BAD_VERSION'],
    [{ ...message, type: 'alarm' }, 'BAD_TYPE'],
    [{ ...message, raw: 42 }, 'BAD_RAW'],
    [{ ...message, raw: line.replace('*', '*0') }, 'BAD_RAW'],
    [{ ...message, received: 'yesterday' }, 'BAD_RECEIVED'],
    [message, 'TOPIC_MISMATCH', 'CS7-000001'],
  ];
  for (const [payload, code, topicSerial] of cases) {
    const r = validatePumpMessage(payload, topicSerial);
    assert.equal(r.ok ? 'ok' : r.code, code);
  }
  const notJson = parsePumpMessage(Buffer.from('{"v":1,'));
  assert.equal(notJson.ok ? 'ok' : notJson.code, 'NOT_JSON');
});

test('extra fields are allowed but not passed on', () => {
  const r = validatePumpMessage({ ...message, extra: 'x' });
  assert.ok(r.ok);
  assert.equal('extra' in r.message, false);
});

test('the optional replay flag: set by the gateway on ?HIST answers, passed on when true, absent otherwise', () => {
  const replayed = toPumpMessage(decoded.sentence, line, new Date('2026-11-24T10:00:00.000Z'), true);
  const r = parsePumpMessage(JSON.stringify(replayed), 'CS7-004512');
  assert.ok(r.ok);
  assert.equal(r.message.replay, true);
  assert.equal('replay' in message, false, 'a live sentence has no flag');
  const notReplayed = validatePumpMessage({ ...message, replay: false });
  assert.ok(notReplayed.ok);
  assert.equal('replay' in notReplayed.message, false);
  const bad = validatePumpMessage({ ...message, replay: 'yes' });
  assert.equal(bad.ok ? 'ok' : bad.code, 'BAD_REPLAY');
});

test('?HIST request encodes with a checksum and decodes back', () => {
  const req = encodeHistRequest(512);
  assert.match(req, /^\?HIST,512\*[0-9A-F]{2}$/);
  assert.equal(decodeHistRequest(req), 512);
  assert.equal(decodeHistRequest(`${req}\r`), 512);
  assert.equal(decodeHistRequest('?HIST,512*00'), null);
  assert.equal(decodeHistRequest('?HIST,70000*00'), null);
});

test('topics are built and parsed; foreign or malformed topics are not ours', () => {
  assert.deepEqual(parseTopic(topics.pump('home-1', 'CS7-1')), { kind: 'pump', gateway: 'home-1', serial: 'CS7-1' });
  assert.deepEqual(parseTopic(topics.availability('home-1')), { kind: 'availability', gateway: 'home-1' });
  assert.equal(parseTopic('other/home-1/availability'), null);
  assert.equal(parseTopic('pumpwatch/_server/alerts'), null);
  assert.equal(parseTopic('pumpwatch/home-1/pumps'), null);
});
