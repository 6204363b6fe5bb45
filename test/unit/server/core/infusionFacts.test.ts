import { describe, expect, test, vi } from 'vitest';
import type { PumpView } from '../../../../protocol/api.ts';
import type { PumpState } from '../../../../protocol/sentence.ts';
import { InfusionFacts } from '../../../../server/core/infusionFacts.ts';
import { EventBus } from '../../../../server/events/eventBus.ts';

function view(pump: string, state: PumpState | null, vtbiMl: number | null = 50): PumpView {
  return {
    pump, gateway: 'gw', state, lastSeen: null, rateMlH: 2, infusedMl: 10, vtbiMl, reservoirMl: null, pressureMmHg: null,
    batteryPct: 90, alarms: [], programId: 'p', projectedEnd: null, activeAlerts: 0,
  };
}

function watch(listen = true) {
  const bus = new EventBus({ error: vi.fn() });
  const seen: string[] = [];
  if (listen) {
    bus.on('infusionStarted', (f) => seen.push(`start ${f.pump} from ${f.from}`));
    bus.on('infusionStopped', (f) => seen.push(`stop ${f.pump} ${f.view.state}`));
    bus.on('infusionCompleted', (f) => seen.push(`complete ${f.pump} ${f.view.state}`));
  }
  return { bus, facts: new InfusionFacts(bus, 5), seen };
}

describe('InfusionFacts', () => {
  test('start, pause, resume, alarm, end: one fact per transition into or out of RUN', () => {
    const { facts, seen } = watch();
    facts.publish([view('P1', 'IDLE')]);
    facts.publish([view('P1', 'RUN')]);
    facts.publish([view('P1', 'RUN')]);
    facts.publish([view('P1', 'PAUSE')]);
    facts.publish([view('P1', 'RUN')]);
    facts.publish([view('P1', 'ALARM')]);
    facts.publish([view('P1', 'RUN')]);
    facts.publish([view('P1', 'END', 0)]);
    expect(seen).toEqual([
      'start P1 from IDLE', 'stop P1 PAUSE', 'start P1 from PAUSE', 'stop P1 ALARM', 'start P1 from ALARM', 'complete P1 END',
    ]);
  });

  test('a STOP (IDLE) is complete with no more than the residual left, stopped with more or unknown', () => {
    const { facts, seen } = watch();
    for (const [pump, left] of [['A', 4], ['B', 40], ['C', null]] as const) {
      facts.publish([view(pump, 'RUN')]);
      facts.publish([view(pump, 'IDLE', left)]);
    }
    expect(seen.filter((s) => !s.startsWith('start'))).toEqual(['complete A IDLE', 'stop B IDLE', 'stop C IDLE']);
  });

  test('a pump first heard running starts; a restored running pump does not start again', () => {
    const { facts, seen } = watch();
    facts.seed([view('R', 'RUN')]);
    facts.publish([view('N', 'RUN'), view('R', 'RUN')]);
    expect(seen).toEqual(['start N from null']);
  });

  test('nothing is derived or remembered while nobody listens', () => {
    const { bus, facts, seen } = watch(false);
    facts.publish([view('P1', 'RUN')]);
    bus.on('infusionStopped', (f) => seen.push(`stop ${f.pump}`));
    facts.publish([view('P1', 'PAUSE')]);
    // RUN was never recorded: the pump is new to the listener, and PAUSE is no transition out of a known RUN
    expect(seen).toEqual([]);
  });
});
