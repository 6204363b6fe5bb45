import { describe, expect, test, vi } from 'vitest';
import type { Alert } from '../../../../protocol/api.ts';
import { AlertFacts } from '../../../../server/core/alertFacts.ts';
import { EventBus } from '../../../../server/events/eventBus.ts';
import type { FactName } from '../../../../server/events/facts.ts';

const ALERT_FACTS: FactName[] = ['alertChanged', 'alertRaised', 'alertCleared', 'alertAcknowledged', 'alertEscalated'];

function alert(patch: Partial<Alert> = {}): Alert {
  return {
    id: 'P1-occlusion', pump: 'P1', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active',
    acknowledged: false, ackedBy: null, ackedAt: null, raisedAt: '2026-11-24T09:00:00Z', clearedAt: null,
    message: 'Occlusion', detail: {}, ...patch,
  };
}

function watch() {
  const bus = new EventBus({ error: vi.fn() });
  const seen: string[] = [];
  for (const name of ALERT_FACTS) bus.on(name, () => seen.push(name));
  return { facts: new AlertFacts(bus), seen };
}

describe('AlertFacts', () => {
  test('a life: raised, escalated, acknowledged, cleared; each transition once, every change as alertChanged', () => {
    const { facts, seen } = watch();
    facts.publish(alert());
    facts.publish(alert({ detail: { pressureMmHg: 410 } }));
    facts.publish(alert({ escalated: true }));
    facts.publish(alert({ escalated: true, acknowledged: true, ackedBy: 'ann' }));
    facts.publish(alert({ escalated: true, acknowledged: true, ackedBy: 'ann', status: 'cleared' }));
    expect(seen).toEqual([
      'alertChanged', 'alertRaised',
      'alertChanged',
      'alertChanged', 'alertEscalated',
      'alertChanged', 'alertAcknowledged',
      'alertChanged', 'alertCleared',
    ]);
    expect(facts.size).toBe(0);
  });

  test('an alert restored from storage is not raised again by its next change', () => {
    const { facts, seen } = watch();
    facts.restored(alert());
    facts.publish(alert({ status: 'cleared' }));
    expect(seen).toEqual(['alertChanged', 'alertCleared']);
  });

  test('raised again after it cleared: raised again; forgetting its pump forgets it', () => {
    const { facts, seen } = watch();
    facts.publish(alert());
    facts.publish(alert({ status: 'cleared' }));
    facts.publish(alert());
    expect(seen.filter((f) => f === 'alertRaised')).toHaveLength(2);
    facts.forgetPump('P1');
    expect(facts.size).toBe(0);
  });
});
