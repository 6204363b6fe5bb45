/** The metric table of docs/server.md, generated from the catalogue (`npm run docs` rewrites it). */
import { DEFAULT_METRICS_PREFIX, METRICS, type MetricPresence } from './catalogue.ts';

export const DOC_BEGIN = '<!-- metrics table: generated from server/metrics/catalogue.ts -->';
export const DOC_END = '<!-- end of metrics table -->';

const PRESENCE: Record<MetricPresence, string> = {
  always: 'always',
  relay: 'with `CLUSTER_RELAY`',
  handover: 'with `SHARD`, `MQTT_SHARED_GROUP` or `CLUSTER_MODE`',
  hl7: 'with `HL7_MLLP_TARGETS`',
  lease: 'with `CLUSTER_MODE`',
  paging: 'with `DATABASE_URL`',
};

export function metricsTable(): string {
  const rows = Object.values(METRICS).map((m) => {
    const label = 'label' in m ? `\`${m.label}\`` : '';
    return `| \`${m.name}\` | ${m.type} | ${label} | ${PRESENCE[m.presence]} | ${m.help.replace(/\|/g, '\\|')} |`;
  });
  return [
    '| metric | type | label | exposed | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Plus prom-client's process and Node.js metrics, prefixed \`${DEFAULT_METRICS_PREFIX}\`: \`${DEFAULT_METRICS_PREFIX}process_cpu_seconds_total\`,`,
    `\`${DEFAULT_METRICS_PREFIX}process_resident_memory_bytes\`, \`${DEFAULT_METRICS_PREFIX}nodejs_heap_size_used_bytes\`, \`${DEFAULT_METRICS_PREFIX}nodejs_eventloop_lag_seconds\`,`,
    `\`${DEFAULT_METRICS_PREFIX}nodejs_gc_duration_seconds\` and the rest of its default set.`,
  ].join('\n');
}

/** `doc` with the text between the markers replaced by the current table; throws when a marker is missing */
export function withMetricsTable(doc: string): string {
  const begin = doc.indexOf(DOC_BEGIN);
  const end = doc.indexOf(DOC_END);
  if (begin < 0 || end < begin) throw new Error(`docs/server.md: markers "${DOC_BEGIN}" … "${DOC_END}" not found`);
  return `${doc.slice(0, begin + DOC_BEGIN.length)}\n${metricsTable()}\n${doc.slice(end)}`;
}
