/** Reads back what the server stored: telemetry, alert history, evidence, snapshots, episodes, audit. */
import type { Alert, TelemetryPoint } from '../../protocol/api.ts';
import type { PumpState } from '../../protocol/sentence.ts';
import { quote, timeLiteral, type PointStore } from './influxStore.ts';
import { EPISODE_BUCKET_MS, MEASUREMENTS, type PumpStateFields } from './points.ts';

/** µs timestamp of a sentence point back to its pump time (whole seconds, ISO) */
export function pumpTimeOf(timeUs: number): string {
  return new Date(Math.floor(timeUs / 1_000_000) * 1000).toISOString().replace('.000Z', 'Z');
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function pumpClause(pump: string | undefined): string {
  return pump === undefined ? '' : ` AND "pump" = ${quote(pump)}`;
}

export async function telemetry(store: PointStore, pump: string, fromMs: number, toMs: number, limit = 200_000): Promise<TelemetryPoint[]> {
  const q = `SELECT * FROM "${MEASUREMENTS.status}" WHERE "pump" = ${quote(pump)} AND time >= ${timeLiteral(fromMs)} AND time <= ${timeLiteral(toMs + 999)} ORDER BY time ASC LIMIT ${limit}`;
  const out: TelemetryPoint[] = [];
  for (const s of await store.select(q)) {
    for (const r of s.rows) {
      const alarms = text(r.alarms);
      out.push({
        time: pumpTimeOf(r.time as number), seq: num(r.seq) ?? 0, state: text(r.state) as PumpState,
        rateMlH: num(r.rateMlH) ?? 0, infusedMl: num(r.infusedMl) ?? 0, vtbiMl: num(r.vtbiMl) ?? 0,
        reservoirMl: num(r.reservoirMl), pressureMmHg: num(r.pressureMmHg), batteryPct: num(r.batteryPct) ?? 0,
        alarms: alarms === '' ? [] : alarms.split('+'),
      });
    }
  }
  return out;
}

/** Latest stored state of every alert that changed since `sinceMs` (server clock). */
export async function alertHistory(store: PointStore, sinceMs: number, pump?: string): Promise<Map<string, Alert>> {
  const q = `SELECT "json" FROM "${MEASUREMENTS.alert}" WHERE time >= ${timeLiteral(sinceMs)}${pumpClause(pump)} ORDER BY time ASC`;
  const byId = new Map<string, Alert>();
  for (const s of await store.select(q)) {
    for (const r of s.rows) {
      try {
        const a = JSON.parse(text(r.json)) as Alert;
        byId.set(a.id, a);
      } catch {
        /* a damaged row never hides the others */
      }
    }
  }
  return byId;
}

export interface EvidenceRow {
  timeUs: number;
  seq: number;
  received: string;
  raw: string;
}

/** Stored sentences of a pump between two pump times, in time order. */
export async function sentences(store: PointStore, pump: string, fromMs: number, toMs: number): Promise<EvidenceRow[]> {
  const q = `SELECT "seq", "raw", "received" FROM "${MEASUREMENTS.status}", "${MEASUREMENTS.program}", "${MEASUREMENTS.event}" WHERE "pump" = ${quote(pump)} AND time >= ${timeLiteral(fromMs)} AND time <= ${timeLiteral(toMs + 999)}`;
  const out: EvidenceRow[] = [];
  for (const s of await store.select(q)) {
    for (const r of s.rows) out.push({ timeUs: r.time as number, seq: num(r.seq) ?? 0, received: text(r.received), raw: text(r.raw) });
  }
  return out.sort((a, b) => a.timeUs - b.timeUs);
}

/** a pump_state point as read back: what points.ts wrote, under its key */
export interface StoredPumpState extends PumpStateFields {
  key: string;
}

/** The newest checkpoint of each pump (or of one). */
export async function latestPumpStates(store: PointStore, pump?: string): Promise<StoredPumpState[]> {
  const where = pump === undefined ? '' : ` WHERE "pump" = ${quote(pump)}`;
  const q = `SELECT * FROM "${MEASUREMENTS.pumpState}"${where} GROUP BY "pump" ORDER BY time DESC LIMIT 1`;
  const out: StoredPumpState[] = [];
  for (const s of await store.select(q)) {
    const r = s.rows[0];
    if (!r) continue;
    try {
      out.push({
        key: s.tags.pump ?? '', gateway: text(r.gateway), engine: JSON.parse(text(r.engine) || 'null'),
        alerts: JSON.parse(text(r.alerts) || '[]') as Alert[], dedupe: text(r.dedupe),
        journalEpoch: text(r.journalEpoch), journalId: num(r.journalId) ?? 0,
      });
    } catch {
      /* unreadable snapshot: the pump starts fresh */
    }
  }
  return out;
}

export interface StoredEpisode {
  record: { id: string; pump: string; version: 1; [k: string]: unknown };
  journalEpoch: string;
  journalId: number;
}

const DAY_MS = 86_400_000;

/** rows of a query as columns and values, from either kind of store */
async function selectValues(store: PointStore, q: string): Promise<{ columns: string[]; values: unknown[][] }[]> {
  if (store.selectValues) return store.selectValues(q);
  return (await store.select(q)).map((s) => {
    const columns = [...new Set(s.rows.flatMap((r) => Object.keys(r)))];
    return { columns, values: s.rows.map((r) => columns.map((c) => r[c])) };
  });
}

/**
 * Latest stored version of every episode record written since `sinceMs` (server clock). Records
 * are kept one version a week (`episode_week`, stamped at the week's start: read from the start of
 * `sinceMs`'s week, a little more than asked); those written before that scheme (`episode`) are
 * read too, and a newer scheme's version always wins over them. Of each pump's own record only the
 * newest is read (older ones are replaced on restore anyway); a long period is read in slices in
 * parallel (`untilMs`: where the newest records are, by the server clock).
 */
export async function storedEpisodes(store: PointStore, sinceMs: number, pump?: string, untilMs?: number): Promise<StoredEpisode[]> {
  const fields = `SELECT "json", "journalEpoch", "journalId" FROM`;
  const queries = (measurement: string, fromMs: number): string[] => {
    const where = `${pumpClause(pump)}`;
    // up to 4 slices of at least 30 days; the last one open-ended
    const slices = untilMs === undefined ? 1 : Math.max(1, Math.min(4, Math.floor((untilMs - fromMs) / (30 * DAY_MS))));
    const step = untilMs === undefined ? 0 : Math.ceil((untilMs - fromMs) / slices / DAY_MS) * DAY_MS;
    const out: string[] = [];
    for (let i = 0; i < slices; i++) {
      const upper = i === slices - 1 ? '' : ` AND time < ${timeLiteral(fromMs + (i + 1) * step)}`;
      out.push(`${fields} "${measurement}" WHERE time >= ${timeLiteral(fromMs + i * step)}${upper} AND "id" !~ /^pump:/${where} ORDER BY time ASC`);
    }
    out.push(`${fields} "${measurement}" WHERE time >= ${timeLiteral(fromMs)} AND "id" =~ /^pump:/${where} GROUP BY "pump" ORDER BY time DESC LIMIT 1`);
    return out;
  };
  const results = await Promise.all([
    ...queries(MEASUREMENTS.episode, sinceMs), ...queries(MEASUREMENTS.episodeWeek, Math.floor(sinceMs / EPISODE_BUCKET_MS) * EPISODE_BUCKET_MS),
  ].map((q) => selectValues(store, q)));
  const byId = new Map<string, StoredEpisode>();
  // in order: the older scheme, then the daily one; each in time order
  for (const series of results) {
    for (const s of series) {
      const json = s.columns.indexOf('json');
      const epoch = s.columns.indexOf('journalEpoch');
      const jid = s.columns.indexOf('journalId');
      for (const v of s.values) {
        try {
          const record = JSON.parse(text(v[json])) as StoredEpisode['record'];
          byId.set(record.id, { record, journalEpoch: text(v[epoch]), journalId: num(v[jid]) ?? 0 });
        } catch {
          /* skip a damaged row */
        }
      }
    }
  }
  return [...byId.values()];
}

export async function auditRecords(store: PointStore, fromMs: number, toMs: number, action: string | undefined, limit: number): Promise<unknown[]> {
  const filter = action === undefined ? '' : ` AND "action" = ${quote(action)}`;
  const q = `SELECT "json" FROM "${MEASUREMENTS.audit}" WHERE time >= ${timeLiteral(fromMs)} AND time <= ${timeLiteral(toMs)}${filter} ORDER BY time DESC LIMIT ${Math.max(1, Math.floor(limit))}`;
  const out: { t: number; v: unknown }[] = [];
  for (const s of await store.select(q)) {
    for (const r of s.rows) {
      try {
        out.push({ t: r.time as number, v: JSON.parse(text(r.json)) });
      } catch {
        /* skip */
      }
    }
  }
  return out.sort((a, b) => b.t - a.t).slice(0, limit).map((x) => x.v);
}

/** The newest label of every pump that ever had one (null: removed). */
export async function storedPumpLabels(store: PointStore): Promise<Map<string, string | null>> {
  const q = `SELECT "label" FROM "${MEASUREMENTS.pumpLabel}" GROUP BY "pump" ORDER BY time DESC LIMIT 1`;
  const out = new Map<string, string | null>();
  for (const s of await store.select(q)) {
    const r = s.rows[0];
    if (r && s.tags.pump) out.set(s.tags.pump, text(r.label) || null);
  }
  return out;
}
