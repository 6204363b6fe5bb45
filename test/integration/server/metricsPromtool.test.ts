/**
 * /metrics of the real server (bundle under npm, real Mosquitto, influxd and PostgreSQL) after valid and
 * invalid input, checked by Prometheus' own linter: Debian's `promtool check metrics`
 * (scripts/setup.sh installs the prometheus package when promtool is missing).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { METRICS } from '../../../server/metrics/catalogue.ts';
import { CLUSTER_RELAY_DROP_REASONS, INGEST_DROP_REASONS } from '../../../server/ingest/dropReasons.ts';
import { freePort } from '../../helpers/ports.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { waitFor } from '../../helpers/wait.ts';
import { capturePayloads, metricValue, publishAll, publisher, startStack, TOKEN, type ServerStack } from './serverStack.ts';

/** runs `promtool check metrics` on `text`; exit code and everything it printed */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    p.on('error', (err) => reject(new Error(`promtool: ${err.message} (scripts/setup.sh installs the prometheus package)`)));
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}

async function scrape(stack: ServerStack): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`http://127.0.0.1:${stack.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

const dropped = (reason: string): string => `pumpwatch_ingest_dropped_total{reason="${reason}"}`;

describe('/metrics of the real server', () => {
  let stack: ServerStack;
  let database: PostgresServer;
  const payloads = capturePayloads('occlusion-at-20h.log').slice(0, 40);

  beforeAll(async () => {
    stack = await startStack();
    database = await startPostgres();
    // every part that has metrics switched on: leases (scale-out and handover), the relay, paging
    // (PostgreSQL) and an HL7 receiver (nobody listening: a backlog)
    await stack.startServer({
      DATABASE_URL: database.url, CLUSTER_MODE: 'lease', INSTANCE_ID: 'metrics-it', CLUSTER_RELAY: 'on',
      HL7_MLLP_TARGETS: `127.0.0.1:${await freePort()}`,
    });
    const pub = await publisher(stack.broker.url, 'metrics-pub');
    try {
      await publishAll(pub, 'gw-1', payloads);
      await publishAll(pub, 'gw-1', payloads.slice(0, 5)); // redelivered: DUPLICATE
      const serial = payloads[0]!.serial;
      const good = JSON.parse(payloads[10]!.body) as { raw: string };
      const wrongChecksum = good.raw.replace(/\*(..)$/, (_, cs: string) => (cs === 'FF' ? '*00' : '*FF'));
      await pub.publishAsync(`pumpwatch/gw-1/pumps/${serial}`, 'not json at all', { qos: 1 });
      await pub.publishAsync(`pumpwatch/gw-1/pumps/${serial}`, JSON.stringify({ ...good, raw: wrongChecksum }), { qos: 1 });
      await pub.publishAsync('pumpwatch/gw-1/availability', '{"state":"sleeping"}', { qos: 1 });
      await pub.publishAsync('pumpwatch/_server/alerts/x', 'not json', { qos: 1 });
    } finally {
      await pub.endAsync();
    }
    await waitFor(async () => (await metricValue(stack, 'pumpwatch_ingest_accepted_total')) === payloads.length
      && (await metricValue(stack, 'pumpwatch_cluster_relay_dropped_total{reason="BAD_CLUSTER_MESSAGE"}')) === 1
      && (await metricValue(stack, dropped('BAD_AVAILABILITY'))) === 1, 30_000, 'every message handled');
  });

  afterAll(async () => {
    await stack?.dispose();
    await database?.stop();
  });

  test('promtool check metrics passes on it: exit 0, no lint complaint', async () => {
    const { status, type, text } = await scrape(stack);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE pumpwatch_ingest_dropped_total counter'); // promtool passes empty input too
    const check = await promtoolCheck(text);
    expect(check.output).toBe('');
    expect(check.code).toBe(0);
  });

  test('has every declared metric, the process metrics, and no rate gauge', async () => {
    const { text } = await scrape(stack);
    const typed = new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]));
    for (const m of Object.values(METRICS)) expect(typed, m.name).toContain(m.name);
    expect(typed).toContain('pumpwatch_process_resident_memory_bytes');
    expect(typed).toContain('pumpwatch_nodejs_heap_size_used_bytes');
    expect(typed).not.toContain('pumpwatch_ingest_rate');
    for (const r of INGEST_DROP_REASONS) expect(text, r).toContain(`${dropped(r)} `);
    for (const r of CLUSTER_RELAY_DROP_REASONS) expect(text, r).toContain(`pumpwatch_cluster_relay_dropped_total{reason="${r}"} `);
  });

  test('the drop counters moved by reason, the rest stayed at 0', async () => {
    expect(await metricValue(stack, dropped('DUPLICATE'))).toBe(5);
    expect(await metricValue(stack, 'pumpwatch_ingest_duplicates_total')).toBe(5);
    expect(await metricValue(stack, dropped('NOT_JSON'))).toBe(1);
    expect(await metricValue(stack, dropped('BAD_RAW:BAD_CHECKSUM'))).toBe(1);
    expect(await metricValue(stack, dropped('BAD_AVAILABILITY'))).toBe(1);
    expect(await metricValue(stack, 'pumpwatch_cluster_relay_dropped_total{reason="BAD_CLUSTER_MESSAGE"}')).toBe(1);
    expect(await metricValue(stack, dropped('BAD_JOURNAL_ENTRY'))).toBe(0);
    expect(await metricValue(stack, dropped('TOPIC_MISMATCH'))).toBe(0);
  });
});
