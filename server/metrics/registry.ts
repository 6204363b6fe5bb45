/**
 * One prom-client registry per server (never the global one, so servers built side by side in
 * one process do not collide), and the way its metrics are read: each metric reads the plain
 * counter or state it reports when /metrics is scraped, so the hot ingest path pays nothing.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { DEFAULT_METRICS_PREFIX, type MetricSpec } from './catalogue.ts';

export type { Registry } from 'prom-client';

/**
 * prom-client's default set has gauges named *_total: they break the counter naming rule (promtool
 * lint), and the same figures are there by type in nodejs_active_handles/requests/resources.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** a registry with the process and Node.js metrics (CPU, memory, heap, event loop lag, GC) */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(`${DEFAULT_METRICS_PREFIX}${name}`);
  return registry;
}

type Spec<T extends MetricSpec['type']> = MetricSpec & { type: T };

/** a counter whose value is `read()` at scrape time (a count kept by its owner, never decreasing) */
export function exposeCounter(registry: Registry, spec: Spec<'counter'> & { label?: undefined }, read: () => number): void {
  new Counter({
    name: spec.name, help: spec.help, registers: [registry],
    collect() {
      this.reset();
      this.inc(finite(read()));
    },
  });
}

/** a gauge whose value is `read()` at scrape time */
export function exposeGauge(registry: Registry, spec: Spec<'gauge'> & { label?: undefined }, read: () => number): void {
  new Gauge({
    name: spec.name, help: spec.help, registers: [registry],
    collect() {
      const v = read();
      this.set(Number.isFinite(v) ? v : 0);
    },
  });
}

/** a counter with one label: every value in `values` is reported, at 0 until it first counts */
export function exposeCounterByLabel<V extends string>(
  registry: Registry, spec: Spec<'counter'> & { label: string }, values: readonly V[], read: (value: V) => number,
): void {
  const label = spec.label;
  new Counter({
    name: spec.name, help: spec.help, labelNames: [label], registers: [registry],
    collect() {
      this.reset();
      for (const v of values) this.inc({ [label]: v }, finite(read(v)));
    },
  });
}

/** a count that is not a number yet (or ever) reads as 0 rather than failing the scrape */
const finite = (n: number): number => (Number.isFinite(n) && n > 0 ? n : 0);
