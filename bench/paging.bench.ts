/**
 * Paging latency at a steady background load: an occlusion written to a pump's serial port (socat
 * pty) → real gateway → Mosquitto → real server (detect, chain in PostgreSQL, page claimed) → e-mail
 * taken by a local SMTP server (smtp-server), while a simulated fleet publishes 1,000 msg/s to the
 * same broker and server. One nurse on call, per-person grouping off (PAGE_GROUP_S=0: each alarm is
 * its own page, as for alarms a minute apart). Everything on 127.0.0.1; stops by itself.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeSentence } from '../protocol/encode.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { hashPassword } from '../server/auth/passwords.ts';
import { writeUsersFile } from '../server/auth/usersFile.ts';
import { startFleet } from '../simulators/fleet.ts';
import { startGateway, startPump, stopGateway } from '../test/integration/gateway/gatewayHarness.ts';
import { SmtpReceiver } from '../test/integration/paging/receivers.ts';
import { startStack } from '../test/integration/server/serverStack.ts';
import { freePort } from '../test/helpers/ports.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { waitFor } from '../test/helpers/wait.ts';
import type { BenchRow } from './types.ts';

const TRIALS = 60;
const BACKGROUND_RATE = 1000;
const isoNow = (): string => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

function running(pump: string): Sentence[] {
  const time = isoNow();
  return [
    { type: 'program', pump, seq: 0, time, programId: 'PG', drug: 'FLUOROURACIL', rateMlH: 5, volumeMl: 230, hours: 46 },
    { type: 'event', pump, seq: 1, time, code: 'START', detail: 'PG' },
    { type: 'status', pump, seq: 2, time, state: 'RUN', rateMlH: 5, infusedMl: 0, vtbiMl: 230, reservoirMl: 230, pressureMmHg: 35, batteryPct: 90, alarms: [] },
  ];
}

const occluded = (pump: string): Sentence => ({
  type: 'status', pump, seq: 3, time: isoNow(), state: 'ALARM', rateMlH: 5, infusedMl: 0, vtbiMl: 230, reservoirMl: 230, pressureMmHg: 790, batteryPct: 90, alarms: ['OCCL_DN'],
});

async function setRota(base: string): Promise<void> {
  const login = await fetch(`${base}/api/session`, {
    method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'boss', password: 'boss-password-0001' }),
  });
  if (login.status !== 200) throw new Error(`login: HTTP ${login.status}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('pumpwatch_session=')) ?? '';
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const res = await fetch(`${base}/api/oncall`, {
    method: 'PUT', headers: { cookie, origin: base, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
    body: JSON.stringify({ shifts: [{ from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString(), chain: ['ana'] }] }),
  });
  if (res.status !== 200) throw new Error(`rota: HTTP ${res.status} ${await res.text()}`);
}

export async function run(): Promise<BenchRow[]> {
  const [stack, pg, smtpPort] = await Promise.all([startStack(), startPostgres(), freePort()]);
  const smtp = new SmtpReceiver(smtpPort);
  const { pty, pump } = await startPump(stack.dir.path, 'paging');
  const gw = startGateway({ id: 'paging-gw', serial: [pty.gatewayPath], mqtt: stack.broker.url, queueDir: join(stack.dir.path, 'gw') });
  let fleet: ReturnType<typeof startFleet> | null = null;
  try {
    await smtp.start();
    const updatedAt = new Date().toISOString();
    writeUsersFile(join(stack.dir.path, 'users.json'), {
      version: 1,
      users: {
        ana: { role: 'nurse', password: await hashPassword('ana-password-0001'), email: 'ana@homecare.test', updatedAt },
        boss: { role: 'admin', password: await hashPassword('boss-password-0001'), updatedAt },
      },
    });
    const base = `http://127.0.0.1:${stack.port}`;
    await stack.startServer({
      DATABASE_URL: pg.url, PUBLIC_URL: base, SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, PAGE_FROM: 'pager@homecare.test',
      PAGE_ACCEPT_S: '3600', PAGE_GROUP_S: '0',
    });
    await waitFor(() => setRota(base).then(() => true), 30_000, 'rota set');
    await gw.waitForLine(/"event":"link_up"/, 30_000);
    await gw.waitForLine(/"event":"broker_up"/, 30_000);
    const arrived = new Map<string, number>();
    smtp.onMail = (m) => {
      const serial = /Pump: (PG-\d{4})/.exec(m.text)?.[1];
      if (serial && m.kind === 'page' && !arrived.has(serial)) arrived.set(serial, performance.now());
    };

    fleet = startFleet({ mqttUrl: stack.broker.url, pumps: 1000, gateways: 10, ratePerS: BACKGROUND_RATE, durationS: 90, serialPrefix: 'BG', offlineAtEnd: false });
    await new Promise((r) => setTimeout(r, 3000)); // steady state

    const latencies: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const serial = `PG-${String(i).padStart(4, '0')}`;
      for (const s of running(serial)) await pump.send(encodeSentence(s));
      await pump.drain();
      await new Promise((r) => setTimeout(r, 150));
      const t0 = performance.now();
      await pump.send(encodeSentence(occluded(serial)));
      try {
        latencies.push((await waitFor(() => arrived.get(serial), 5000, `page for ${serial}`, 1)) - t0);
      } catch {
        /* counted as not paged within 5 s */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    latencies.sort((a, b) => a - b);
    const p99 = percentile(latencies, 99);
    const background = await fleet.stop();
    fleet = null;
    const achieved = background.acked / (background.elapsedMs / 1000);
    return [
      { area: 'paging', metric: 'background fleet load achieved (QoS 1, acknowledged)', value: achieved, unit: 'msg/s', target: `>= ${BACKGROUND_RATE * 0.95}`, pass: achieved >= BACKGROUND_RATE * 0.95 },
      { area: 'paging', metric: `serial alarm → e-mail page taken by SMTP, p50 (background ${BACKGROUND_RATE} msg/s)`, value: percentile(latencies, 50), unit: 'ms' },
      { area: 'paging', metric: 'serial alarm → e-mail page taken by SMTP, p99', value: p99, unit: 'ms', target: '< 1000', pass: p99 < 1000 },
      { area: 'paging', metric: 'alarms paged within 5 s', value: latencies.length, unit: `of ${TRIALS}`, target: `= ${TRIALS}`, pass: latencies.length === TRIALS },
    ];
  } finally {
    smtp.onMail = null;
    await fleet?.stop();
    await stopGateway(gw);
    await pump.close();
    await pty.stop();
    await stack.dispose();
    await Promise.all([smtp.stop(), pg.stop()]);
  }
}
