import type { Logger } from 'pino';
import type { LinkStatus } from './pumpLink.ts';
import type { TrackerCounters } from './sequenceTracker.ts';

/** Reasons a line or sentence is dropped: the decoder's codes plus the gateway's own. */
export type DropReason = string;

export interface DiagnosticsSnapshot {
  time: string;
  uptimeS: number;
  linesAccepted: number;
  sentencesQueued: number;
  sentencesPublished: number;
  dropped: Record<DropReason, number>;
  duplicatesDropped: number;
  gapsFound: number;
  gapsRecovered: number;
  gapsUnrecovered: number;
  histRequests: number;
  queue: { depth: number; bytes: number; maxBytes: number; full: boolean };
  links: Record<string, LinkStatus>;
  mqtt: { state: 'up' | 'down'; connects: number; inFlight: number };
  /** process memory, MB */
  memory: { rssMb: number; heapUsedMb: number; heapTotalMb: number; externalMb: number };
}

/** The gateway's counters. Each drop reason is logged once, at its first occurrence. */
export class GatewayCounters {
  linesAccepted = 0;
  sentencesQueued = 0;
  sentencesPublished = 0;
  histRequests = 0;
  readonly dropped: Record<DropReason, number> = {};

  constructor(private readonly log: Logger) {}

  drop(reason: DropReason, detail: Record<string, unknown> = {}): void {
    const n = (this.dropped[reason] ?? 0) + 1;
    this.dropped[reason] = n;
    if (n === 1) this.log.warn({ event: 'drop_first', reason, ...detail }, `first line dropped for ${reason}`);
  }
}

export interface DiagnosticsSources {
  counters: GatewayCounters;
  tracker: TrackerCounters;
  queue: () => DiagnosticsSnapshot['queue'];
  links: () => Record<string, LinkStatus>;
  mqtt: () => DiagnosticsSnapshot['mqtt'];
  startedMs: number;
  now: () => number;
}

export function diagnosticsSnapshot(src: DiagnosticsSources): DiagnosticsSnapshot {
  const c = src.counters;
  const t = src.tracker;
  const nowMs = src.now();
  return {
    time: new Date(nowMs).toISOString(),
    uptimeS: Math.round((nowMs - src.startedMs) / 1000),
    linesAccepted: c.linesAccepted,
    sentencesQueued: c.sentencesQueued,
    sentencesPublished: c.sentencesPublished,
    dropped: { ...c.dropped },
    duplicatesDropped: t.duplicates,
    gapsFound: t.gapsFound,
    gapsRecovered: t.gapsRecovered,
    gapsUnrecovered: t.gapsUnrecovered,
    histRequests: c.histRequests,
    queue: src.queue(),
    links: src.links(),
    mqtt: src.mqtt(),
    memory: memoryMb(),
  };
}

function memoryMb(): DiagnosticsSnapshot['memory'] {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 104857.6) / 10;
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external) };
}
