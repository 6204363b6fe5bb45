import { test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { PtyPair } from '../../../simulators/ptyPair.ts';
import type { SerialPumpPort } from '../../../simulators/serialPumpPort.ts';
import { startNpmScript } from '../../helpers/childProcess.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';
import { gatewayNodePid, sendLines, startGateway, startPump, startRecorder, stopGateway, waitForIdentities } from './gatewayHarness.ts';
import { syntheticSentences } from './syntheticPump.ts';

let broker: Broker;
let tmp: TempDir;
let pty: PtyPair;
let pump: SerialPumpPort;

beforeAll(async () => {
  broker = await startMosquitto();
  tmp = tempDir('pumpwatch-gw-cli-');
  ({ pty, pump } = await startPump(tmp.path, 'cli'));
});

afterAll(async () => {
  await pump?.close();
  await pty?.stop();
  await broker?.dispose();
  tmp?.remove();
});

test('a bad option exits 2 with one line', async () => {
  for (const args of [['--id', 'x'], ['--id', 'x', '--serial', '/dev/null', '--mqtt', 'http://h'], ['--what']]) {
    const p = startNpmScript('gateway', args);
    const code = await p.exited;
    assert.equal(code, 2, `exit code for ${args.join(' ')}`);
    const out = p.lines.filter((l) => l.trim() !== '' && !l.startsWith('npm '));
    assert.equal(out.length, 1, `one line: ${out.join(' | ')}`);
    assert.match(out[0] as string, /^gateway: /);
  }
});

test('broker down at start is not an exit reason; retained online at connect; SIGTERM flushes, publishes offline, exits 0', async () => {
  // subscribed (a persistent session) before the broker goes down: after the restart the gateway
  // reconnects within its 1 s reconnect period, and QoS 1 sentences published before any subscriber
  // is back are acknowledged by the broker and delivered to no one
  const rec = await startRecorder(broker.url, 'home5');
  await broker.stop();
  const gw = startGateway({ id: 'home5', serial: [pty.gatewayPath], mqtt: broker.url, queueDir: join(tmp.path, 'q') });
  try {
    await gw.waitForLine(/"event":"link_up"/, 30_000);
    const lines = syntheticSentences('CS7-CLI01', 50);
    await sendLines(pump, lines);
    // a fixed wait on purpose: it proves the gateway does not exit without a broker
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(gw.child.exitCode, null, 'still running without a broker');
    await broker.start();
    await waitForIdentities(rec, 50, 20_000);
    await waitFor(() => rec.availability?.state === 'online', 10_000, 'retained online');
    const pid = gatewayNodePid(gw);
    assert.ok(pid);
    process.kill(pid, 'SIGTERM');
    assert.equal(await gw.exited, 0, 'exit 0');
    await waitFor(() => rec.availability?.state === 'offline', 10_000, 'retained offline');
    assert.ok(gw.lines.some((l) => l.includes('"event":"stopped"') && l.includes('"queueDepth":0')));
    assert.equal(rec.messages.length, 50);
  } finally {
    await rec.close();
    await stopGateway(gw);
  }
});

test('a gateway killed with kill -9 leaves its last will: retained offline', async () => {
  const gw = startGateway({ id: 'home6', serial: [pty.gatewayPath], mqtt: broker.url, queueDir: join(tmp.path, 'q6') });
  const rec = await startRecorder(broker.url, 'home6');
  try {
    await gw.waitForLine(/"event":"broker_up"/, 30_000);
    await waitFor(() => rec.availability?.state === 'online', 10_000, 'online');
    await gw.kill9();
    await waitFor(() => rec.availability?.state === 'offline', 60_000, 'last will offline (after keepalive)');
  } finally {
    await rec.close();
    await stopGateway(gw);
  }
});
