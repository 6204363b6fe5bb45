/**
 * Billing history against a real InfluxDB (docs/billing.md, "History"): a year of episode records
 * of 1,000 patients (a 46-h course every 14 days) is written into an influxd started here, the way
 * the checkpointer writes them (one point per changed record, tagged by pump, stamped with the
 * server time of the checkpoint), then listed through BillingHistory: a year cold (a new instance:
 * the InfluxDB read, parse, restore and listing) and cached, and the last month cold and cached.
 * The answer must equal the one computed from the final records in memory.
 *
 * The server stores a new version of an open course's record at every checkpoint in which it
 * changed (each status sentence changes it). Writing every version of a year (about 2,800 per
 * course at a status a minute) is out of reach here; versions are kept every
 * BENCH_BILLING_VERSION_H hours of pump time (default 2) plus the final one, written as the
 * checkpointer writes them (one point per record a week: later versions replace earlier ones); the
 * reads start 10 s after the writes.
 * BENCH_BILLING_LEGACY=1 writes each version as a point of its own, as before that scheme.
 */
import { performance } from 'node:perf_hooks';
import type { Episode } from '../protocol/api.ts';
import { createEpisodeTracker, type BillingAssignment, type EpisodeRecord } from '../server/billing/index.ts';
import { BillingHistory } from '../server/core/billingHistory.ts';
import { createInfluxStore, type PointStore } from '../server/storage/influxStore.ts';
import { episodePoint, episodeRecordTimestampNs, MEASUREMENTS } from '../server/storage/points.ts';
import { startInfluxd } from '../test/helpers/influxd.ts';
import { CONFIG, ordersFor, PUMPS, pumpRecord, T0 } from './billing.bench.ts';
import type { BenchRow } from './types.ts';

const DAY = 86_400_000;
const YEAR_DAYS = 365;
const SERIAL = 'PW-000000';
const serialOf = (i: number): string => `PW-${String(i).padStart(6, '0')}`;

/** the template pump's records as checkpoints would store them: [server ms, record JSON][] */
function templateVersions(everyH: number): { timeMs: number; json: string }[] {
  const one = createEpisodeTracker(CONFIG);
  const out: { timeMs: number; json: string }[] = [];
  let nextMs = T0 + everyH * 3_600_000;
  const checkpoint = (timeMs: number): void => {
    for (const r of one.takeChanged()) out.push({ timeMs, json: JSON.stringify(r) });
  };
  for (const m of pumpRecord(SERIAL, YEAR_DAYS, 14 * 24 - 46)) {
    const t = Date.parse(m.received);
    if (t >= nextMs) {
      checkpoint(t);
      nextMs = t + everyH * 3_600_000;
    }
    one.ingest(m);
  }
  checkpoint(T0 + YEAR_DAYS * DAY);
  return out;
}

/**
 * Every version written as the checkpointer writes it (one point per record a week, later versions
 * replacing earlier ones); `legacy`: as it was written before, a point per version at its own
 * server time in `episode`.
 */
async function writeFleet(store: PointStore, versions: { timeMs: number; json: string }[], legacy: boolean): Promise<number> {
  let written = 0;
  let batch: ReturnType<typeof episodePoint>[] = [];
  for (let i = 0; i < PUMPS; i++) {
    const serial = serialOf(i);
    let lastMs = -1;
    let n = 0;
    for (const v of versions) {
      n = v.timeMs === lastMs ? n + 1 : 0;
      lastMs = v.timeMs;
      const record = JSON.parse(v.json.replaceAll(SERIAL, serial)) as EpisodeRecord;
      const point = episodePoint(record, 'bench', 1, legacy ? `${v.timeMs}${String(n).padStart(6, '0')}` : episodeRecordTimestampNs(record.id, v.timeMs));
      batch.push(legacy ? { ...point, measurement: MEASUREMENTS.episode } : point);
      if (batch.length >= 5000) {
        await store.write(batch);
        written += batch.length;
        batch = [];
      }
    }
  }
  await store.write(batch);
  return written + batch.length;
}

