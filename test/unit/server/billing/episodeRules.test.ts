import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { feed, message, PumpScript, tracker } from './billingFixtures.ts';
import { encodeSentence } from '../../../../protocol/encode.ts';
import type { BillingEpisode, BillingConfig, CourseEpisode } from '../../../../server/billing/index.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const H = 60;

function episodesOf(script: PumpScript, config: Partial<BillingConfig> = {}): BillingEpisode[] {
  return feed(tracker(config), script.out).episodes({}) as BillingEpisode[];
}
function one(script: PumpScript, config: Partial<BillingConfig> = {}): BillingEpisode {
  const list = episodesOf(script, config);
  assert.equal(list.length, 1);
  return list[0] as BillingEpisode;
}

describe('24 h threshold', () => {
  test('23 h 50 min of delivery → S9331', () => {
    const e = one(new PumpScript('PW-1', T0).start().run(23 * H + 50).event('END', 'P1').set('END').status());
    assert.equal(e.deliveryHours, 23.8333);
    assert.equal(e.continuous24h, false);
    assert.equal(e.code, 'S9331');
  });
  test('24 h 05 min of delivery → S9330', () => {
    const e = one(new PumpScript('PW-1', T0).start().run(24 * H + 5).event('END', 'P1').set('END').status());
    assert.equal(e.deliveryHours, 24.0833);
    assert.equal(e.code, 'S9330');
  });
  test('one second short of 24 h reads below 24 and is S9331', () => {
    const s = new PumpScript('PW-1', T0).start().run(24 * H - 1);
    s.advance(59_000).status().event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours < 24, true);
    assert.equal(e.code, 'S9331');
  });
});

describe('continuity tolerance', () => {
  const pausedScript = (): PumpScript => new PumpScript('PW-2', T0).start().run(12 * H)
    .event('PAUSE').set('PAUSE').status().run(20).event('RESUME').set('RUN').status().run(14 * H).event('END', 'P1');
  test('a 20-min pause: tolerance 30 → S9330, tolerance 15 → S9331', () => {
    const at30 = one(pausedScript(), { continuityToleranceMin: 30 });
    assert.deepEqual(at30.interruptions.map((i) => [i.reason, i.minutes]), [['pause', 20]]);
    assert.equal(at30.deliveryHours, 26);
    assert.equal(at30.code, 'S9330');
    assert.equal(one(pausedScript(), { continuityToleranceMin: 15 }).code, 'S9331');
  });
  test('an interruption exactly as long as the tolerance still counts as continuous', () => {
    assert.equal(one(pausedScript(), { continuityToleranceMin: 20 }).code, 'S9330');
  });
  const gapScript = (): PumpScript => {
    // 20 min with no telemetry in which the pump was really stopped: the counter does not prove it
    const s = new PumpScript('PW-3', T0).start().run(12 * H);
    s.set('PAUSE').silent(20, 19).set('RUN').status();
    return s.run(14 * H).event('END', 'P1');
  };
  test('a 20-min telemetry gap the counter does not prove: unverified; tolerance 30 → S9330, 15 → S9331', () => {
    const at30 = one(gapScript(), { continuityToleranceMin: 30 });
    assert.deepEqual(at30.interruptions.map((i) => [i.reason, i.minutes]), [['telemetry_gap', 20]]);
    assert.equal(at30.unverifiedHours, 0.3333);
    assert.equal(at30.deliveryHours, 26);
    assert.equal(at30.code, 'S9330');
    assert.equal(one(gapScript(), { continuityToleranceMin: 15 }).code, 'S9331');
  });
  test('two back-to-back stops (pause then alarm) are one interruption', () => {
    const s = new PumpScript('PW-4', T0).start().run(12 * H).event('PAUSE').set('PAUSE').status().run(20)
      .event('RESUME').set('ALARM').event('ALARM_ON', 'OCCL_DN').status(['OCCL_DN']).run(20, 60)
      .event('ALARM_OFF', 'OCCL_DN').set('RUN').status().run(13 * H).event('END', 'P1');
    const e = one(s, { continuityToleranceMin: 30 });
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['pause+alarm', 40]]);
    assert.equal(e.code, 'S9331');
  });
  test('non-halting alarms (RES_LOW) do not interrupt delivery', () => {
    const s = new PumpScript('PW-5', T0).start().run(12 * H).event('ALARM_ON', 'RES_LOW').status(['RES_LOW']).run(13 * H).event('END', 'P1');
    const e = one(s);
    assert.deepEqual(e.interruptions, []);
    assert.equal(e.deliveryHours, 25);
  });
  test('a pause that is never resumed before STOP is listed as final and does not break continuity', () => {
    const s = new PumpScript('PW-6', T0).start().run(25 * H).event('PAUSE').set('PAUSE').status().run(90).event('STOP').set('IDLE').status();
    const e = one(s);
    assert.equal(e.end, new Date(T0 + (25 * H + 90) * 60_000).toISOString().replace('.000Z', 'Z'));
    assert.equal(e.interruptions.length, 1);
    assert.equal(e.interruptions[0]?.final, true);
    assert.equal(e.longestInterruptionMin, 0);
    assert.equal(e.code, 'S9330');
  });
});

