/**
 * How everything the server keeps maps to InfluxDB points. The only tag is `pump` (bounded by
 * the fleet size); ids, programs and codes are fields. See docs/server.md for the schema.
 */
import type { IPoint } from 'influx';
import type { Alert } from '../../protocol/api.ts';
import { parsePumpTime } from '../../protocol/decode.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import { escapeKey, quoteString } from './lineProtocol.ts';

export const MEASUREMENTS = {
  status: 'status', program: 'program', event: 'event', alert: 'alert', availability: 'availability',
  pumpState: 'pump_state', episode: 'episode', audit: 'audit', pumpLabel: 'pump_label',
  /** episode records, one version per record a week (episodeRecordTimestampNs); `episode` holds those written before */
  episodeWeek: 'episode_week',
} as const;

const DAY_MS = 86_400_000;
/** a stored record's version stands for its week (since the epoch, a Thursday, UTC) */
export const EPISODE_BUCKET_MS = 7 * DAY_MS;
/** offsets of program episode records: (start second mod 1,000 days) × 65536 + seq + 1 ns, under 1.6 h */
const PROGRAM_SLOTS = 86_400_000 * 65_536;

/**
 * Timestamp (ns, decimal) of an episode record written at `serverMs`: the start of that week
 * (EPISODE_BUCKET_MS, UTC) plus an offset fixed by the record's id. Every version of a record
 * written the same week lands on the same point and replaces the one before (InfluxDB keeps one
 * point per series and time), so the store holds one version of a record a week instead of one a
 * checkpoint: a 46-h course is 1 or 2 points, not one a minute (docs/billing.md, "History"). A
 * program's id gives its START second and seq (`<pump>_<YYYYMMDDTHHMMSSZ>_<seq>`): two programs of a
 * pump share a point only if they started the same second 1,000 days apart with the same seq. The
 * pump's own record (`pump:<serial>`) is at the week's start.
 */
export function episodeRecordTimestampNs(id: string, serverMs: number): string {
  const dayNs = BigInt(Math.floor(serverMs / EPISODE_BUCKET_MS) * EPISODE_BUCKET_MS) * 1_000_000n;
  let offset = 0;
  const m = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_(\d+)$/.exec(id);
  if (m) {
    const startS = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
    offset = (startS % 86_400_000) * 65_536 + (Number(m[7]) % 65_536) + 1;
  } else if (!id.startsWith('pump:')) {
    // not a known id shape: a slot of its own by hash, after every program's
    let h = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
    offset = PROGRAM_SLOTS + 1 + (h & 0x7fffffff);
  }
  return String(dayNs + BigInt(offset));
}

/** nanoseconds between two seqs of the same pump second: 65535 × 10 µs stays inside the second */
const SEQ_STEP_NS = 10_000;

/**
 * Timestamp of a sentence, in ns since the epoch, as a decimal string: the pump's second plus
 * seq × 10 µs. Different sentences of a pump never share a point; the same one always lands on
 * the same point, so storing twice is harmless.
 */
export function sentenceTimestampNs(seq: number, time: string): string {
  const sec = Math.floor(parsePumpTime(time) / 1000);
  return `${sec}${String(seq * SEQ_STEP_NS).padStart(9, '0')}`;
}

/** (seq, pump-time seconds) back from a sentence timestamp */
export function identityFromTimestampNs(ns: string): { seq: number; timeSec: number } {
  const sec = Number(ns.slice(0, -9) || '0');
  return { timeSec: sec, seq: Math.floor(Number(ns.slice(-9)) / SEQ_STEP_NS) };
}

export function messagePoint(msg: PumpMessage, gateway: string): IPoint {
  const common = { seq: msg.seq, raw: msg.raw, gateway, received: msg.received };
  const timestamp = sentenceTimestampNs(msg.seq, msg.time);
  const tags = { pump: msg.pump };
  switch (msg.type) {
    case 'status': {
      const fields: Record<string, string | number> = {
        ...common, state: msg.state, rateMlH: msg.rateMlH, infusedMl: msg.infusedMl, vtbiMl: msg.vtbiMl,
        batteryPct: msg.batteryPct, alarms: msg.alarms.join('+'),
      };
      if (msg.reservoirMl !== null) fields.reservoirMl = msg.reservoirMl;
      if (msg.pressureMmHg !== null) fields.pressureMmHg = msg.pressureMmHg;
      return { measurement: MEASUREMENTS.status, tags, fields, timestamp };
    }
    case 'program':
      return {
        measurement: MEASUREMENTS.program, tags, timestamp,
        fields: { ...common, programId: msg.programId, drug: msg.drug, rateMlH: msg.rateMlH, volumeMl: msg.volumeMl, hours: msg.hours },
      };
    case 'event':
      return { measurement: MEASUREMENTS.event, tags, timestamp, fields: { ...common, code: msg.code, detail: msg.detail } };
  }
}

