/** The same program started again continues its episode; another program, or one that ended, starts a new one. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { feed, message, PumpScript, tracker } from './billingFixtures.ts';
import { encodeSentence } from '../../../../protocol/encode.ts';
import type { BillingEpisode, EpisodeRecord } from '../../../../server/billing/index.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');
const H = 60;

const episodes = (s: PumpScript): BillingEpisode[] => feed(tracker(), s.out).episodes({}) as BillingEpisode[];
const stop = (s: PumpScript): PumpScript => s.event('STOP').set('IDLE').status();

describe('a START of the same program', () => {
  test('after a pause: one episode, the pause an interruption', () => {
    const s = new PumpScript('PW-R1', T0).start().run(20 * H).event('PAUSE').set('PAUSE').status().run(10);
    s.event('START', 'P1').set('RUN').status().run(10 * H).event('END', 'P1').set('END').status();
    const list = episodes(s);
    assert.equal(list.length, 1);
    assert.equal(list[0]!.deliveryHours, 30);
    assert.deepEqual(list[0]!.interruptions.map((i) => [i.reason, i.minutes]), [['pause', 10]]);
  });

  test('after a STOP with volume left: the episode is reopened, the stopped time an interruption', () => {
    const s = stop(new PumpScript('PW-R2', T0).start().run(20 * H)).run(10);
    s.start('P1').run(10 * H).event('END', 'P1').set('END').status();
    const list = episodes(s);
    assert.equal(list.length, 1);
    const e = list[0]!;
    assert.equal(e.deliveryHours, 30);
    assert.equal(e.id, 'PW-R2_20261123T090000Z_1');
    assert.equal(e.endedBy, 'END');
    assert.equal(e.start, '2026-11-23T09:00:00Z');
    assert.deepEqual(e.interruptions.map((i) => [i.reason, i.minutes]), [['pause', 10]]);
    assert.equal(e.code, 'S9330');
  });

  test('while stopped the episode reads as ended; the record restored in between gives the same result', () => {
    const s = stop(new PumpScript('PW-R3', T0).start().run(20 * H)).run(10);
    const cut = s.out.length;
    s.start('P1').run(10 * H).event('END', 'P1').set('END').status();
    const first = feed(tracker(), s.out.slice(0, cut));
    assert.equal((first.episodes({}) as BillingEpisode[])[0]!.endedBy, 'STOP');
    const second = tracker();
    second.restore(JSON.parse(JSON.stringify(first.takeChanged())) as EpisodeRecord[]);
    assert.deepEqual(feed(second, s.out.slice(cut)).episodes({}), episodes(s));
    assert.equal(episodes(s).length, 1);
  });
});

describe('negative twins: a new episode', () => {
  test('START of another program after a STOP', () => {
    const s = stop(new PumpScript('PW-N1', T0).start().run(20 * H)).run(10);
    s.start('P2').run(10 * H);
    assert.deepEqual(episodes(s).map((e) => [e.programId, e.deliveryHours, e.endedBy]), [['P1', 20, 'STOP'], ['P2', 10, null]]);
  });

  test('the same program after END', () => {
    const s = new PumpScript('PW-N2', T0).start().run(20 * H).event('END', 'P1').set('END').status().run(10);
    s.start('P1').run(10 * H);
    assert.deepEqual(episodes(s).map((e) => e.deliveryHours), [20, 10]);
  });

  test('the same program after a STOP with nothing left', () => {
    const s = stop(new PumpScript('PW-N3', T0, 5, 100).start().run(20 * H)).run(10);
    s.start('P1').run(H);
    assert.deepEqual(episodes(s).map((e) => e.deliveryHours), [20, 1]);
  });

  test('the same program after a STOP and another program loaded in between', () => {
    const s = stop(new PumpScript('PW-N4', T0).start().run(20 * H)).run(10);
    const prg = { type: 'program' as const, pump: s.pump, seq: s.seq, time: '2026-11-24T05:10:00Z', programId: 'P2', drug: 'X', rateMlH: 5, volumeMl: 100, hours: 20 };
    s.out.push(message(encodeSentence(prg)));
    s.seq++;
    s.start('P1').run(H);
    assert.deepEqual(episodes(s).map((e) => [e.programId, e.deliveryHours]), [['P1', 20], ['P1', 1]]);
  });
});
