import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeSentence } from '../../../protocol/decode.ts';
import type { Episode } from '../../../protocol/api.ts';
import { startSimulatedPump, type SimulatedPump } from '../../../simulators/simulatedPump.ts';
import type { RunningProcess } from '../../helpers/childProcess.ts';
import { waitFor } from '../../helpers/wait.ts';
import { startGateway } from '../gateway/gatewayHarness.ts';
import { startStack, TOKEN, type ServerStack } from '../server/serverStack.ts';

/** Simulated pumps → socat ptys → real gateway → Mosquitto → real server → InfluxDB → billing CSV and evidence. */
let stack: ServerStack;
let gw: RunningProcess | null = null;
const pumps: SimulatedPump[] = [];
const SCENARIOS = [
  { scenario: 'normal-46h', serial: 'BIL-0001' },
  { scenario: 'early-end', serial: 'BIL-0002' },
];

beforeAll(async () => {
  stack = await startStack();
  await stack.startServer();
  for (const s of SCENARIOS) {
    pumps.push(await startSimulatedPump({ ...s, ptyPath: join(stack.dir.path, `${s.serial}.tty`), historyEndingNow: true, hold: true, pressureNoiseMmHg: 0 }));
  }
  gw = startGateway({ id: 'home-bil', serial: pumps.map((p) => p.pty!.gatewayPath), mqtt: stack.broker.url, queueDir: join(stack.dir.path, 'gw') });
  await waitFor(() => gw!.lines.filter((l) => l.includes('"event":"link_up"')).length === pumps.length, 30_000, 'links up');
  for (const p of pumps) p.begin();
  await Promise.all(pumps.map((p) => p.done));
});

afterAll(async () => {
  await gw?.stop();
  for (const p of pumps) await p.stop();
  await stack?.dispose();
});

const csvRows = (text: string): Record<string, string>[] => {
  const [header, ...rows] = text.trimEnd().split('\r\n');
  const cols = (header ?? '').split(',');
  // the fields used below never contain commas or quotes
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i] ?? `c${i}`, v])));
};

test('the billing CSV from simulated infusions says S9330 for 46 h continuous and S9331 for an early end', async () => {
  const episodes = await waitFor(async () => {
    const eps = await stack.api<Episode[]>('/api/billing/episodes');
    return eps.length === 2 && eps.every((e) => e.end !== null) ? eps : null;
  }, 60_000, 'two closed episodes');
  const byPump = new Map(episodes.map((e) => [e.pump, e]));
  const full = byPump.get('BIL-0001');
  const short = byPump.get('BIL-0002');
  assert.ok(full && short);
  assert.equal(full.code, 'S9330');
  assert.equal(full.continuous24h, true);
  assert.ok(Math.abs(full.deliveryHours - 46) < 0.1, `46 h delivered, got ${full.deliveryHours}`);
  assert.equal(short.code, 'S9331');
  assert.ok(short.deliveryHours > 18 && short.deliveryHours < 20.5, `about 19 h, got ${short.deliveryHours}`);

  const res = await fetch(`http://127.0.0.1:${stack.port}/api/billing/episodes.csv`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
  const rows = csvRows(await res.text());
  assert.equal(rows.length, 2);
  const codes = Object.fromEntries(rows.map((r): [string, string] => [r.pump ?? '', r.code ?? '']));
  assert.deepEqual(codes, { 'BIL-0001': 'S9330', 'BIL-0002': 'S9331' });
});

test('an episode\'s evidence is the pump\'s own sentences, each rechecks by checksum, as many as the episode counts', async () => {
  // storage drains the journal in batches behind detection and billing: wait for it to catch up
  await waitFor(async () => (await stack.api<{ writeBacklog: number }>('/api/health')).writeBacklog === 0, 60_000, 'storage caught up');
  const eps = await stack.api<Episode[]>('/api/billing/episodes?pump=BIL-0001');
  const ep = eps[0];
  assert.ok(ep?.id);
  const res = await fetch(`http://127.0.0.1:${stack.port}/api/billing/episodes/${encodeURIComponent(ep.id)}/evidence`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  const lines = (await res.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { raw: string; seq: number });
  assert.equal(lines.length, ep.evidence.sentences);
  for (const l of lines) {
    const d = decodeSentence(l.raw);
    assert.ok(d.ok, `evidence line ${l.raw} rechecks`);
    assert.equal(d.sentence.seq, l.seq);
  }
  assert.equal(lines[0]?.seq, ep.evidence.firstSeq);
  assert.equal(lines.at(-1)?.seq, ep.evidence.lastSeq);
});