function assignmentsFor(programs: { startMs: number; endMs: number | null }[]): BillingAssignment[] {
  const out: BillingAssignment[] = [];
  for (let i = 0; i < PUMPS; i++) {
    const pump = serialOf(i);
    out.push(...ordersFor(programs.map((p) => ({ pump, ...p }))).map((a, k) => ({ ...a, id: `${i}-${k}`, order: { ...a.order, id: `${i}-${k}` } })));
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const everyH = Number(process.env.BENCH_BILLING_VERSION_H ?? '2');
  const legacy = process.env.BENCH_BILLING_LEGACY === '1';
  const versions = templateVersions(everyH);
  // the reference answer: the final records restored in memory
  const finalRecords = [...new Map(versions.map((v) => [(JSON.parse(v.json) as EpisodeRecord).id, v.json])).values()];
  const ref = createEpisodeTracker(CONFIG);
  ref.restore(finalRecords.map((j) => JSON.parse(j) as EpisodeRecord));
  const programs = ref.episodes({}).map((e) => ({ startMs: Date.parse(e.start), endMs: e.end ? Date.parse(e.end) : null }));
  const assignments = assignmentsFor(programs);
  const reference = createEpisodeTracker(CONFIG);
  for (let i = 0; i < PUMPS; i++) reference.restore(finalRecords.map((j) => JSON.parse(j.replaceAll(SERIAL, serialOf(i))) as EpisodeRecord));
  reference.setAssignments?.(assignments);

  const influxd = await startInfluxd();
  try {
    const store = createInfluxStore({ url: influxd.urlFor('pumpwatch_bench_billing'), database: 'pumpwatch_bench_billing', retentionDays: 0 });
    await store.ensureSchema();
    let t = performance.now();
    const points = await writeFleet(store, versions, legacy);
    const writeS = (performance.now() - t) / 1000;
    const perCourse = versions.length / programs.length;
    // a year's records are not all written in the last minute: let influxd finish its compaction first
    await new Promise((r) => setTimeout(r, 10_000));
    rows.push({ area: 'billing', metric: `write a year of episode records to influxd: ${points} points (${perCourse.toFixed(1)} per course, a version every ${everyH} h${legacy ? ', each its own point (before one point a week)' : ''})`, value: points / writeS, unit: 'points/s' });

    // a minute after the last checkpoint: asking again re-reads that day's records (every pump's)
    const now = T0 + YEAR_DAYS * DAY + 60_000;
    const nowMs = now;
    const history = (): BillingHistory => new BillingHistory({ store, createTracker: () => createEpisodeTracker(CONFIG), assignments: () => assignments, now: () => now });
    const same = (a: Episode[], b: Episode[]): boolean => JSON.stringify(a) === JSON.stringify(b);
    for (const [label, fromMs, toMs, coldTarget] of [
      ['a year', T0, T0 + YEAR_DAYS * DAY, 5000],
      ['the last month', T0 + (YEAR_DAYS - 30) * DAY, T0 + YEAR_DAYS * DAY, 1000],
    ] as const) {
      const h = history();
      t = performance.now();
      const list = await h.episodes({ fromMs, toMs });
      const coldMs = performance.now() - t;
      t = performance.now();
      const again = await h.episodes({ fromMs, toMs });
      const cachedMs = performance.now() - t;
      const expected = reference.episodes({ fromMs, toMs, nowMs });
      const ok = same(list, expected) && same(again, expected);
      rows.push({ area: 'billing', metric: `${label} from influxd: ${list.length} courses, ${PUMPS} patients (cold)`, value: coldMs, unit: 'ms', target: `< ${coldTarget}`, pass: coldMs < coldTarget });
      rows.push({ area: 'billing', metric: `${label} from influxd again (cached)`, value: cachedMs, unit: 'ms', target: '< 1000', pass: cachedMs < 1000 });
      rows.push({ area: 'billing', metric: `${label} from influxd equals the answer from memory`, value: ok ? 1 : 0, unit: '', target: '1', pass: ok });
    }
  } finally {
    await influxd.dispose();
  }
  return rows;
}
