import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { influxdConfig } from '../services/influxd.ts';
import { mosquittoConfig } from '../services/mosquitto.ts';
import type { Children } from './children.ts';
import { portOpen } from '../services/portOpen.ts';

/** A TCP port on 127.0.0.1 that was free a moment ago (`preferred` when it is free). */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(preferred === 0 ? -1 : freePort(0)));
    srv.listen(preferred, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
    await delay(200);
  }
}

/** Mosquitto as a child process with its data in `<dataDir>/mosquitto`; returns its URL. */
export async function startMosquitto(children: Children, dataDir: string): Promise<string> {
  const dir = join(dataDir, 'mosquitto');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConfig({ port, dir }));
  const child = children.start('mosquitto', 'mosquitto', ['-c', conf]);
  await Promise.race([until('mosquitto', () => portOpen(port), 15_000), child.exited.then((c) => { throw new Error(`mosquitto exited with ${c}`); })]);
  return `mqtt://127.0.0.1:${port}`;
}

/** influxd as a child process with its data in `<dataDir>/influxdb`; returns INFLUX_URL. */
export async function startInfluxd(children: Children, dataDir: string, database: string): Promise<string> {
  const dir = join(dataDir, 'influxdb');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const rpcPort = await freePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(conf, influxdConfig({ port, rpcPort, dir }));
  const child = children.start('influxd', 'influxd', ['-config', conf]);
  const ping = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/ping`)).status === 204;
  await Promise.race([until('influxd', ping, 30_000), child.exited.then((c) => { throw new Error(`influxd exited with ${c}`); })]);
  return `http://127.0.0.1:${port}/${database}`;
}
