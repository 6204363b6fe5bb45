/** AlertStore.escalate: medium alerts escalate too (they start paging then); high as before; low never. */
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { AlertStore, type Stamp } from '../../../../server/alerts/alertStore.ts';
import { resolveDetectionConfig } from '../../../../server/thresholds/detectionConfig.ts';

const T0 = Date.parse('2026-12-05T08:00:00Z');
const at = (ms: number): Stamp => ({ ms, clock: 'server', iso: new Date(ms).toISOString(), idMs: ms, serverMs: ms, historic: false });

describe('escalation of unacknowledged alerts', () => {
  test('high, medium and low alerts: the first two escalate once after escalateAfterS, low never', () => {
    const store = new AlertStore(resolveDetectionConfig({ escalateAfterS: 600 }));
    const high = store.raise('CS7-700001', 'gw', 'occlusion', at(T0), 'occluded', {});
    const medium = store.raise('CS7-700001', 'gw', 'low_reservoir', at(T0), 'low', {});
    const low = store.raise('CS7-700001', 'gw', 'clock_error', at(T0), 'clock', {});
    store.takeChanges();
    store.escalate(T0 + 599_000);
    assert.deepEqual(store.takeChanges(), []);
    store.escalate(T0 + 600_000);
    const escalated = store.takeChanges();
    assert.deepEqual(escalated.map((a) => a.id).sort(), [high.alert.id, medium.alert.id].sort());
    assert.ok(escalated.every((a) => a.escalated === true));
    store.escalate(T0 + 1_200_000);
    assert.deepEqual(store.takeChanges(), [], 'once only');
    assert.equal(store.get(low.alert.id)?.escalated, undefined);
  });

  test('an acknowledged medium alert does not escalate', () => {
    const store = new AlertStore(resolveDetectionConfig({ escalateAfterS: 600 }));
    const medium = store.raise('CS7-700002', 'gw', 'signal_lost', at(T0), 'silent', {});
    store.acknowledge(medium.alert.id, 'nurse.kim', T0 + 1000);
    store.takeChanges();
    store.escalate(T0 + 700_000);
    assert.deepEqual(store.takeChanges(), []);
  });
});
