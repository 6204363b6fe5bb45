/** Prometheus text exposition (version 0.0.4) of the core's counters and gauges. */
export interface MetricsInput {
  ingestRatePerS: number;
  accepted: number;
  duplicates: number;
  notMine: number;
  drops: Record<string, number>;
  writeBacklog: number;
  journalBytes: number;
  writtenPoints: number;
  writeFailures: number;
  heldBack: number;
  pumps: number;
  openAlerts: number;
  staleSentences: number;
  clockAheadSentences: number;
  historicSentences: number;
  mqttUp: boolean;
  influxUp: boolean;
}

function line(name: string, help: string, type: 'counter' | 'gauge', value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${Number.isFinite(value) ? value : 0}\n`;
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function metricsText(m: MetricsInput): string {
  let out = '';
  out += line('pumpwatch_ingest_rate', 'accepted pump messages per second, last 10 s', 'gauge', m.ingestRatePerS);
  out += line('pumpwatch_ingest_accepted_total', 'pump messages accepted (valid, new)', 'counter', m.accepted);
  out += line('pumpwatch_ingest_duplicates_total', 'pump messages dropped as already seen', 'counter', m.duplicates);
  out += line('pumpwatch_ingest_other_shard_total', 'pump messages left to another instance (SHARD)', 'counter', m.notMine);
  out += '# HELP pumpwatch_ingest_dropped_total messages dropped, by reason\n# TYPE pumpwatch_ingest_dropped_total counter\n';
  for (const [reason, n] of Object.entries(m.drops).sort()) out += `pumpwatch_ingest_dropped_total{reason="${escapeLabel(reason)}"} ${n}\n`;
  out += line('pumpwatch_ingest_held_back_total', 'times a PUBACK waited because the journal was full', 'counter', m.heldBack);
  out += line('pumpwatch_storage_backlog', 'journal entries and derived points not yet in InfluxDB', 'gauge', m.writeBacklog);
  out += line('pumpwatch_journal_bytes', 'bytes of ingest journal segment files on disk', 'gauge', m.journalBytes);
  out += line('pumpwatch_storage_points_written_total', 'points written to InfluxDB', 'counter', m.writtenPoints);
  out += line('pumpwatch_storage_write_failures_total', 'failed InfluxDB writes (retried)', 'counter', m.writeFailures);
  out += line('pumpwatch_pumps', 'pumps known to this instance', 'gauge', m.pumps);
  out += line('pumpwatch_alerts_open', 'active or unacknowledged alerts', 'gauge', m.openAlerts);
  out += line('pumpwatch_engine_stale_sentences_total', 'sentences older than the pump\'s newest, kept as evidence only', 'counter', m.staleSentences);
  out += line('pumpwatch_engine_clock_ahead_sentences_total', 'sentences with a pump clock too far ahead (clock_error)', 'counter', m.clockAheadSentences);
  out += line('pumpwatch_engine_historic_sentences_total', 'sentences recognised as replayed history', 'counter', m.historicSentences);
  out += line('pumpwatch_mqtt_up', '1 when connected to the broker', 'gauge', m.mqttUp ? 1 : 0);
  out += line('pumpwatch_influx_up', '1 when InfluxDB takes writes', 'gauge', m.influxUp ? 1 : 0);
  const mem = process.memoryUsage();
  out += line('pumpwatch_process_resident_memory_bytes', 'resident set size', 'gauge', mem.rss);
  out += line('pumpwatch_process_heap_used_bytes', 'V8 heap in use', 'gauge', mem.heapUsed);
  return out;
}
