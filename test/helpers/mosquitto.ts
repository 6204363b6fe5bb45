import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcess, type RunningProcess } from './childProcess.ts';
import { tempDir, type TempDir } from './tempDir.ts';
import { waitFor } from './wait.ts';
import { mosquittoConfig } from '../../scripts/services/mosquitto.ts';
import { portOpen } from '../../scripts/services/portOpen.ts';

export interface Broker {
  port: number;
  url: string;
  dir: string;
  /** (re)starts on the same port with the same persistence folder */
  start(): Promise<void>;
  /** SIGTERM: Mosquitto saves its persistence file and exits */
  stop(): Promise<void>;
  /** removes the temp folder too */
  dispose(): Promise<void>;
}

/** A real Mosquitto on a free port in a temp folder (configuration: scripts/services/mosquitto.ts). */
export async function startMosquitto(extraConfig = ''): Promise<Broker> {
  const port = await freePort();
  const tmp: TempDir = tempDir('pumpwatch-mosquitto-');
  const conf = join(tmp.path, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConfig({ port, dir: tmp.path, extraConfig }));
  let proc: RunningProcess | null = null;
  const broker: Broker = {
    port, url: `mqtt://127.0.0.1:${port}`, dir: tmp.path,
    async start() {
      proc = startProcess('mosquitto', ['-c', conf]);
      await waitFor(() => portOpen(port), 10_000, `mosquitto on ${port}`);
    },
    async stop() {
      if (proc) await proc.stop();
      proc = null;
    },
    async dispose() {
      await broker.stop();
      tmp.remove();
    },
  };
  await broker.start();
  return broker;
}
