import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import type { SerialPumpPort } from '../../../simulators/serialPumpPort.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { RunningProcess } from '../../helpers/childProcess.ts';
import { sendLines, waitForIdentities, startRig, launchReady, type Recorder, type GatewayRig } from './gatewayHarness.ts';
import { syntheticSentences } from './syntheticPump.ts';

const PUMP = 'CS7-LINK01';
const lines = syntheticSentences(PUMP, 400);
let rig: GatewayRig;
let rec: Recorder;
let gw: RunningProcess;
let pump: SerialPumpPort;

beforeAll(async () => {
  rig = await startRig('linkdrops', 'home2');
  ({ rec, pump } = rig);
  gw = await launchReady(rig, ['--diagnostics-s', '1', '--silence-s', '2', '--gap-hold-s', '5']);
});

afterAll(async () => {
  await rig?.dispose();
});

function assertExactlyOnce(upTo: number): void {
  const seqs = rec.messages.map((m) => m.seq);
  assert.equal(seqs.length, new Set(seqs).size, 'no sentence published twice');
  for (let i = 0; i < upTo; i++) assert.ok(seqs.includes(i), `seq ${i} arrived`);
}

test('sentences lost on the wire while the link stays up are recovered by ?HIST at the next one', async () => {
  await sendLines(pump, lines.slice(0, 50));
  await sendLines(pump, lines.slice(50, 60), { lost: () => true });
  await sendLines(pump, lines.slice(60, 70));
  await waitForIdentities(rec, 70, 20_000);
  assertExactlyOnce(70);
  assert.deepEqual(rec.messages.map((m) => m.seq), Array.from({ length: 70 }, (_, i) => i), 'queued in seq order');
  assert.ok(pump.histRequests.includes(50), `asked ?HIST,50 (asked ${pump.histRequests.join(',')})`);
});

test('the device node vanishing again and again: each time the gateway reopens and replays what was missed', async () => {
  let next = 70;
  for (let round = 0; round < 3; round++) {
    await pump.close();
    await rig.pty.stop(); // USB unplugged / BLE bridge restarted: both nodes vanish
    await gw.waitForLine(new RegExp(`"event":"link_down"`), 10_000);
    // the pump carries on; what it sends now is lost on the wire but kept in its history
    await sendLines(pump, lines.slice(next, next + 20), { lost: () => true });
    next += 20;
    await rig.pty.start();
    await pump.open();
    const ups = gw.lines.filter((l) => l.includes('"event":"link_up"')).length;
    await waitFor(() => gw.lines.filter((l) => l.includes('"event":"link_up"')).length > ups, 10_000, 'link up again');
    await sendLines(pump, lines.slice(next, next + 10));
    next += 10;
    await waitForIdentities(rec, next, 20_000);
  }
  assertExactlyOnce(next);
});

test('a link that stays open but goes silent is nudged with ?HIST and recovers what was sent meanwhile', async () => {
  const have = rec.identities().size;
  const asked = pump.histRequests.length;
  await sendLines(pump, lines.slice(have, have + 15), { lost: () => true });
  await waitForIdentities(rec, have + 15, 20_000);
  assert.ok(pump.histRequests.length > asked, 'a ?HIST was sent on silence');
  assertExactlyOnce(have + 15);
  const diag = await waitFor(() => {
    const d = rec.diagnostics as { gapsFound?: number; histRequests?: number; duplicatesDropped?: number } | null;
    return d && (d.histRequests ?? 0) >= 5 ? d : null;
  }, 10_000, 'diagnostics with the history requests');
  assert.ok((diag.gapsFound ?? 0) >= 1);
});

test('a link that stays silent is closed and reopened, then asked for history again', async () => {
  const ups = gw.lines.filter((l) => l.includes('"event":"link_up"')).length;
  await gw.waitForLine(/"event":"link_silent_reopen"/, 15_000);
  await waitFor(() => gw.lines.filter((l) => l.includes('"event":"link_up"')).length > ups, 10_000, 'reopened');
  const have = rec.identities().size;
  await sendLines(pump, lines.slice(have, have + 5));
  await waitForIdentities(rec, have + 5, 10_000);
  assertExactlyOnce(have + 5);
});
