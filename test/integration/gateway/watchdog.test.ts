import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startProcess, type RunningProcess } from '../../helpers/childProcess.ts';
import { startNotifySocket, type NotifySocket } from '../../helpers/notifySocket.ts';
import { waitFor } from '../../helpers/wait.ts';
import { gatewayNodePid, sendLines, startRig, stopGateway, waitForIdentities, type GatewayRig } from './gatewayHarness.ts';
import { syntheticSentences } from './syntheticPump.ts';

const WRAPPER = join(import.meta.dirname, '../../../deploy/bin/pumpwatch-watchdog');
/** the wrapper probes every third of WatchdogSec: 1 s */
const WATCHDOG_USEC = '3000000';
/** the heartbeat may be this old (whole seconds, as `stat` reads it) */
const MAX_AGE_S = 2;
/** long enough for the last heartbeat to age past MAX_AGE_S (plus a second of mtime rounding) and one more probe */
const PINGS_STOP_MS = (MAX_AGE_S + 3) * 1000;
/** three probe intervals */
const NO_PING_WINDOW_MS = 3000;

let rig: GatewayRig;
let notify: NotifySocket;
let run = 0;

beforeAll(async () => {
  rig = await startRig('watchdog', 'home8');
  notify = await startNotifySocket(rig.tmp.path);
});

afterAll(async () => {
  await notify?.stop();
  await rig?.dispose();
});

/** The unit's command line: the real wrapper with the `file:` probe around `npm run gateway`. */
function launchUnderWatchdog(fault?: string): { wrapper: RunningProcess; readyIndex: () => number } {
  const healthFile = join(rig.tmp.path, `gateway-${++run}.health`);
  const before = notify.messages().length;
  const wrapper = startProcess('bash', [
    WRAPPER, `file:${healthFile}`, '--', 'npm', 'run', '--silent', 'gateway', '--',
    '--id', 'home8', '--serial', rig.pty.gatewayPath, '--mqtt', rig.broker.url, '--queue-dir', rig.queueDir,
    '--health-file', healthFile, '--health-s', '0.5',
  ], {
    env: {
      NOTIFY_SOCKET: notify.path, WATCHDOG_USEC, PUMPWATCH_HEALTH_MAX_AGE_S: String(MAX_AGE_S),
      ...(fault ? { PUMPWATCH_GATEWAY_FAULT: fault } : {}),
    },
  });
  // index of this run's READY=1 among all datagrams, -1 before it
  const readyIndex = (): number => {
    const i = notify.messages().slice(before).findIndex((m) => m.split('|').includes('READY=1'));
    return i < 0 ? -1 : before + i;
  };
  return { wrapper, readyIndex };
}

const pingsSince = (index: number): number => notify.messages().slice(index + 1).filter((m) => m === 'WATCHDOG=1').length;
const pingCount = (): number => notify.count('WATCHDOG=1');

function processState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[0] ?? '';
}

/** Pings stop: wait for the last heartbeat to go stale, then see none in three probe intervals. */
async function expectPingsStop(wrapper: RunningProcess): Promise<void> {
  // a fixed wait on purpose: the last heartbeat written before the fault must age past the limit
  await delay(PINGS_STOP_MS);
  const n = pingCount();
  // a fixed wait on purpose: it proves that no ping comes any more
  await delay(NO_PING_WINDOW_MS);
  expect(pingCount()).toBe(n);
  expect(wrapper.child.exitCode, 'the wrapper keeps running; systemd is the one to restart').toBeNull();
}

describe('the gateway under bin/pumpwatch-watchdog (real wrapper, fake notify socket)', () => {
  test('a healthy gateway: READY=1, then WATCHDOG=1 every probe while it relays', async () => {
    const { wrapper, readyIndex } = launchUnderWatchdog();
    try {
      const ready = await waitFor(() => readyIndex() + 1, 30_000, 'READY=1') - 1;
      expect(notify.messages()[ready]).toMatch(/^READY=1\|STATUS=running \(pid \d+\)$/);
      await sendLines(rig.pump, syntheticSentences('CS7-WD01', 10));
      await waitForIdentities(rig.rec, 10, 20_000);
      await waitFor(() => pingsSince(ready) >= 3, 10_000, 'three WATCHDOG=1 after READY=1');
    } finally {
      await stopGateway(wrapper);
    }
  });

  test('an event loop that stops turning stops the pings, though the process still exists', async () => {
    const { wrapper, readyIndex } = launchUnderWatchdog('block-loop:2500');
    try {
      const ready = await waitFor(() => readyIndex() + 1, 30_000, 'READY=1') - 1;
      await waitFor(() => pingsSince(ready) >= 1, 10_000, 'WATCHDOG=1 before the fault');
      await wrapper.waitForLine(/"event":"fault_block_loop"/, 10_000);
      const pid = gatewayNodePid(wrapper);
      expect(pid).not.toBeNull();
      await expectPingsStop(wrapper);
      // sleeping in Atomics.wait: neither stopped nor a zombie, so the `alive` probe would still ping
      expect(processState(pid as number)).toMatch(/^[RS]$/);
    } finally {
      await wrapper.kill9(); // SIGTERM cannot be handled by a blocked loop
    }
  });

  test('an MQTT client that stops reconnecting stops the pings; a broker outage alone does not', async () => {
    const { wrapper, readyIndex } = launchUnderWatchdog('mqtt-no-reconnect');
    try {
      const ready = await waitFor(() => readyIndex() + 1, 30_000, 'READY=1') - 1;
      await waitFor(() => pingsSince(ready) >= 1, 10_000, 'WATCHDOG=1 before the outage');
      await wrapper.waitForLine(/"event":"broker_up"/, 30_000);
      await rig.broker.stop();
      const downAt = Date.now();
      await wrapper.waitForLine(/"event":"broker_down"/, 10_000);
      // within mqtt.js's own recovery time (1 s period + 10 s connect timeout) the client is given the benefit of the doubt
      const pingsDuringOutage = pingCount();
      const line = await wrapper.waitForLine(/"event":"unhealthy"/, 40_000);
      expect(pingCount(), 'pings went on while reconnecting was still due').toBeGreaterThan(pingsDuringOutage);
      expect(Date.now() - downAt).toBeGreaterThanOrEqual(11_000);
      expect(JSON.parse(line)).toMatchObject({ problems: [{ code: 'MQTT_STUCK', part: 'mqtt' }] });
      await expectPingsStop(wrapper);
    } finally {
      await rig.broker.start();
      await stopGateway(wrapper);
    }
  });

  test('without systemd-notify on the PATH the wrapper sends the datagrams itself (socat)', async () => {
    // a PATH with everything the wrapper uses except systemd-notify
    const bin = join(rig.tmp.path, 'bin-without-systemd-notify');
    mkdirSync(bin);
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        if (name === 'systemd-notify') continue;
        try {
          symlinkSync(join(dir, name), join(bin, name));
        } catch {
          /* the same name from an earlier folder wins, as on the PATH */
        }
      }
    }
    const before = notify.messages().length;
    const wrapper = startProcess('bash', [WRAPPER, 'alive', '--', 'sleep', '30'], {
      env: { PATH: bin, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC },
    });
    try {
      await waitFor(() => notify.messages().slice(before).filter((m) => m === 'WATCHDOG=1').length >= 2, 10_000, 'two WATCHDOG=1 through socat');
      expect(notify.messages()[before]).toMatch(/^READY=1\|STATUS=running \(pid \d+\)$/);
    } finally {
      await wrapper.stop();
    }
  });
});
