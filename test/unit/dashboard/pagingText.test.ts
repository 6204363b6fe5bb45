import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import {
  ACK_NOTE_MAX, ACK_OUTCOME_OPTIONS, ackBody, ackDetailText, dateClock, ordinal, pageRow, pagesInOrder, pagesSummary, pagingChanged, pagingLine,
  type AckOutcome, type AlertPaging, type PageRecord,
} from '../../../dashboard/src/pagingText.ts';
import { buildTimeline } from '../../../dashboard/src/timeline.ts';
import { alert } from './fixtures.ts';

process.env.TZ = 'UTC';

// round and step count from 0, as the server sends them
const paging = (over: Partial<AlertPaging>): AlertPaging => ({ status: 'paging', round: 0, step: 0, current: 'anna', ...over });

describe('paging state on an alert', () => {
  test('nothing about paging: no line (a server without paging, or an alert that never paged)', () => {
    assert.equal(pagingLine(alert('1')), null);
    assert.equal(pagingLine(alert('1', { paging: null })), null);
  });

  test('paging: who is paged now, their place in the chain and the round', () => {
    assert.deepEqual(pagingLine(alert('1', { paging: paging({ step: 1, round: 0, current: 'ben' }) })), {
      tone: 'paging', text: 'Paging ben (2nd on call, round 1) — waiting for an accept',
    });
    assert.match(pagingLine(alert('1', { paging: paging({ step: 0, round: 2, current: null }) }))!.text, /^Paging the next person on call \(1st on call, round 3\)/);
  });

  test('failed: "nobody could be paged", its own tone (shown in red)', () => {
    const line = pagingLine(alert('1', { paging: paging({ status: 'failed', round: 1, current: null }) }))!;
    assert.equal(line.tone, 'failed');
    assert.match(line.text, /^Nobody could be paged: the whole on-call chain was tried \(round 2\)/);
  });

  test('accepted: by whom and when, in the zone given, whatever the status says', () => {
    const a = alert('1', { paging: paging({ status: 'accepted' }), acceptedBy: 'anna', acceptedAt: '2026-11-27T09:14:15Z' });
    assert.deepEqual(pagingLine(a, 'America/Chicago'), { tone: 'accepted', text: 'Accepted by anna at 03:14:15 CST' });
    assert.deepEqual(pagingLine(alert('1', { acceptedBy: 'ben', acceptedAt: null })), { tone: 'accepted', text: 'Accepted by ben' });
  });

  test('idle: not paged, quietly', () => {
    assert.equal(pagingLine(alert('1', { paging: paging({ status: 'idle', current: null }) }))!.tone, 'idle');
  });

  test('paging changed: step, round, status or accept; not for other changes', () => {
    const a = alert('1', { paging: paging({}) });
    assert.equal(pagingChanged(null, a), true);
    assert.equal(pagingChanged(a, { ...a, message: 'other' }), false);
    assert.equal(pagingChanged(a, alert('1', { paging: paging({ step: 1, current: 'ben' }) })), true);
    assert.equal(pagingChanged(a, alert('1', { paging: paging({}), acceptedBy: 'anna' })), true);
  });

  test('ordinals', () => {
    assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal), ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '111th']);
  });
});

describe('acknowledgement note and outcome', () => {
  test('shown as outcome then note; nothing when neither', () => {
    assert.equal(ackDetailText(alert('1', { ackOutcome: 'line_unkinked', ackNote: ' under the sofa ' })), 'Outcome: Line unkinked · Note: under the sofa');
    assert.equal(ackDetailText(alert('1', { ackOutcome: 'patient_called' })), 'Outcome: Patient called');
    assert.equal(ackDetailText(alert('1', { ackNote: 'ok' })), 'Note: ok');
    assert.equal(ackDetailText(alert('1', { ackOutcome: 'brand_new_code' as AckOutcome })), 'Outcome: brand new code');
    assert.equal(ackDetailText(alert('1')), '');
  });

  test('the body sends only what was given; a note over the limit or an unknown outcome is refused at its field', () => {
    assert.deepEqual(ackBody('', ''), { ok: true, body: {} });
    assert.deepEqual(ackBody('  called her  ', 'patient_called'), { ok: true, body: { note: 'called her', outcome: 'patient_called' } });
    assert.deepEqual(ackBody('x'.repeat(ACK_NOTE_MAX), ''), { ok: true, body: { note: 'x'.repeat(ACK_NOTE_MAX) } });
    const long = ackBody('x'.repeat(ACK_NOTE_MAX + 1), '');
    assert.equal(long.ok, false);
    assert.equal(!long.ok && long.field, 'note');
    const unknown = ackBody('', 'fixed_it');
    assert.equal(!unknown.ok && unknown.field, 'outcome');
  });

  test('the six outcomes of the contract, in words', () => {
    assert.deepEqual(ACK_OUTCOME_OPTIONS.map(([c]) => c), ['patient_called', 'line_unkinked', 'visit_scheduled', 'pump_restarted', 'no_action_needed', 'other']);
  });

  test("the pump's timeline: the accept, and the acknowledgement with its outcome and note", () => {
    const a = alert('1', {
      raisedAt: '2026-11-27T02:00:00Z', acknowledged: true, ackedBy: 'anna', ackedAt: '2026-11-27T02:20:00Z',
      acceptedBy: 'anna', acceptedAt: '2026-11-27T02:05:00Z', ackOutcome: 'visit_scheduled', ackNote: 'visit at 8',
    });
    assert.deepEqual(buildTimeline([], [a]).map((e) => `${e.kind}:${e.text}`), [
      'alert:HIGH alert: Occlusion — Line blocked',
      'accepted:Occlusion page accepted by anna',
      'ack:Occlusion acknowledged by anna — Outcome: Visit scheduled · Note: visit at 8',
    ]);
  });
});

describe('page history', () => {
  const page = (over: Partial<PageRecord>): PageRecord => ({ id: 'p1', to: 'anna', channel: 'email', sentAt: '2026-11-27T09:00:05Z', status: 'sent', round: 0, step: 0, ...over });

  test('a row in words, to the second in the zone, with the error of a failed page', () => {
    assert.deepEqual(pageRow(page({ status: 'failed', error: 'SMTP 421 try later' }), 'America/Chicago'), {
      to: 'anna', channel: 'E-mail', sentAt: '27 Nov 03:00:05 CST', status: 'FAILED', failed: true, error: 'SMTP 421 try later', step: 'round 1, 1st on call',
    });
    const r = pageRow(page({ channel: 'sms-bridge' as PageRecord['channel'], status: 'expired', round: undefined }));
    assert.equal(r.channel, 'sms-bridge');
    assert.equal(r.status, 'No answer (expired)');
    assert.equal(r.step, '');
    assert.equal(r.error, '');
    assert.equal(dateClock('bad'), '—');
    const none = pageRow(page({ channel: 'none', status: 'failed', sentAt: null, round: 1, step: 2, error: 'no contact' }));
    assert.deepEqual([none.channel, none.sentAt, none.step], ['no way to reach', '—', 'round 2, 3rd on call']);
  });

  test('oldest first (server order on ties), and a summary', () => {
    const pages = [page({ to: 'c', sentAt: '2026-11-27T09:02:00Z' }), page({ to: 'a' }), page({ to: 'b', status: 'failed' })];
    assert.deepEqual(pagesInOrder(pages).map((p) => p.to), ['a', 'b', 'c']);
    assert.equal(pagesSummary(pages), '3 pages, 1 failed');
    assert.equal(pagesSummary([page({})]), '1 page');
    assert.equal(pagesSummary([]), 'No page sent for this alert.');
  });
});