describe('telemetry gaps', () => {
  test('a 3 h gap proven by the volume counter counts as delivery', () => {
    const s = new PumpScript('PW-7', T0).start().run(12 * H);
    s.silent(3 * H, 179).status().run(12 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 27);
    assert.equal(e.unverifiedHours, 0);
    assert.deepEqual(e.interruptions, []);
    assert.equal(e.code, 'S9330');
  });
  test('the same gap without the volume to prove it is unverified time and an interruption', () => {
    const s = new PumpScript('PW-7', T0).start().run(12 * H);
    s.set('PAUSE').silent(3 * H, 179).set('RUN').status().run(12 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 24);
    assert.equal(e.unverifiedHours, 3);
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['telemetry_gap', 180]]);
    assert.equal(e.code, 'S9331');
  });
  test('a gap with half the volume is not proof either', () => {
    const s = new PumpScript('PW-7', T0).start().run(12 * H);
    s.silent(90, 89).set('PAUSE').silent(90, 90).set('RUN').status().run(12 * H);
    const e = one(s);
    assert.equal(e.unverifiedHours, 3);
    assert.equal(e.deliveryHours, 24);
  });
  test('a gap that ends with END is proven by the END status of the same second', () => {
    const s = new PumpScript('PW-8', T0).start().run(24 * H);
    s.silent(2 * H, 120).event('END', 'P1').set('END').status();
    const e = one(s);
    assert.equal(e.deliveryHours, 26);
    assert.equal(e.unverifiedHours, 0);
    assert.equal(e.end, new Date(T0 + 26 * 3_600_000).toISOString().replace('.000Z', 'Z'));
  });
  test('a few lost sentences inside the status interval are proven by volume', () => {
    const s = new PumpScript('PW-9', T0).start().run(60);
    s.silent(2, 1).status().run(60);
    const e = one(s);
    assert.equal(e.deliveryHours, 2.0333);
    assert.deepEqual(e.interruptions, []);
  });
  test('an open episode silent until now: the silence is an ongoing telemetry gap, not delivery', () => {
    const s = new PumpScript('PW-10', T0).start().run(10 * H);
    const t = feed(tracker(), s.out);
    const nowMs = s.nowMs + 2 * 3_600_000;
    const [e] = t.episodes({ nowMs }) as BillingEpisode[];
    assert.ok(e);
    assert.equal(e.end, null);
    assert.equal(e.deliveryHours, 10);
    assert.equal(e.unverifiedHours, 2);
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes, i.ongoing]), [['telemetry_gap', 120, true]]);
    // without a "now" the report stops at the last sentence
    assert.deepEqual((t.episodes({}) as BillingEpisode[])[0]?.interruptions, []);
  });
  test('the status interval is learned: a pump reporting every 5 min has no gap between reports', () => {
    const e = one(new PumpScript('PW-11', T0).start().run(25 * H, 300).event('END', 'P1'));
    assert.equal(e.deliveryHours, 25);
    assert.deepEqual(e.interruptions, []);
  });
});

describe('power cycles', () => {
  test('POWER_OFF / POWER_ON mid-infusion: one episode, the off time is a power_cycle interruption', () => {
    const s = new PumpScript('PW-12', T0).start().run(12 * H).event('POWER_OFF');
    s.advance(10 * 60_000);
    s.seq = 0;
    s.event('POWER_ON', '4.2.1').set('PAUSE').status().advance(60_000).event('RESUME').set('RUN').status().run(14 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 26);
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['power_cycle+pause', 11]]);
    assert.equal(e.code, 'S9330');
    assert.equal(e.evidence.lastSeq, s.seq - 1);
  });
  test('a seq reset without POWER_OFF (battery pulled) is a power cycle, not delivery', () => {
    const s = new PumpScript('PW-13', T0).start().run(12 * H);
    s.advance(45 * 60_000);
    s.seq = 0;
    s.event('POWER_ON', '4.2.1').set('RUN').event('START', 'P1').status().run(13 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 25);
    assert.equal(e.interruptions[0]?.reason, 'power_cycle');
    assert.equal(e.interruptions[0]?.minutes, 45);
    assert.equal(e.code, 'S9331');
  });
});

