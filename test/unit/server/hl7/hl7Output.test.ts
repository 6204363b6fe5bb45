import { Message } from 'node-hl7-client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { Alert, PumpView } from '../../../../protocol/api.ts';
import type { PumpState } from '../../../../protocol/sentence.ts';
import { EventBus } from '../../../../server/events/eventBus.ts';
import { Hl7Output, parseReceiver } from '../../../../server/hl7/hl7Output.ts';
import { obxByRef } from '../../../../server/hl7/pcdValidation.ts';

function view(pump: string, state: PumpState): PumpView {
  return {
    pump, gateway: 'gw', state, lastSeen: '2026-12-03T19:00:00Z', rateMlH: 2, infusedMl: 5, vtbiMl: 95, reservoirMl: null,
    pressureMmHg: null, batteryPct: 90, alarms: [], programId: 'p', projectedEnd: null, activeAlerts: 0,
  };
}

const occlusion: Alert = {
  id: 'A1', pump: 'P1', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
  ackedBy: null, ackedAt: null, raisedAt: '2026-12-03T19:00:00Z', clearedAt: null, message: 'Occlusion', detail: {},
};

let now = Date.parse('2026-12-03T19:00:00Z');
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function build(pumps: PumpView[]) {
  const bus = new EventBus({ error: vi.fn() });
  const sent: Message[] = [];
  const log = { child: () => log, info: vi.fn(), warn: vi.fn(), error: vi.fn() } as never;
  const out = new Hl7Output({
    receivers: [], stateDir: '/nonexistent', bus, clock: { now: () => now }, log, pumps: () => pumps,
    patientOf: (pump) => (pump === 'P1' ? { mrn: 'MRN-1', name: 'Jane', drug: 'FU' } : null),
    observationS: 60, sink: (m) => sent.push(new Message({ text: m })),
  });
  out.subscribe();
  out.start();
  return { bus, out, sent, types: () => sent.map((m) => m.get('MSH.9.2').toString()) };
}

describe('Hl7Output', () => {
  test('PCD-01 for each running pump every 60 s, none for the others', async () => {
    const { out, sent } = build([view('P1', 'RUN'), view('P2', 'PAUSE'), view('P3', 'RUN')]);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((m) => obxByRef(m, 'MDC_DEV_PUMP_INFUS_MDS')?.get('18.1').toString())).toEqual(['P1', 'P3']);
    now += 60_000;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent.length).toBe(4);
    expect(sent.every((m) => m.get('MSH.9.2').toString() === 'R01')).toBe(true);
    expect(sent[0]?.get('PID.3.1').toString()).toBe('MRN-1');
    expect(sent[1]?.get('PID.3.1').toString()).toBe('');
    // every message has its own control id
    expect(new Set(sent.map((m) => m.get('MSH.10').toString())).size).toBe(4);
    await out.stop(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sent.length).toBe(4);
  });

  test('a large fleet is reported in slices, the event loop free between them', async () => {
    const fleet = Array.from({ length: 120 }, (_, i) => view(`F${i}`, 'RUN'));
    const { sent } = build(fleet);
    await vi.advanceTimersByTimeAsync(60_000);
    // the first slice at the tick, the rest on later turns of the event loop
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(120);
    await vi.advanceTimersByTimeAsync(10);
    expect(sent.length).toBe(120);
    expect(new Set(sent.map((m) => m.get('MSH.10').toString())).size).toBe(120);
  });

  test('alert facts become PCD-04 (raise, clear, acknowledgement); infusion facts PCD-10', () => {
    const { bus, sent, types } = build([]);
    bus.emit('alertRaised', occlusion);
    bus.emit('alertCleared', { ...occlusion, status: 'cleared', clearedAt: '2026-12-03T19:01:00Z' });
    bus.emit('alertAcknowledged', { ...occlusion, status: 'cleared', acknowledged: true, ackedBy: 'ann', ackedAt: '2026-12-03T19:02:00Z' });
    bus.emit('alertChanged', occlusion);
    bus.emit('infusionStarted', { pump: 'P1', view: view('P1', 'RUN'), from: 'IDLE' });
    bus.emit('infusionStopped', { pump: 'P1', view: view('P1', 'PAUSE'), from: 'RUN' });
    bus.emit('infusionCompleted', { pump: 'P1', view: view('P1', 'END'), from: 'RUN' });
    expect(types()).toEqual(['R40', 'R40', 'R40', 'R42', 'R42', 'R42']);
    expect(sent.slice(0, 3).map((m) => obxByRef(m, 'MDC_ATTR_EVENT_PHASE')?.get('5').toString())).toEqual(['start', 'end', 'update']);
    expect(sent.slice(3).map((m) => obxByRef(m, 'MDC_ATTR_EVT_COND')?.get('5.2').toString()))
      .toEqual(['MDC_EVT_PUMP_DELIV_START', 'MDC_EVT_PUMP_DELIV_STOP', 'MDC_EVT_PUMP_DELIV_COMP']);
    expect(sent[3]?.get('PID.3.1').toString()).toBe('MRN-1');
  });
});

describe('receivers', () => {
  test('a receiver named twice is one outbox', () => {
    const log = { child: () => log, info: vi.fn(), warn: vi.fn(), error: vi.fn() } as never;
    const out = new Hl7Output({
      receivers: [{ host: 'a', port: 1 }, { host: 'b', port: 1 }, { host: 'a', port: 1 }], stateDir: '/nonexistent',
      bus: new EventBus({ error: vi.fn() }), clock: { now: () => now }, log, pumps: () => [], patientOf: () => null,
    });
    expect(out.outboxes.map((o) => o.name)).toEqual(['a:1', 'b:1']);
  });
});

describe('parseReceiver', () => {
  test('host:port, [v6]:port; anything else is null', () => {
    expect(parseReceiver('hl7.example.org:2575')).toEqual({ host: 'hl7.example.org', port: 2575 });
    expect(parseReceiver('[::1]:2575')).toEqual({ host: '::1', port: 2575 });
    for (const bad of ['host', 'host:0', 'host:70000', ':2575', 'a b:1']) expect(parseReceiver(bad)).toBeNull();
  });
});
