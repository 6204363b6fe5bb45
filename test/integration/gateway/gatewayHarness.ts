import mqtt, { type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePumpMessage, type PumpMessage } from '../../../protocol/payloads.ts';
import { PtyPair } from '../../../simulators/ptyPair.ts';
import { SerialPumpPort } from '../../../simulators/serialPumpPort.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';

/** A subscriber that records every pump message and the latest retained diagnostics/availability. */
export interface Recorder {
  client: MqttClient;
  messages: PumpMessage[];
  invalid: number;
  diagnostics: Record<string, unknown> | null;
  availability: { state: string; time: string } | null;
  /** distinct identities seen */
  identities(): Set<string>;
  close(): Promise<void>;
}

export async function startRecorder(url: string, gatewayId: string, clientId = `rec-${gatewayId}-${process.pid}`): Promise<Recorder> {
  // a persistent session so nothing is missed while the recorder or the broker restarts
  const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 200 });
  const rec: Recorder = {
    client, messages: [], invalid: 0, diagnostics: null, availability: null,
    identities: () => new Set(rec.messages.map((m) => `${m.pump}|${m.seq}|${m.time}`)),
    async close() {
      await client.endAsync(true);
    },
  };
  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    if (parts[2] === 'pumps') {
      const v = parsePumpMessage(payload, parts[3]);
      if (v.ok) rec.messages.push(v.message);
      else rec.invalid++;
    } else if (parts[2] === 'diagnostics') {
      rec.diagnostics = JSON.parse(payload.toString()) as Record<string, unknown>;
    } else if (parts[2] === 'availability') {
      rec.availability = JSON.parse(payload.toString()) as { state: string; time: string };
    }
  });
  await client.subscribeAsync(`pumpwatch/${gatewayId}/#`, { qos: 1 });
  return rec;
}

export function startGateway(args: { id: string; serial: string[]; mqtt: string; queueDir: string; extra?: string[] }): RunningProcess {
  return startNpmScript('gateway', [
    '--id', args.id, ...args.serial.flatMap((s) => ['--serial', s]), '--mqtt', args.mqtt, '--queue-dir', args.queueDir,
    ...(args.extra ?? []),
  ]);
}

/** A pump on its own pty pair. */
export async function startPump(dir: string, name: string): Promise<{ pty: PtyPair; pump: SerialPumpPort }> {
  const pty = new PtyPair(join(dir, `${name}.tty`));
  await pty.start();
  const pump = new SerialPumpPort({ path: pty.pumpPath });
  await pump.open();
  return { pty, pump };
}

/** Sends lines, pausing now and then so the pty buffer (a few kB) never overflows. */
export async function sendLines(pump: SerialPumpPort, lines: string[], opts: { lost?: (i: number) => boolean } = {}): Promise<void> {
  for (const [i, line] of lines.entries()) {
    await pump.send(line, { lost: opts.lost?.(i) ?? false });
    if (i % 50 === 49) await pump.drain();
  }
  await pump.drain();
}

/** PID of the node process running gateway/main.ts under npm (for RSS sampling). */
export function gatewayNodePid(proc: RunningProcess): number | null {
  const root = proc.child.pid;
  if (!root) return null;
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const stack = [root];
  const found: number[] = [];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/gateway\/main\.(ts|mjs)/.test(cmd) && !cmd.includes('tsx/dist/cli') && !cmd.includes('bundle.mjs')) found.push(pid);
    } catch {
      /* gone */
    }
    stack.push(...children(pid));
  }
  return found.at(-1) ?? null;
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function waitForIdentities(rec: Recorder, n: number, timeoutMs: number): Promise<void> {
  await waitFor(() => rec.identities().size >= n, timeoutMs, `${n} distinct sentences (have ${rec.identities().size})`, 100);
}

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Stops the gateway and waits for its node process itself to end: npm exits on the signal before
 * the gateway has finished its shutdown (which still writes to its queue folder).
 */
export async function stopGateway(gw: RunningProcess | null | undefined): Promise<void> {
  if (!gw) return;
  const pid = gatewayNodePid(gw);
  await gw.stop();
  if (pid) await waitFor(() => !alive(pid), 20_000, `gateway node process ${pid} gone`);
}

/** Broker, temp folder, one pump on a pty and a recorder: what most gateway tests stand on. */
export interface GatewayRig {
  broker: Broker;
  tmp: TempDir;
  pty: PtyPair;
  pump: SerialPumpPort;
  rec: Recorder;
  queueDir: string;
  /** starts `npm run gateway` on the rig's port and queue folder */
  launch(extra?: string[]): RunningProcess;
  /** stops whatever gateway it launched, then tears the rest down */
  dispose(): Promise<void>;
}

export async function startRig(name: string, gatewayId: string): Promise<GatewayRig> {
  const broker = await startMosquitto();
  const tmp = tempDir(`pumpwatch-gw-${name}-`);
  const { pty, pump } = await startPump(tmp.path, name);
  const rec = await startRecorder(broker.url, gatewayId);
  const queueDir = join(tmp.path, 'queue');
  let gw: RunningProcess | null = null;
  return {
    broker, tmp, pty, pump, rec, queueDir,
    launch(extra = []) {
      gw = startGateway({ id: gatewayId, serial: [pty.gatewayPath], mqtt: broker.url, queueDir, extra });
      return gw;
    },
    async dispose() {
      await stopGateway(gw);
      await rec.close();
      await pump.close();
      await pty.stop();
      await broker.dispose();
      tmp.remove();
    },
  };
}

/** Launches the rig's gateway and waits until it has both its broker and its port. */
export async function launchReady(rig: GatewayRig, extra: string[] = []): Promise<RunningProcess> {
  const gw = rig.launch(extra);
  await gw.waitForLine(/"event":"broker_up"/, 30_000);
  await gw.waitForLine(/"event":"link_up"/, 30_000);
  return gw;
}