/**
 * The line of messagePoint(msg, gateway), built directly: every pump message is stored, and
 * going through a point object costs more than the rest of its way to InfluxDB.
 */
export function messageLine(msg: PumpMessage, gateway: string): string {
  const head = `${escapeKey(msg.pump)} seq=${msg.seq},raw=${quoteString(msg.raw)},gateway=${quoteString(gateway)},received=${quoteString(msg.received)}`;
  const timestamp = sentenceTimestampNs(msg.seq, msg.time);
  switch (msg.type) {
    case 'status': {
      let line = `${MEASUREMENTS.status},pump=${head},state=${quoteString(msg.state)},rateMlH=${msg.rateMlH},infusedMl=${msg.infusedMl},vtbiMl=${msg.vtbiMl},batteryPct=${msg.batteryPct},alarms=${quoteString(msg.alarms.join('+'))}`;
      if (msg.reservoirMl !== null) line += `,reservoirMl=${msg.reservoirMl}`;
      if (msg.pressureMmHg !== null) line += `,pressureMmHg=${msg.pressureMmHg}`;
      return `${line} ${timestamp}`;
    }
    case 'program':
      return `${MEASUREMENTS.program},pump=${head},programId=${quoteString(msg.programId)},drug=${quoteString(msg.drug)},rateMlH=${msg.rateMlH},volumeMl=${msg.volumeMl},hours=${msg.hours} ${timestamp}`;
    case 'event':
      return `${MEASUREMENTS.event},pump=${head},code=${quoteString(msg.code)},detail=${quoteString(msg.detail)} ${timestamp}`;
  }
}

/** Server-clock timestamps for derived points: ms plus a counter so same-ms points never collide. */
export class ServerTimestamps {
  private lastMs = -1;
  private n = 0;

  next(ms: number): string {
    if (ms === this.lastMs) this.n = (this.n + 1) % 1_000_000;
    else {
      this.lastMs = ms;
      this.n = 0;
    }
    return `${ms}${String(this.n).padStart(6, '0')}`;
  }
}

export function availabilityPoint(gateway: string, state: 'online' | 'offline', time: string, serverMs: number): IPoint {
  // keyed by the gateway's own time so a retained message delivered again lands on the same point
  const ms = Date.parse(time);
  return {
    measurement: MEASUREMENTS.availability, tags: { gateway },
    fields: { state, serverTime: new Date(serverMs).toISOString() },
    timestamp: `${Number.isNaN(ms) ? serverMs : ms}000000`,
  };
}

export function alertPoint(alert: Alert, timestamp: string): IPoint {
  return {
    measurement: MEASUREMENTS.alert, tags: { pump: alert.pump || `@${alert.gateway}` }, timestamp,
    fields: {
      id: alert.id, type: alert.type, severity: alert.severity, status: alert.status,
      acknowledged: alert.acknowledged, json: JSON.stringify(alert),
    },
  };
}

export interface PumpStateFields {
  gateway: string;
  /** engine snapshot, or null for a key that only holds alerts (gateway-level) */
  engine: unknown;
  alerts: Alert[];
  /** recent identities, base64 of a Float64Array */
  dedupe: string;
  /** the journal entry this snapshot covers, so a replay after a crash skips what it already holds */
  journalEpoch: string;
  journalId: number;
}

export function pumpStatePoint(key: string, s: PumpStateFields, timestamp: string): IPoint {
  return {
    measurement: MEASUREMENTS.pumpState, tags: { pump: key }, timestamp,
    fields: {
      gateway: s.gateway,
      engine: JSON.stringify(s.engine ?? null),
      alerts: JSON.stringify(s.alerts),
      dedupe: s.dedupe,
      journalEpoch: s.journalEpoch,
      journalId: s.journalId,
    },
  };
}

export function episodePoint(record: { id: string; pump: string }, journalEpoch: string, journalId: number, timestamp: string): IPoint {
  return {
    measurement: MEASUREMENTS.episodeWeek, tags: { pump: record.pump }, timestamp,
    fields: { id: record.id, json: JSON.stringify(record), journalEpoch, journalId },
  };
}

export function auditPoint(event: { action: string }, timestamp: string): IPoint {
  return { measurement: MEASUREMENTS.audit, tags: { action: event.action }, timestamp, fields: { json: JSON.stringify(event) } };
}

/** A nurse-facing pump label (server-clock timestamp); an empty string stores its removal. */
export function pumpLabelPoint(pump: string, label: string | null, timestamp: string): IPoint {
  return { measurement: MEASUREMENTS.pumpLabel, tags: { pump }, timestamp, fields: { label: label ?? '' } };
}
