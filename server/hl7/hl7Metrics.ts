/** The HL7 output's metrics on /metrics: per receiver backlog, sent, errors and parked messages. */
import { Gauge } from 'prom-client';
import { METRICS } from '../metrics/catalogue.ts';
import { exposeCounterByLabel, type Registry } from '../metrics/registry.ts';
import type { Hl7Output } from './hl7Output.ts';

export function registerHl7Metrics(registry: Registry, output: Hl7Output): void {
  const byName = new Map(output.outboxes.map((ob) => [ob.name, ob]));
  const names = [...byName.keys()];
  const spec = METRICS.hl7Backlog;
  new Gauge({
    name: spec.name, help: spec.help, labelNames: [spec.label], registers: [registry],
    collect() {
      this.reset();
      for (const [name, ob] of byName) this.set({ [spec.label]: name }, ob.backlog);
    },
  });
  exposeCounterByLabel(registry, METRICS.hl7Sent, names, (n) => byName.get(n)?.sent ?? 0);
  exposeCounterByLabel(registry, METRICS.hl7Errors, names, (n) => byName.get(n)?.errors ?? 0);
  exposeCounterByLabel(registry, METRICS.hl7Parked, names, (n) => byName.get(n)?.parked ?? 0);
}
