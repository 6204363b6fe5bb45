import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import type { SerialPumpPort } from '../../../simulators/serialPumpPort.ts';
import type { Broker } from '../../helpers/mosquitto.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { RunningProcess } from '../../helpers/childProcess.ts';
import { sendLines, waitForIdentities, startRig, launchReady, type Recorder, type GatewayRig } from './gatewayHarness.ts';
import { syntheticSentences } from './syntheticPump.ts';

const PUMP = 'CS7-FULL01';
const N = 900;
const lines = syntheticSentences(PUMP, N);
let rig: GatewayRig;
let broker: Broker;
let rec: Recorder;
let gw: RunningProcess;
let pump: SerialPumpPort;

beforeAll(async () => {
  rig = await startRig('queuefull', 'home7');
  ({ broker, rec, pump } = rig);
  gw = await launchReady(rig, ['--max-queue-mb', '0.25', '--diagnostics-s', '1']);
});

afterAll(async () => {
  await rig?.dispose();
});

test('a full queue refuses new sentences (logged once), then recovers them through ?HIST when space returns', async () => {
  await broker.stop();
  await gw.waitForLine(/"event":"broker_down"/, 10_000);
  await sendLines(pump, lines);
  await gw.waitForLine(/"event":"queue_full"/, 15_000);
  assert.equal(gw.lines.filter((l) => l.includes('"event":"queue_full"')).length, 1, 'logged once per episode');
  assert.equal(gw.child.exitCode, null, 'a full queue is not a crash');
  await broker.start();
  await waitForIdentities(rec, N, 45_000);
  const ids = rec.identities();
  for (let i = 0; i < N; i++) assert.ok(ids.has(`${PUMP}|${i}|${lines[i]?.split(',')[3]}`), `seq ${i} arrived`);
  assert.ok(gw.lines.some((l) => l.includes('"event":"refused_recovery"')));
  const d = await waitFor(() => {
    const x = rec.diagnostics as { dropped?: Record<string, number>; queue?: { depth: number } } | null;
    return x && x.queue?.depth === 0 && (x.dropped?.QUEUE_FULL ?? 0) > 0 ? x : null;
  }, 10_000, 'diagnostics counting QUEUE_FULL');
  assert.ok((d.dropped?.QUEUE_FULL ?? 0) >= 100, `refused: ${JSON.stringify(d.dropped)}`);
  assert.equal(rec.messages.length, N, "recovered without duplicates");
});
