/** A STOP (or a halt) with no more than COMPLETE_RESIDUAL_ML left is a completed infusion, not infusion_stopped. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from '../../../../server/engine/index.ts';
import { byType, ids, PumpFeed, replay } from '../engine/feed.ts';
import type { PumpMessage } from '../../../../protocol/payloads.ts';

/** 46 h at 5 mL/h (230 mL), stopped at the visit with `leftMl` still in the program, then idle for 30 min */
function stoppedAtVisit(serial: string, leftMl: number): PumpMessage[] {
  const f = new PumpFeed(serial, '2026-12-03T08:00:00Z');
  const msgs = [...f.start('P1', 5, 230, 46), ...f.run(5)];
  // the pump's last status before the visit: what is left of the program
  f.advance(60);
  msgs.push(f.sts({ infusedMl: 230 - leftMl, vtbiMl: leftMl }));
  msgs.push(f.advance(30).evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }), ...f.hold(30));
  return msgs;
}

describe('completed infusion (COMPLETE_RESIDUAL_ML)', () => {
  test('the default is 5 mL', () => {
    assert.equal(DEFAULT_DETECTION_CONFIG.completeResidualMl, 5);
  });

  test('STOP with 2.6 mL left: completed, no infusion_stopped after the grace', () => {
    const changes = replay(createDetectionEngine(), stoppedAtVisit('CS7-310001', 2.6));
    assert.deepEqual(byType(changes, 'infusion_stopped'), []);
  });

  test('STOP with exactly the residual left is still complete', () => {
    const changes = replay(createDetectionEngine(), stoppedAtVisit('CS7-310002', 5));
    assert.deepEqual(byType(changes, 'infusion_stopped'), []);
  });

  test('negative twin: STOP with 20 mL left raises infusion_stopped after the grace', () => {
    const stopped = byType(replay(createDetectionEngine(), stoppedAtVisit('CS7-310003', 20)), 'infusion_stopped');
    assert.equal(ids(stopped).length, 1);
    assert.equal(stopped[0]!.detail.reason, 'stopped');
    assert.equal(stopped[0]!.detail.volumeLeftMl, 20);
  });

  test('the residual is configurable: 1 mL makes 2.6 mL left a stopped infusion', () => {
    const stopped = byType(replay(createDetectionEngine({ completeResidualMl: 1 }), stoppedAtVisit('CS7-310004', 2.6)), 'infusion_stopped');
    assert.equal(ids(stopped).length, 1);
    assert.equal(stopped[0]!.detail.volumeLeftMl, 2.6);
  });

  test('a completed STOP short of 24 h reads as finished, not as stopped with mL not given', () => {
    const f = new PumpFeed('CS7-310005', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(60)];
    msgs.push(f.advance(60).sts({ infusedMl: 227, vtbiMl: 3 }), f.advance(10).evt('STOP'), f.sts({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }));
    const short = byType(replay(createDetectionEngine(), msgs), 'delivery_below_24h').filter((a) => a.detail.projected === false);
    assert.equal(short.length, 1);
    assert.equal(short[0]!.detail.how, 'end');
    assert.match(short[0]!.message, /finished after/);
  });

  test('a pump halted with no more than the residual left (reservoir empty at the end) is not infusion_stopped', () => {
    const f = new PumpFeed('CS7-310006', '2026-12-03T08:00:00Z');
    const msgs = [...f.start('P1', 5, 230, 46), ...f.run(5)];
    msgs.push(f.advance(60).sts({ infusedMl: 226, vtbiMl: 4 }));
    msgs.push(f.evt('PAUSE'), f.sts({ state: 'PAUSE' }), ...f.hold(30));
    assert.deepEqual(byType(replay(createDetectionEngine(), msgs), 'infusion_stopped'), []);
  });
});
