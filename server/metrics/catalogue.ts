/**
 * Every pumpwatch metric on GET /metrics, declared once: the modules that register them take
 * name, type, help and labels from here, and the table in docs/server.md is generated from it.
 * Conventions (Prometheus): counters end in _total, base units in names (seconds, bytes), no
 * per-pump labels, a rate is a counter that Prometheus turns into one with rate().
 */

export type MetricType = 'counter' | 'gauge';

/** which servers expose a metric: every one, those with the cluster relay, those that hand pumps over, those with HL7 receivers, those in CLUSTER_MODE=lease, those that page */
export type MetricPresence = 'always' | 'relay' | 'handover' | 'hl7' | 'lease' | 'paging';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** at most one label, with a fixed set of values, every one present from the start */
  readonly label?: string;
  readonly presence: MetricPresence;
}

export const METRICS = {
  ingestAccepted: { name: 'pumpwatch_ingest_accepted_total', type: 'counter', presence: 'always', help: 'Pump messages accepted (valid and new); rate() of it is the ingest rate.' },
  ingestDuplicates: { name: 'pumpwatch_ingest_duplicates_total', type: 'counter', presence: 'always', help: 'Pump messages dropped as already seen (also under dropped_total reason DUPLICATE).' },
  ingestOtherShard: { name: 'pumpwatch_ingest_other_shard_total', type: 'counter', presence: 'always', help: 'Pump messages left to another instance (SHARD).' },
  ingestDropped: { name: 'pumpwatch_ingest_dropped_total', type: 'counter', presence: 'always', label: 'reason', help: 'Inputs dropped, by reason (validator code, BAD_RAW:<decode code>, DUPLICATE, ...).' },
  ingestHeldBack: { name: 'pumpwatch_ingest_held_back_total', type: 'counter', presence: 'always', help: 'Times a PUBACK waited because the journal was full or failing.' },
  storageBacklog: { name: 'pumpwatch_storage_backlog', type: 'gauge', presence: 'always', help: 'Journal entries and derived points not yet in InfluxDB.' },
  journalBytes: { name: 'pumpwatch_journal_bytes', type: 'gauge', presence: 'always', help: 'Bytes of ingest journal segment files on disk.' },
  storagePointsWritten: { name: 'pumpwatch_storage_points_written_total', type: 'counter', presence: 'always', help: 'Points written to InfluxDB.' },
  storageWriteFailures: { name: 'pumpwatch_storage_write_failures_total', type: 'counter', presence: 'always', help: 'Failed InfluxDB writes (each is retried).' },
  pumps: { name: 'pumpwatch_pumps', type: 'gauge', presence: 'always', help: 'Pumps known to this instance.' },
  alertsOpen: { name: 'pumpwatch_alerts_open', type: 'gauge', presence: 'always', help: 'Alerts active or not yet acknowledged.' },
  engineStaleSentences: { name: 'pumpwatch_engine_stale_sentences_total', type: 'counter', presence: 'always', help: 'Sentences older than the pump\'s newest, kept as evidence only.' },
  engineClockAheadSentences: { name: 'pumpwatch_engine_clock_ahead_sentences_total', type: 'counter', presence: 'always', help: 'Sentences with a pump clock too far ahead (clock_error).' },
  engineHistoricSentences: { name: 'pumpwatch_engine_historic_sentences_total', type: 'counter', presence: 'always', help: 'Sentences recognised as replayed history.' },
  mqttUp: { name: 'pumpwatch_mqtt_up', type: 'gauge', presence: 'always', help: '1 while connected to the broker, else 0.' },
  influxUp: { name: 'pumpwatch_influx_up', type: 'gauge', presence: 'always', help: '1 while InfluxDB takes writes, else 0.' },
  pagesSent: { name: 'pumpwatch_pages_sent_total', type: 'counter', presence: 'paging', label: 'channel', help: 'Page messages a receiver took (SMTP 250, push 201, webhook 2xx), by channel.' },
  pagesFailed: { name: 'pumpwatch_pages_failed_total', type: 'counter', presence: 'paging', label: 'channel', help: 'Page messages given up on a channel after its retries, by channel.' },
  pageDeliveriesRetrying: { name: 'pumpwatch_page_deliveries_retrying', type: 'gauge', presence: 'paging', help: 'Page deliveries waiting for a retry now.' },
  pagingChainsFailed: { name: 'pumpwatch_paging_chains_failed', type: 'gauge', presence: 'paging', help: 'Alerts whose whole on-call chain could not be paged.' },
  wsClients: { name: 'pumpwatch_ws_clients', type: 'gauge', presence: 'always', help: 'WebSocket clients connected now.' },
  wsMessagesSent: { name: 'pumpwatch_ws_messages_sent_total', type: 'counter', presence: 'always', help: 'Messages queued to WebSocket clients.' },
  wsDropped: { name: 'pumpwatch_ws_dropped_total', type: 'counter', presence: 'always', label: 'reason', help: 'WebSocket clients dropped, by reason.' },
  wsRefused: { name: 'pumpwatch_ws_refused_total', type: 'counter', presence: 'always', label: 'reason', help: 'WebSocket upgrades refused, by reason.' },
  httpSessions: { name: 'pumpwatch_http_sessions', type: 'gauge', presence: 'always', help: 'Login sessions held now.' },
  auditEvents: { name: 'pumpwatch_audit_events_total', type: 'counter', presence: 'always', label: 'result', help: 'Audit events handed to storage, by outcome.' },
  clusterPublished: { name: 'pumpwatch_cluster_published_total', type: 'counter', presence: 'relay', help: 'Alert and pump changes this instance published to the others.' },
  clusterRelayed: { name: 'pumpwatch_cluster_relayed_total', type: 'counter', presence: 'relay', help: 'Alert and pump changes of other instances passed to live views here.' },
  clusterRemotePumps: { name: 'pumpwatch_cluster_remote_pumps', type: 'gauge', presence: 'relay', help: 'Pumps other instances hold.' },
  clusterRemoteOpenAlerts: { name: 'pumpwatch_cluster_remote_open_alerts', type: 'gauge', presence: 'relay', help: 'Open alerts other instances hold.' },
  clusterRelayDropped: { name: 'pumpwatch_cluster_relay_dropped_total', type: 'counter', presence: 'relay', label: 'reason', help: 'Instance-to-instance messages dropped, by reason.' },
  clusterRebuilds: { name: 'pumpwatch_cluster_rebuilds_total', type: 'counter', presence: 'handover', help: 'Pumps rebuilt from storage before their next sentence was judged.' },
  clusterRebuildFailures: { name: 'pumpwatch_cluster_rebuild_failures_total', type: 'counter', presence: 'handover', help: 'Pump rebuilds that failed (the pump is judged without stored state).' },
  clusterLoadingPumps: { name: 'pumpwatch_cluster_loading_pumps', type: 'gauge', presence: 'handover', help: 'Pumps loading from storage now, their messages queued.' },
  hl7Backlog: { name: 'pumpwatch_hl7_backlog', type: 'gauge', presence: 'hl7', label: 'receiver', help: 'HL7 messages queued for a receiver and not yet answered AA.' },
  hl7Sent: { name: 'pumpwatch_hl7_sent_total', type: 'counter', presence: 'hl7', label: 'receiver', help: 'HL7 messages a receiver answered AA.' },
  hl7Errors: { name: 'pumpwatch_hl7_errors_total', type: 'counter', presence: 'hl7', label: 'receiver', help: 'HL7 delivery problems (AE/AR answers, malformed ACKs, timeouts, connection errors).' },
  hl7Parked: { name: 'pumpwatch_hl7_parked_total', type: 'counter', presence: 'hl7', label: 'receiver', help: 'HL7 messages parked in the dead-letter folder (AR, or AE past HL7_AE_RETRIES).' },
  clusterLeasesOwned: { name: 'pumpwatch_cluster_leases_owned', type: 'gauge', presence: 'lease', help: 'Partitions (of 64) whose pumps this instance judges now; summed over instances it is 64 when every pump is watched.' },
  clusterLeasesAcquired: { name: 'pumpwatch_cluster_leases_acquired_total', type: 'counter', presence: 'lease', help: 'Partition leases this instance took (at start, from a dead instance, or handed over).' },
  clusterLeasesLost: { name: 'pumpwatch_cluster_leases_lost_total', type: 'counter', presence: 'lease', help: 'Partition leases that ran out before renewal or were taken: their pumps stopped being judged here.' },
  clusterLeasesReleased: { name: 'pumpwatch_cluster_leases_released_total', type: 'counter', presence: 'lease', help: 'Partition leases handed over to a joining instance.' },
  clusterReplayKept: { name: 'pumpwatch_cluster_replay_kept', type: 'gauge', presence: 'lease', help: 'Messages of pumps other instances judge, kept for a takeover.' },
  clusterReplayDropped: { name: 'pumpwatch_cluster_replay_dropped_total', type: 'counter', presence: 'lease', help: 'Kept messages pushed out by the cap before their replay window ended.' },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** prefix of the process and Node.js metrics prom-client collects (pumpwatch_process_cpu_seconds_total, ...) */
export const DEFAULT_METRICS_PREFIX = 'pumpwatch_';
