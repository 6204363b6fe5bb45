/**
 * Billing: ingest throughput of the episode tracker, and listing the episodes of 1,000 pumps over
 * 30 days (target < 1 s). The fleet is built from one pump's 30-day record (ingested for real),
 * copied under 1,000 serials through takeChanged()/restore(), as after a restart.
 */
import { performance } from 'node:perf_hooks';
import { encodeSentence } from '../protocol/encode.ts';
import { toPumpMessage, type PumpMessage } from '../protocol/payloads.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { createEpisodeTracker, DEFAULT_BILLING_CONFIG, episodesToCsv, type EpisodeRecord } from '../server/billing/index.ts';
import type { BenchRow } from './types.ts';
import type { BillingAssignment } from '../server/billing/index.ts';
import { BillingHistory } from '../server/core/billingHistory.ts';
import type { PointStore } from '../server/storage/influxStore.ts';

export const T0 = Date.parse('2026-10-01T00:00:00Z');
const DAYS = 30;
export const PUMPS = 1000;
export const CONFIG = { ...DEFAULT_BILLING_CONFIG, timeZone: 'America/New_York' };

/** A pump's record over `days`: 46 h programs at 5 mL/h with a 20-min pause, `gapH` apart (default 2 h); status every 60 s. */
export function pumpRecord(pump: string, days: number, gapH = 2): PumpMessage[] {
  const out: PumpMessage[] = [];
  let seq = 0;
  let t = T0;
  const time = (): string => new Date(t).toISOString().replace('.000Z', 'Z');
  const emit = (s: Sentence): void => {
    out.push(toPumpMessage(s, encodeSentence(s), new Date(t)));
    seq = (seq + 1) % 65536;
  };
  const status = (state: 'RUN' | 'PAUSE' | 'END' | 'IDLE', vi: number): void => emit({
    type: 'status', pump, seq, time: time(), state, rateMlH: 5, infusedMl: Math.round(vi * 100) / 100,
    vtbiMl: Math.max(0, Math.round((230 - vi) * 100) / 100), reservoirMl: null, pressureMmHg: 35, batteryPct: 90, alarms: [],
  });
  const end = T0 + days * 86_400_000;
  for (let cycle = 0; t < end; cycle++) {
    const programId = `C${cycle}`;
    emit({ type: 'program', pump, seq, time: time(), programId, drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 });
    emit({ type: 'event', pump, seq, time: time(), code: 'START', detail: programId });
    let vi = 0;
    for (let min = 0; min < 46 * 60 + 20 && t < end; min++) {
      const paused = min >= 600 && min < 620;
      if (min === 600) emit({ type: 'event', pump, seq, time: time(), code: 'PAUSE', detail: '' });
      if (min === 620) emit({ type: 'event', pump, seq, time: time(), code: 'RESUME', detail: '' });
      status(paused ? 'PAUSE' : 'RUN', vi);
      t += 60_000;
      if (!paused) vi += 5 / 60;
    }
    emit({ type: 'event', pump, seq, time: time(), code: 'END', detail: programId });
    status('END', 230);
    t += gapH * 3_600_000;
  }
  return out;
}

export function renamed(records: EpisodeRecord[], from: string, to: string): EpisodeRecord[] {
  return records.map((r) => ({ ...(JSON.parse(JSON.stringify(r).replaceAll(from, to)) as EpisodeRecord) }));
}

export async function run(skipYear = false): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // ingest throughput: 20 pumps x 3 days, interleaved as they would arrive
  const fleet = Array.from({ length: 20 }, (_, i) => pumpRecord(`BENCH-${String(i).padStart(4, '0')}`, 3));
  const interleaved: PumpMessage[] = [];
  for (let i = 0; ; i++) {
    let any = false;
    for (const list of fleet) {
      const m = list[i];
      if (m) {
        interleaved.push(m);
        any = true;
      }
    }
    if (!any) break;
  }
  const ingestTracker = createEpisodeTracker(CONFIG);
  let t = performance.now();
  for (const m of interleaved) ingestTracker.ingest(m);
  const ingestMs = performance.now() - t;
  const perS = interleaved.length / (ingestMs / 1000);
  rows.push({ area: 'billing', metric: `ingest (${interleaved.length} messages)`, value: perS, unit: 'msg/s', target: '>= 5000', pass: perS >= 5000 });

  // one pump for 30 days, ingested for real, copied to a fleet of 1,000
  const one = createEpisodeTracker(CONFIG);
  for (const m of pumpRecord('PW-000000', DAYS)) one.ingest(m);
  const template = one.takeChanged();
  const records: EpisodeRecord[] = [];
  for (let i = 0; i < PUMPS; i++) records.push(...renamed(template, 'PW-000000', `PW-${String(i).padStart(6, '0')}`));
  const tracker = createEpisodeTracker(CONFIG);
  t = performance.now();
  tracker.restore(records);
  rows.push({ area: 'billing', metric: `restore ${records.length} records`, value: performance.now() - t, unit: 'ms' });

  const query = { fromMs: T0, toMs: T0 + DAYS * 86_400_000 };
  t = performance.now();
  const first = tracker.episodes(query);
  const coldMs = performance.now() - t;
  rows.push({ area: 'billing', metric: `list ${first.length} episodes, ${PUMPS} pumps x ${DAYS} d (first)`, value: coldMs, unit: 'ms', target: '< 1000', pass: coldMs < 1000 });
  t = performance.now();
  tracker.episodes(query);
  const warmMs = performance.now() - t;
  rows.push({ area: 'billing', metric: 'list again (views cached)', value: warmMs, unit: 'ms', target: '< 1000', pass: warmMs < 1000 });
  t = performance.now();
  const csv = episodesToCsv(first);
  rows.push({ area: 'billing', metric: `CSV of the listing (${Math.round(csv.length / 1024)} KiB)`, value: performance.now() - t, unit: 'ms' });

  // courses: each pump is one patient; each 46-h program is given under an order of its own
  const assignments = ordersFor(tracker.episodes({}).map((e) => ({ pump: e.pump, startMs: Date.parse(e.start), endMs: e.end ? Date.parse(e.end) : null })));
  tracker.setAssignments?.(assignments);
  t = performance.now();
  const courses = tracker.episodes(query);
  const monthMs = performance.now() - t;
  rows.push({ area: 'billing', metric: `list a month: ${courses.length} courses under orders, ${PUMPS} patients`, value: monthMs, unit: 'ms', target: '< 1000', pass: monthMs < 1000 });

  if (!skipYear) rows.push(...(await yearFromStorage()));
  return rows;
}

