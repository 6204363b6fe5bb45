import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { captureMessages, feed, PumpScript, tracker } from './billingFixtures.ts';
import type { EpisodeRecord } from '../../../../server/billing/index.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');

describe('records for storage', () => {
  test('takeChanged hands out each changed episode and pump once, then nothing', () => {
    const t = feed(tracker(), captureMessages('folfox-46h-normal.log'));
    const recs = t.takeChanged();
    assert.deepEqual(recs.map((r) => [r.kind, r.id]).sort(), [['episode', 'CS7-004512_20261123T090000Z_9'], ['pump', 'pump:CS7-004512']]);
    assert.ok(recs.every((r) => r.version === 1 && r.pump === 'CS7-004512'));
    assert.deepEqual(t.takeChanged(), []);
  });
  test('records survive JSON and a restart mid-episode resumes exactly', () => {
    const msgs = captureMessages('occlusion-at-20h.log');
    const whole = feed(tracker(), msgs).episodes({});
    const cut = 1265; // inside the alarm
    const first = feed(tracker(), msgs.slice(0, cut));
    const stored = JSON.parse(JSON.stringify(first.takeChanged())) as EpisodeRecord[];
    const second = tracker();
    second.restore(stored);
    feed(second, msgs.slice(cut));
    assert.deepEqual(second.episodes({}), whole);
  });
  test('records handed out are copies: later ingest does not change them', () => {
    const s = new PumpScript('PW-R', T0).start().run(60);
    const t = feed(tracker(), s.out);
    const rec = t.takeChanged().find((r) => r.kind === 'episode');
    const before = JSON.stringify(rec);
    feed(t, s.run(60).out.slice(-60));
    assert.equal(JSON.stringify(rec), before);
  });
  test('damaged records are refused and counted, the rest restored', () => {
    const t = feed(tracker(), captureMessages('early-end-19h.log'));
    const recs = t.takeChanged();
    const restored = tracker();
    restored.restore([...recs, { id: 'x', pump: 'PW', version: 1, kind: 'episode', startMs: 'soon' }]);
    assert.equal(restored.episodes({}).length, 1);
    assert.equal(restored.dropped?.().bad_record, 1);
  });
  test('forgetPump drops its episodes and its cursor', () => {
    const t = feed(tracker(), captureMessages('early-end-19h.log'));
    t.forgetPump('CS7-004515');
    assert.deepEqual(t.episodes({}), []);
    assert.deepEqual(t.takeChanged(), []);
  });
});

describe('ids, queries and evidence', () => {
  test('the episode id is stable: the same record gives the same id in any tracker', () => {
    const a = feed(tracker(), captureMessages('folfox-46h-normal.log')).episodes({})[0];
    const b = feed(tracker({ continuityToleranceMin: 5 }), captureMessages('folfox-46h-normal.log')).episodes({})[0];
    assert.equal(a?.id, b?.id);
    assert.match(a?.id ?? '', /^[A-Za-z0-9._:~-]{1,200}$/);
  });
  test('evidenceRange names the raw sentences of an episode', () => {
    const t = feed(tracker(), captureMessages('folfox-46h-normal.log'));
    assert.deepEqual(t.evidenceRange('CS7-004512_20261123T090000Z_9'), {
      pump: 'CS7-004512', from: '2026-11-23T09:00:00Z', to: '2026-11-25T07:00:00Z', firstSeq: 9, lastSeq: 2771,
    });
    assert.equal(t.evidenceRange('nope'), undefined);
    assert.equal(t.episode('nope'), undefined);
    assert.equal(t.episode('CS7-004512_20261123T090000Z_9')?.code, 'S9330');
  });
  test('episodes() filters by pump and by overlap with [from, to]', () => {
    const t = tracker();
    for (const f of ['folfox-46h-normal.log', 'early-end-19h.log', 'occlusion-at-20h.log']) feed(t, captureMessages(f));
    assert.equal(t.episodes({}).length, 3);
    assert.deepEqual(t.episodes({ pump: 'CS7-004515' }).map((e) => e.pump), ['CS7-004515']);
    assert.deepEqual(t.episodes({ pump: 'NOPE' }), []);
    // early-end ends 2026-11-24T04:10Z; the others run on to the 25th
    assert.equal(t.episodes({ fromMs: Date.parse('2026-11-24T05:00:00Z') }).length, 2);
    assert.equal(t.episodes({ toMs: Date.parse('2026-11-23T09:30:00Z') }).length, 2);
    assert.deepEqual(t.episodes({ fromMs: Date.parse('2026-12-01T00:00:00Z') }), []);
  });
});
