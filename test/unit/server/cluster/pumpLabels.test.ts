import { describe, expect, test } from 'vitest';
import type { Alert, PumpView } from '../../../../protocol/api.ts';
import type { ApiBackend, LiveChange } from '../../../../server/http/backend.ts';
import { PumpLabels, withPumpLabels } from '../../../../server/cluster/pumpLabels.ts';

const view = (pump: string): PumpView => ({ pump, gateway: 'home-1', state: 'RUN', alarms: [] } as unknown as PumpView);

function setup(instanceId = 'a') {
  const persisted: [string, string | null][] = [];
  const published: [string, string][] = [];
  const dropped: string[] = [];
  const labels = new PumpLabels({
    instanceId, persist: (p, l) => persisted.push([p, l]), publish: (t, m) => published.push([t, m]), dropped: (t) => dropped.push(t),
  });
  const listeners = new Set<(c: readonly LiveChange[]) => void>();
  const pumps = new Map([['CS7-1', view('CS7-1')], ['CS7-2', view('CS7-2')]]);
  const base = {
    pumps: () => Promise.resolve([...pumps.values()]),
    pump: (s: string) => Promise.resolve(pumps.get(s)),
    snapshot: () => Promise.resolve({ pumps: [...pumps.values()], alerts: [] as Alert[] }),
    subscribe: (l: (c: readonly LiveChange[]) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as ApiBackend;
  return { labels, backend: withPumpLabels(base, labels), persisted, published, dropped, listeners };
}

describe('pump labels', () => {
  test('a label set through the backend is stored, published retained-ready, on every view and pushed live', async () => {
    const { backend, persisted, published } = setup();
    const seen: LiveChange[] = [];
    backend.subscribe((c) => seen.push(...c));
    expect(await backend.setPumpLabel!('CS7-1', 'Round B')).toMatchObject({ pump: 'CS7-1', label: 'Round B' });
    expect(persisted).toEqual([['CS7-1', 'Round B']]);
    expect(published).toEqual([['pumpwatch/_server/labels/CS7-1', '{"v":1,"instance":"a","label":"Round B"}']]);
    expect((await backend.pumps()).map((p) => p.label)).toEqual(['Round B', null]);
    expect((await backend.snapshot()).pumps[0]?.label).toBe('Round B');
    await expect.poll(() => seen).toEqual([{ type: 'pump', pump: { ...view('CS7-1'), label: 'Round B' } }]);
  });

  test('an unknown pump is not labelled (404 at the route)', async () => {
    const { backend, persisted } = setup();
    expect(await backend.setPumpLabel!('CS7-9', 'x')).toBeUndefined();
    expect(persisted).toEqual([]);
  });

  test('live pump changes from the core carry the label', () => {
    const { labels, backend, listeners } = setup();
    labels.load(new Map([['CS7-2', 'Bed 2'], ['CS7-1', null]]));
    const seen: LiveChange[] = [];
    backend.subscribe((c) => seen.push(...c));
    for (const l of listeners) l([{ type: 'pump', pump: view('CS7-2') }]);
    expect(seen).toEqual([{ type: 'pump', pump: { ...view('CS7-2'), label: 'Bed 2' } }]);
  });

  test('another instance\'s label message applies; this instance\'s own is ignored; a malformed one is dropped', () => {
    const { labels, dropped } = setup('a');
    const msg = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
    expect(labels.handleMessage('pumpwatch/_server/labels/CS7-1', msg({ v: 1, instance: 'b', label: 'From b' }))).toBe(true);
    expect(labels.get('CS7-1')).toBe('From b');
    labels.handleMessage('pumpwatch/_server/labels/CS7-1', msg({ v: 1, instance: 'a', label: 'Echo' }));
    expect(labels.get('CS7-1')).toBe('From b');
    labels.handleMessage('pumpwatch/_server/labels/CS7-1', msg({ v: 1, instance: 'b', label: null }));
    expect(labels.get('CS7-1')).toBeNull();
    labels.handleMessage('pumpwatch/_server/labels/CS7-1', Buffer.from('not json'));
    labels.handleMessage('pumpwatch/_server/labels/bad serial', msg({ v: 1, instance: 'b', label: 'x' }));
    labels.handleMessage('pumpwatch/_server/labels/CS7-1', msg({ v: 1, instance: 'b', label: 'x'.repeat(61) }));
    expect(dropped).toHaveLength(3);
    expect(labels.handleMessage('pumpwatch/_server/pumps/CS7-1', msg({}))).toBe(false);
  });

  test('a label already set from the broker is newer than what storage held at start', () => {
    const { labels } = setup();
    labels.handleMessage('pumpwatch/_server/labels/CS7-1', Buffer.from('{"v":1,"instance":"b","label":"New"}'));
    labels.load(new Map([['CS7-1', 'Old'], ['CS7-2', 'Stored']]));
    expect([labels.get('CS7-1'), labels.get('CS7-2')]).toEqual(['New', 'Stored']);
  });
});