/** one order per program (what a pharmacy does per cycle), the pump assigned for it */
export function ordersFor(programs: { pump: string; startMs: number; endMs: number | null }[]): BillingAssignment[] {
  return programs.map((p, i) => ({
    id: String(i), pump: p.pump, fromMs: p.startMs - 60_000, toMs: (p.endMs ?? p.startMs) + 60_000,
    order: { id: String(i), drug: 'FLUOROURACIL', mode: 'continuous', payer: i % 3 === 0 ? 'Acme' : 'Medicare', stoppedMs: null },
    patient: { id: p.pump, mrn: `MRN-${p.pump}`, name: `Patient ${p.pump}`, timeZone: 'America/New_York' },
  }));
}

/**
 * A year of 1,000 patients listed through BillingHistory (the path for periods older than memory
 * and for every instance of a multi-instance deployment): cold = every stored record restored
 * into a new tracker and listed; cached = the same question again. Each patient has a 46-h course
 * every 14 days (FOLFOX), 26 a year. The store is in memory (the records as InfluxDB returns
 * them), so the InfluxDB read itself is not in these figures.
 */
export async function yearFromStorage(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const YEAR_DAYS = 365;
  const one = createEpisodeTracker(CONFIG);
  for (const m of pumpRecord('PW-000000', YEAR_DAYS, 14 * 24 - 46)) one.ingest(m);
  const template = one.takeChanged();
  const stored: Record<string, unknown>[] = [];
  for (let i = 0; i < PUMPS; i++) {
    for (const r of renamed(template, 'PW-000000', `PW-${String(i).padStart(6, '0')}`)) {
      stored.push({ time: T0 * 1000, json: JSON.stringify(r), journalEpoch: 'bench', journalId: 1 });
    }
  }
  const programs = one.episodes({}).map((e) => ({ startMs: Date.parse(e.start), endMs: e.end ? Date.parse(e.end) : null }));
  const assignments: BillingAssignment[] = [];
  for (let i = 0; i < PUMPS; i++) {
    const pump = `PW-${String(i).padStart(6, '0')}`;
    assignments.push(...ordersFor(programs.map((p) => ({ pump, ...p }))).map((a, k) => ({ ...a, id: `${i}-${k}`, order: { ...a.order, id: `${i}-${k}` } })));
  }
  let reads = 0;
  const store = {
    select: () => {
      // the first read returns every record; later ones (records written since) none
      reads++;
      return Promise.resolve(reads === 1 ? [{ tags: {}, rows: stored }] : []);
    },
  } as unknown as PointStore;
  const now = T0 + (YEAR_DAYS + 1) * 86_400_000;
  const history = new BillingHistory({ store, createTracker: () => createEpisodeTracker(CONFIG), assignments: () => assignments, now: () => now });
  const q = { fromMs: T0, toMs: T0 + YEAR_DAYS * 86_400_000 };
  let t = performance.now();
  const list = await history.episodes(q);
  const coldMs = performance.now() - t;
  rows.push({ area: 'billing', metric: `list a year from storage: ${list.length} courses, ${PUMPS} patients, ${stored.length} records (cold)`, value: coldMs, unit: 'ms', target: '< 5000', pass: coldMs < 5000 });
  t = performance.now();
  await history.episodes(q);
  const cachedMs = performance.now() - t;
  rows.push({ area: 'billing', metric: 'list the year again (cached)', value: cachedMs, unit: 'ms', target: '< 1000', pass: cachedMs < 1000 });
  return rows;
}
