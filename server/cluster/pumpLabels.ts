/**
 * Nurse-facing pump labels (`PUT /api/pumps/:pump/label`; no patient names). Kept in memory, stored
 * in InfluxDB (`pump_label`, read back at start) and, with the cluster relay on, retained on the
 * broker under pumpwatch/_server/labels/<pump> so every instance shows the same label. The label is
 * laid over whatever pump view the backend gives, whether this instance or another one holds the pump.
 */
import type { PumpView } from '../../protocol/api.ts';
import type { ApiBackend, LiveChange } from '../http/backend.ts';
import { CLUSTER_ROOT } from './clusterMessages.ts';

const LABELS_ROOT = `${CLUSTER_ROOT}/labels/`;

export interface PumpLabelsOptions {
  /** this instance's id, so it ignores its own label messages coming back from the broker */
  instanceId: string;
  /** stores one change (the storage writer's queue, which retries while InfluxDB is down) */
  persist(pump: string, label: string | null): void;
  /** publishes retained on the broker when instances share their views, or does nothing */
  publish(topic: string, payload: string): void;
  /** a label message from the broker that is not a well-formed one (counted and logged by the caller) */
  dropped(topic: string): void;
}

export class PumpLabels {
  private readonly labels = new Map<string, string>();
  private readonly listeners = new Set<(pump: string) => void>();

  constructor(private readonly o: PumpLabelsOptions) {}

  get(pump: string): string | null {
    return this.labels.get(pump) ?? null;
  }

  apply(view: PumpView): PumpView {
    return { ...view, label: this.get(view.pump) };
  }

  /** what storage held at start; a label already set (from the broker) is newer and stays */
  load(stored: ReadonlyMap<string, string | null>): void {
    for (const [pump, label] of stored) {
      if (label !== null && !this.labels.has(pump)) this.labels.set(pump, label);
    }
  }

  /** a nurse changed it here: stored, told to the other instances and to every WebSocket client */
  set(pump: string, label: string | null): void {
    this.change(pump, label);
    this.o.persist(pump, label);
    this.o.publish(`${LABELS_ROOT}${pump}`, JSON.stringify({ v: 1, instance: this.o.instanceId, label }));
  }

  /** true for a label message; it has been handled (applied, ignored as this instance's own, or dropped) */
  handleMessage(topic: string, payload: Buffer): boolean {
    if (!topic.startsWith(LABELS_ROOT)) return false;
    const pump = topic.slice(LABELS_ROOT.length);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      body = null;
    }
    const b = body as { v?: unknown; instance?: unknown; label?: unknown } | null;
    const wellFormed = /^[A-Z0-9-]{3,20}$/.test(pump) && b !== null && typeof b === 'object' && b.v === 1 &&
      typeof b.instance === 'string' && (b.label === null || (typeof b.label === 'string' && b.label.length > 0 && b.label.length <= 60));
    if (!wellFormed) this.o.dropped(topic);
    else if (b.instance !== this.o.instanceId) this.change(pump, b.label as string | null);
    return true;
  }

  onChange(listener: (pump: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private change(pump: string, label: string | null): void {
    if (label === null) this.labels.delete(pump);
    else this.labels.set(pump, label);
    for (const l of this.listeners) l(pump);
  }
}

/** The backend with labels on every pump view, live changes included, and the label route's method. */
export function withPumpLabels(base: ApiBackend, labels: PumpLabels): ApiBackend {
  const setVisit = base.setPumpVisit?.bind(base);
  const labelled = (changes: readonly LiveChange[]): LiveChange[] =>
    changes.map((c) => (c.type === 'pump' ? { type: 'pump', pump: labels.apply(c.pump) } : c));
  return {
    ...base,
    async pumps() {
      return (await base.pumps()).map((p) => labels.apply(p));
    },
    async pump(serial) {
      const p = await base.pump(serial);
      return p && labels.apply(p);
    },
    async snapshot() {
      const s = await base.snapshot();
      return { ...s, pumps: s.pumps.map((p) => labels.apply(p)) };
    },
    subscribe(listener) {
      const offBase = base.subscribe((changes) => listener(labelled(changes)));
      const offLabels = labels.onChange((serial) => {
        void base.pump(serial).then((p) => {
          if (p) listener([{ type: 'pump', pump: labels.apply(p) }]);
        }, () => undefined);
      });
      return () => {
        offBase();
        offLabels();
      };
    },
    async setPumpLabel(serial, label) {
      const p = await base.pump(serial);
      if (!p) return undefined;
      labels.set(serial, label);
      return labels.apply(p);
    },
    ...(setVisit ? {
      async setPumpVisit(serial: string, minutes: number | null, by: string) {
        const p = await setVisit(serial, minutes, by);
        return p && labels.apply(p);
      },
    } : {}),
  };
}