describe('pump clock', () => {
  test('clock set back an hour (EVT CLOCK): no negative and no double-counted time', () => {
    const s = new PumpScript('PW-14', T0).start().run(12 * H);
    const before = new Date(s.nowMs).toISOString().replace('.000Z', 'Z');
    s.nowMs -= 3_600_000;
    s.event('CLOCK', before).status().run(13 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 25);
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['clock_change', 0]]);
    assert.equal(e.code, 'S9330');
  });
  test('clock set forward an hour (EVT CLOCK): the jump is not delivery', () => {
    const s = new PumpScript('PW-15', T0).start().run(12 * H);
    const before = new Date(s.nowMs).toISOString().replace('.000Z', 'Z');
    s.nowMs += 3_600_000;
    s.event('CLOCK', before).status().run(13 * H).event('END', 'P1');
    assert.equal(one(s).deliveryHours, 25);
  });
  test('clock set back without an event: the step back is no time', () => {
    const s = new PumpScript('PW-16', T0).start().run(12 * H);
    s.nowMs -= 3_600_000;
    s.status().run(13 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 25);
    assert.equal(e.interruptions[0]?.reason, 'clock_change');
  });
  test('an implausible jump forward (a day, no sentence missing) is not delivery', () => {
    const s = new PumpScript('PW-17', T0).start().run(12 * H);
    s.advance(60_000);
    s.nowMs += 24 * 3_600_000;
    s.status().run(11 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 23);
    assert.equal(e.code, 'S9331');
    assert.equal(e.unverifiedHours, 0);
    assert.equal(e.interruptions[0]?.reason, 'clock_change');
  });
  test('a sentence stamped more than 10 min ahead of its arrival is re-anchored on its arrival: no time gained, flagged clock', () => {
    // (before courses it was dropped as evidence only; it is now re-anchored, docs/billing.md "Pump clock")
    const s = new PumpScript('PW-18', T0).start().run(60);
    const t = feed(tracker(), s.out);
    s.advance(3_600_000);
    const ahead = s.status().out.at(-1);
    assert.ok(ahead);
    t.ingest({ ...ahead, received: new Date(T0 + 3_600_000).toISOString() });
    const [e] = t.episodes({}) as CourseEpisode[];
    assert.equal(e?.deliveryHours, 1);
    assert.equal(e?.evidence.sentences, 63);
    assert.deepEqual(e?.clockAnchors.map((a) => [a.offsetS, a.by]), [[3600, 'received']]);
    assert.ok(e?.reviewReasons.includes('clock'));
  });
});

describe('episode boundaries and input hygiene', () => {
  test('a new START for another program ends the open episode', () => {
    const s = new PumpScript('PW-19', T0).start('A').run(60).start('B').run(60).event('END', 'B');
    const list = episodesOf(s);
    assert.deepEqual(list.map((e) => [e.programId, e.endedBy, e.deliveryHours]), [['A', 'superseded', 1], ['B', 'END', 1]]);
  });
  test('STS IDLE without STOP closes the episode', () => {
    const e = one(new PumpScript('PW-20', T0).start().run(60).set('IDLE').status().run(30));
    assert.equal(e.endedBy, 'IDLE');
    assert.equal(e.deliveryHours, 1);
  });
  test('tracking that begins mid-infusion opens an episode marked startObserved=false', () => {
    const s = new PumpScript('PW-21', T0).start().run(120);
    const e = feed(tracker(), s.out.slice(10)).episodes({})[0] as BillingEpisode;
    assert.equal(e.startObserved, false);
    assert.equal(e.programId, 'unknown');
  });
  test('a repeated sentence and a late one are not counted as time twice', () => {
    const s = new PumpScript('PW-22', T0).start().run(120);
    const msgs = [...s.out];
    const t = feed(tracker(), msgs);
    const before = t.episodes({})[0];
    t.ingest(msgs.at(-1)!);
    t.ingest(msgs[50]!);
    const after = t.episodes({})[0];
    assert.equal(after?.deliveryHours, before?.deliveryHours);
    assert.deepEqual(t.dropped?.(), { duplicate: 1, late: 1 });
  });
  test('a RUN at rate 0 is not delivery', () => {
    const s = new PumpScript('PW-23', T0).start().run(60);
    s.rateMlH = 0;
    s.event('RATE', '0.00').status().run(30);
    s.rateMlH = 5;
    s.event('RATE', '5.00').status().run(60);
    const e = one(s);
    assert.equal(e.deliveryHours, 2);
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['rate_zero', 30]]);
  });
  test('raw sentences built here are valid on the wire', () => {
    const s = new PumpScript('PW-24', T0).start();
    for (const m of s.out) assert.equal(message(m.raw).raw, encodeSentence(m));
  });
});

