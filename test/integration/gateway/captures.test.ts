import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSentence } from '../../../protocol/decode.ts';
import { loadCapture } from '../../../simulators/capture.ts';
import type { PtyPair } from '../../../simulators/ptyPair.ts';
import type { SerialPumpPort } from '../../../simulators/serialPumpPort.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { RunningProcess } from '../../helpers/childProcess.ts';
import { sendLines, startGateway, startPump, startRecorder, stopGateway, type Recorder, waitForIdentities } from './gatewayHarness.ts';

const CAPTURES = join(import.meta.dirname, '../../fixtures/captures');
const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.log')).sort();

let broker: Broker;
let tmp: TempDir;
let rec: Recorder;
let gw: RunningProcess;
const pumps: { file: string; pty: PtyPair; pump: SerialPumpPort }[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  tmp = tempDir('pumpwatch-gw-captures-');
  for (const file of files) pumps.push({ file, ...(await startPump(tmp.path, file.replace('.log', ''))) });
  rec = await startRecorder(broker.url, 'home1');
  gw = startGateway({
    id: 'home1', serial: pumps.map((p) => p.pty.gatewayPath), mqtt: broker.url, queueDir: join(tmp.path, 'queue'),
    extra: ['--diagnostics-s', '1'],
  });
  await gw.waitForLine(/"event":"broker_up"/, 30_000);
  await waitFor(() => gw.lines.filter((l) => l.includes('"event":"link_up"')).length === files.length, 30_000, 'all links up');
});

afterAll(async () => {
  await stopGateway(gw);
  await rec?.close();
  for (const p of pumps) {
    await p.pump.close();
    await p.pty.stop();
  }
  await broker?.dispose();
  tmp?.remove();
});

test('every capture, replayed on its own port at once, arrives complete and exactly once', async () => {
  const captures = files.map((f) => ({ file: f, lines: loadCapture(join(CAPTURES, f)) }));
  const valid = captures.map((c) => c.lines.filter((l) => decodeSentence(l).ok));
  const total = valid.reduce((n, v) => n + v.length, 0);
  await Promise.all(pumps.map((p, i) => sendLines(p.pump, (captures[i] as { lines: string[] }).lines)));
  await waitForIdentities(rec, total, 45_000);
  // a fixed wait on purpose: a duplicate would arrive now, and none must
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(rec.invalid, 0, 'every payload passes the contract validator');
  assert.equal(rec.messages.length, total, 'no sentence twice');
  for (const [i, lines] of valid.entries()) {
    const serial = (decodeSentence(lines[0] as string) as { ok: true; sentence: { pump: string } }).sentence.pump;
    const got = rec.messages.filter((m) => m.pump === serial);
    assert.deepEqual(got.map((m) => m.raw), lines, `${files[i]}: every valid sentence, byte-identical, in order`);
  }
  const noisy = files.indexOf('noisy-link.log');
  assert.equal(valid[noisy]?.length, 36, 'noisy-link holds 36 valid sentences');
  for (const m of rec.messages) assert.match(m.received, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
});

test('diagnostics count the noisy link drops by reason and report links and queue', async () => {
  const diag = await waitFor(() => {
    const d = rec.diagnostics as { dropped?: Record<string, number>; queue?: { depth: number }; linesAccepted?: number } | null;
    return d && d.queue?.depth === 0 && (d.linesAccepted ?? 0) > 0 ? d : null;
  }, 10_000, 'diagnostics with an empty queue');
  const dropped = diag.dropped ?? {};
  const totalDropped = Object.values(dropped).reduce((a, b) => a + b, 0);
  assert.equal(totalDropped, 5, `5 bad lines dropped: ${JSON.stringify(dropped)}`);
  assert.equal(dropped.BAD_CHECKSUM, 1);
  assert.equal(dropped.TOO_LONG, 1);
  assert.equal(dropped.EMPTY, 1);
  const d = rec.diagnostics as Record<string, unknown>;
  assert.equal(d.duplicatesDropped, 0);
  assert.equal(d.gapsFound, 0);
  const links = d.links as Record<string, { state: string }>;
  assert.equal(Object.keys(links).length, files.length);
  for (const l of Object.values(links)) assert.equal(l.state, 'up');
  assert.deepEqual((d.mqtt as { state: string }).state, 'up');
  assert.equal(rec.availability?.state, 'online');
});
