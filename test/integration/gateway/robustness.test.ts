import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SerialPumpPort } from '../../../simulators/serialPumpPort.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { RunningProcess } from '../../helpers/childProcess.ts';
import { gatewayNodePid, rssMb, waitForIdentities, startRig, launchReady, type Recorder, type GatewayRig } from './gatewayHarness.ts';
import { syntheticSentences } from './syntheticPump.ts';

const PUMP = 'CS7-NOISE1';
const lines = syntheticSentences(PUMP, 300);
let rig: GatewayRig;
let rec: Recorder;
let gw: RunningProcess;
let pump: SerialPumpPort;

beforeAll(async () => {
  rig = await startRig('robustness', 'home4');
  ({ rec, pump } = rig);
  gw = await launchReady(rig, ['--diagnostics-s', '1']);
});

afterAll(async () => {
  await rig?.dispose();
});

/** random bytes without LF, so the gateway has to bound a "line" that never ends */
function noiseWithoutLf(bytes: number): Buffer {
  const b = randomBytes(bytes);
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) b[i] = 0x0b;
  return b;
}

/** ~15 MB of garbage around the valid sentences from..to-1. */
async function flood(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    switch (i % 5) {
      case 0: await pump.writeRaw(Buffer.concat([Buffer.alloc(100 * 1024, 0x24), Buffer.from('\r\n')])); break; // 100 kB line
      case 1: await pump.writeRaw(Buffer.concat([randomBytes(3000), Buffer.from('\n')])); break; // binary with LFs inside
      case 2: await pump.writeRaw('$STS,CS7-NOISE1,1,garbage*00\r\n$$$$***,,,\r\n\r\n'); break;
      case 3: await pump.writeRaw(Buffer.concat([noiseWithoutLf(256 * 1024), Buffer.from('\n')])); break; // no line end for 256 kB
      default: break;
    }
    await pump.send(lines[i] as string);
    if (i % 10 === 0) await pump.drain();
  }
  // megabytes with no line end at all, then clean sentences again
  for (let k = 0; k < 4; k++) await pump.writeRaw(noiseWithoutLf(1024 * 1024));
  await pump.writeRaw('\n');
  await pump.drain();
}

test('garbage, binary noise and 100 kB lines never crash it; valid sentences in between all arrive; RSS stays bounded', async () => {
  const pid = gatewayNodePid(gw);
  assert.ok(pid, 'found the gateway node process');
  await pump.send(lines[0] as string);
  await waitForIdentities(rec, 1, 10_000);
  const rssStart = rssMb(pid);
  let peak = rssStart;
  const sample = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      /* exited: the assertions below catch it */
    }
  }, 100);
  const peaks: number[] = [];
  try {
    for (const [from, to] of [[1, 100], [100, 200], [200, 300]] as const) {
      await flood(from, to);
      await waitForIdentities(rec, to, 45_000);
      peaks.push(peak);
    }
  } finally {
    clearInterval(sample);
  }
  assert.equal(gw.child.exitCode, null, 'still running');
  assert.equal(rec.messages.length, 300, 'each valid sentence once');
  assert.equal(rec.invalid, 0);
  const d = await waitFor(() => {
    const x = rec.diagnostics as { dropped?: Record<string, number>; linesAccepted?: number } | null;
    return x && x.linesAccepted === 300 ? x : null;
  }, 10_000, 'diagnostics after the flood');
  assert.ok((d.dropped?.TOO_LONG ?? 0) >= 60, `TOO_LONG counted: ${JSON.stringify(d.dropped)}`);
  assert.ok(Object.keys(d.dropped ?? {}).length >= 3, `several reasons: ${JSON.stringify(d.dropped)}`);
  const [, peak2, peak3] = peaks as [number, number, number];
  process.stderr.write(`gateway RSS: start ${rssStart.toFixed(1)} MB, peaks after each round ${peaks.map((p) => p.toFixed(1)).join(', ')} MB\n`);
  // V8's young generation grows under load up to its cap (tens of MB); a leak keeps growing round after round
  assert.ok(peak3 - rssStart < 70, `RSS grew by ${(peak3 - rssStart).toFixed(1)} MB`);
  assert.ok(peak3 - peak2 < 10, `RSS grew by another ${(peak3 - peak2).toFixed(1)} MB in round 3 (same input as round 2)`);
});