describe('more power and silence cases', () => {
  test('POWER_ON lost: a seq behind with a later time is still a power cycle', () => {
    const s = new PumpScript('PW-30', T0).start().run(12 * H);
    s.advance(30 * 60_000);
    s.seq = 1; // the POWER_ON (seq 0) never arrived
    s.set('RUN').event('START', 'P1').status().run(13 * H).event('END', 'P1');
    const e = one(s);
    assert.equal(e.deliveryHours, 25);
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['power_cycle', 30]]);
  });
  test('an open episode paused until now: the pause grows with now and counts for continuity', () => {
    const s = new PumpScript('PW-31', T0).start().run(25 * H).event('PAUSE').set('PAUSE').status();
    const t = feed(tracker(), s.out);
    const [e] = t.episodes({ nowMs: s.nowMs + 45 * 60_000 }) as BillingEpisode[];
    assert.deepEqual(e?.interruptions.map((i) => [i.reason, i.minutes, i.ongoing]), [['pause', 45, true]]);
    assert.equal(e?.code, 'S9331');
    assert.equal(e?.unverifiedHours, 0);
  });
  test('replaying the record (old POWER_ON included) after a restore adds no time', () => {
    const s = new PumpScript('PW-32', T0).event('POWER_ON', '4.2.1').start().run(120);
    const t = feed(tracker(), s.out);
    const [before] = t.episodes({});
    const again = tracker();
    again.restore(t.takeChanged());
    feed(again, s.out);
    const [after] = again.episodes({});
    assert.equal(after?.deliveryHours, before?.deliveryHours);
    assert.deepEqual(after?.interruptions, before?.interruptions);
    assert.equal(after?.id, before?.id);
    assert.equal(again.dropped?.().duplicate, 1);
    assert.equal(again.dropped?.().late, s.out.length - 1);
  });
});

describe('silence is measured on the arrival clock', () => {
  test('a pump clock 20 min behind does not fake a gap; real silence still shows', () => {
    const s = new PumpScript('PW-40', T0).start().run(60);
    const lag = 20 * 60_000;
    const t = tracker();
    for (const m of s.out) t.ingest({ ...m, received: new Date(Date.parse(m.time) + lag).toISOString() });
    const lastArrival = Date.parse(s.out.at(-1)!.time) + lag;
    assert.deepEqual(t.episodes({ nowMs: lastArrival + 30_000 })[0]?.interruptions, []);
    const [e] = t.episodes({ nowMs: lastArrival + 3_600_000 }) as BillingEpisode[];
    assert.deepEqual(e?.interruptions.map((i) => [i.reason, i.minutes, i.to]), [['telemetry_gap', 60, '2026-11-23T11:00:00Z']]);
  });
});

describe('stalls (RUN with the counter standing still)', () => {
  test('a slow pump whose counter moves every few minutes is not stalled', () => {
    const s = new PumpScript('PW-50', T0, 0.5).start().run(10 * H);
    assert.equal(one(s).stalledMinutes, 0);
  });
  test('RUN with the counter frozen for 45 min at 5 mL/h: 45 stalled minutes, still counted as RUN', () => {
    const s = new PumpScript('PW-51', T0).start().run(60);
    s.rateMlH = 5;
    const frozen = s.vi;
    for (let i = 0; i < 45; i++) {
      s.advance(60_000);
      s.vi = frozen;
      s.status();
    }
    s.run(60);
    const e = one(s);
    assert.equal(e.stalledMinutes, 45);
    assert.equal(e.deliveryHours, 2.75);
  });
});
