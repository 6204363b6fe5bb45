/**
 * `npm run demo`: the whole system on one machine. Mosquitto and influxd as child processes with
 * their data in ./.data/demo (or MQTT_URL / INFLUX_URL when given), a throwaway PostgreSQL in a
 * temp folder (or DATABASE_URL when given), the server, demo logins (admin, pharmacist, two nurses), the
 * clinical records of the homes seeded through the HTTP API, and seven simulated homes, each a pump
 * on its own virtual serial port behind its own gateway process. Ctrl-C stops everything.
 *
 * The outputs are wired to things a person can watch: an on-call rota of the demo's two nurses,
 * a local SMTP mailbox the pages go to (printed, kept as .eml files), Web Push keys made at start,
 * and the demo's own `npm run hl7-listen` writing the HL7 feed to hl7.jsonl.
 *
 * PUMPWATCH_DEMO_DIR puts data and logs elsewhere (the tests do); PUMPWATCH_DEMO_PASSWORD sets the
 * demo accounts' password.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import webpush from 'web-push';
import { parsePumpMessage } from '../protocol/payloads.ts';
import { parseTopic } from '../protocol/topics.ts';
import { startSimulatedPump, type SimulatedPump } from '../simulators/simulatedPump.ts';
import { Children, stopChild, type Child } from './demo/children.ts';
import { demoClinicalRecords, MISPROGRAMMED_HOMES, UNASSIGNED_HOMES } from './demo/clinicalRecords.ts';
import { DEMO_HOMES } from './demo/homes.ts';
import { describeMail, startMailSink, type MailSink } from './demo/mailSink.ts';
import { DEMO_NURSES, demoRota, seedOncall } from './demo/oncall.ts';
import { startDemoProxy, type DemoProxy } from './demo/proxy.ts';
import { freePort, startInfluxd, startMosquitto, until } from './demo/services.ts';
import { seedDemoClinical } from './demoClinical.ts';
import { startPostgres, type PostgresServer } from './services/postgres.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_DATA = join(ROOT, '.data', 'demo');
const DATA = process.env.PUMPWATCH_DEMO_DIR ?? DEFAULT_DATA;
/** a folder the demo made, and so may empty at the next start */
const MARKER = '.pumpwatch-demo';
const DEMO_PASSWORD = process.env.PUMPWATCH_DEMO_PASSWORD ?? 'pumpwatch-demo';
/** the demo's accounts, all with DEMO_PASSWORD; the pharmacist seeds the clinical records, the admin the rota */
const DEMO_ACCOUNTS: readonly { username: string; role: string; email?: string }[] = [
  { username: 'demo', role: 'admin' },
  { username: 'pharmacist', role: 'pharmacist' },
  ...DEMO_NURSES.map((n) => ({ username: n.username, role: 'nurse', email: n.email })),
];
/** each person's time to accept a page before the next is paged: short enough to watch */
const DEMO_PAGE_ACCEPT_S = process.env.PAGE_ACCEPT_S ?? '60';

const say = (line: string): void => { process.stdout.write(`${line}\n`); };

/** `--instances N` (1-5): N servers in CLUSTER_MODE=lease behind one address (docs/demo.md) */
function instancesArg(argv: readonly string[]): number {
  const i = argv.indexOf('--instances');
  const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--instances='))?.slice('--instances='.length);
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5) {
    say(`pumpwatch demo: --instances takes 1 to 5, got "${raw}"`);
    process.exit(1);
  }
  return n;
}
const INSTANCES = instancesArg(process.argv.slice(2));
/** short leases in the demo: a killed instance's pumps move within 10 s */
const DEMO_LEASE_S = '10';

async function main(): Promise<void> {
  // a fresh demo each time: the scenarios are laid to end at the present
  try {
    freshDataDir();
  } catch (err) {
    say(`pumpwatch demo: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  mkdirSync(join(DATA, 'ptys'), { recursive: true });
  const children = new Children(join(DATA, 'logs'));
  const pumps: SimulatedPump[] = [];
  const gateways: Child[] = [];
  let watcher: MqttClient | null = null;
  let postgres: PostgresServer | null = null;
  let proxy: DemoProxy | null = null;
  let mailbox: MailSink | null = null;
  let stopping = false;

  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('\npumpwatch demo: stopping ...');
    await watcher?.endAsync(true).catch(() => undefined);
    // gateways first (they flush and publish offline), then the pumps and the rest, newest first
    await Promise.all(gateways.map((g) => stopChild(g, 10_000)));
    await Promise.all(pumps.map((p) => p.stop()));
    await proxy?.close();
    await children.stopAll();
    // the server has sent its last page
    await mailbox?.close();
    // the server has flushed and gone: the database can go now
    await postgres?.stop().catch((err: unknown) => say(`pumpwatch demo: postgresql: ${err instanceof Error ? err.message : String(err)}`));
    say('pumpwatch demo: stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    say(`pumpwatch demo: data and logs in ${DATA}`);
    const mqttUrl = process.env.MQTT_URL ?? await startMosquitto(children, DATA);
    say(`  broker    ${mqttUrl}${process.env.MQTT_URL ? ' (MQTT_URL)' : ''}`);
    const influxUrl = process.env.INFLUX_URL ?? await startInfluxd(children, DATA, 'pumpwatch_demo');
    say(`  influxdb  ${influxUrl}${process.env.INFLUX_URL ? ' (INFLUX_URL)' : ''}`);
    let databaseUrl = process.env.DATABASE_URL;
    if (databaseUrl === undefined) {
      postgres = await startPostgres({ database: 'pumpwatch_demo' });
      databaseUrl = postgres.url;
      if (stopping) { await postgres.stop(); return; }
    }
    say(`  postgres  ${withoutPassword(databaseUrl)}${process.env.DATABASE_URL ? ' (DATABASE_URL)' : ` (folder ${postgres?.dir ?? ''})`}`);

    const port = process.env.PORT ? Number(process.env.PORT) : await freePort(8080);
    const publicUrl = `http://127.0.0.1:${port}`;

    // paging by e-mail into the demo's own mailbox (SMTP_URL given: pages go there instead)
    let smtpUrl = process.env.SMTP_URL;
    const mailDir = join(DATA, 'mail');
    if (smtpUrl === undefined) {
      mailbox = await startMailSink({ folder: mailDir, onMail: (m) => say(describeMail(m)) });
      smtpUrl = mailbox.url;
    }
    say(`  mailbox   ${smtpUrl}${mailbox ? ` (pages printed here and kept in ${mailDir}/*.eml)` : ' (SMTP_URL)'}`);
    // Web Push: a key pair for this run unless given, so the board offers "Get alerts on this device"
    const given = process.env.VAPID_PUBLIC_KEY !== undefined && process.env.VAPID_PRIVATE_KEY !== undefined;
    const vapid = given ? null : webpush.generateVAPIDKeys();
    say(`  web push  ${given ? 'VAPID keys from the environment' : 'VAPID keys made for this run'}: "Get alerts on this device" on the board`);
    // the HL7 feed into the demo's own receiver (HL7_MLLP_TARGETS given: there instead)
    let hl7Targets = process.env.HL7_MLLP_TARGETS;
    const hl7File = join(DATA, 'hl7.jsonl');
    if (hl7Targets === undefined) {
      const listen = children.start('hl7-listen', 'npm', ['run', '--silent', 'hl7-listen', '--', '--port', '0', '--jsonl', hl7File]);
      const line = await listen.waitForLine(/listening for MLLP on \S+:\d+/, 60_000);
      hl7Targets = `127.0.0.1:${/:(\d+)/.exec(line)?.[1] ?? ''}`;
      void listen.exited.then((c) => { if (!stopping) say(`pumpwatch demo: hl7-listen exited with ${c} (see ${DATA}/logs/hl7-listen.log)`); });
    }
    say(`  hl7       MLLP to ${hl7Targets}${process.env.HL7_MLLP_TARGETS ? ' (HL7_MLLP_TARGETS)' : `: the feed is written to ${hl7File} (one JSON line a message; printed in logs/hl7-listen.log)`}`);

    const serverEnv = {
      MQTT_URL: mqttUrl, INFLUX_URL: influxUrl, DATABASE_URL: databaseUrl, HOST: '127.0.0.1', PORT: String(port),
      PUMPWATCH_USERS_FILE: join(DATA, 'users.json'), PUMPWATCH_JOURNAL_DIR: join(DATA, 'server-journal'),
      // accelerated homes: a dropped link should page within a minute, not five
      SIGNAL_LOST_S: process.env.SIGNAL_LOST_S ?? '60',
      PUBLIC_URL: publicUrl, SMTP_URL: smtpUrl, PAGE_FROM: process.env.PAGE_FROM ?? 'pumpwatch@demo.pumpwatch.example',
      PAGE_ACCEPT_S: DEMO_PAGE_ACCEPT_S, HL7_MLLP_TARGETS: hl7Targets,
      ...(vapid ? { VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey } : {}),
      VAPID_SUBJECT: process.env.VAPID_SUBJECT ?? 'mailto:pumpwatch@demo.pumpwatch.example',
    };
    const hasServer = existsSync(join(ROOT, 'server', 'main.ts'));
    let login = 'none (the server is not there yet)';
    if (existsSync(join(ROOT, 'server', 'cli', 'users.ts'))) {
      // one after another: each writes the same accounts store
      for (const a of DEMO_ACCOUNTS) {
        const args = ['run', '--silent', 'users', '--', 'add', a.username, '--role', a.role, ...(a.email ? ['--email', a.email] : [])];
        const users = children.start(`users-${a.username}`, 'npm', args, { env: serverEnv, input: `${DEMO_PASSWORD}\n` });
        if ((await users.exited) !== 0) throw new Error(`could not create the demo login ${a.username} (see ${DATA}/logs/users-${a.username}.log)`);
      }
      login = `${DEMO_ACCOUNTS.map((a) => `${a.username} (${a.role})`).join(', ')}, password ${DEMO_PASSWORD}`;
    }
    let killHint = '';
    if (hasServer && INSTANCES > 1) {
      // N instances dividing the pumps by leases, behind a small proxy on the dashboard's port
      const ports: number[] = [];
      for (let i = 0; i < INSTANCES; i++) ports.push(await freePort(9100 + i));
      const pids: string[] = [];
      await Promise.all(ports.map(async (p, i) => {
        const name = `server-${i + 1}`;
        const server = children.start(name, 'npm', ['run', '--silent', 'server'], {
          env: {
            ...serverEnv, PORT: String(p), PUMPWATCH_JOURNAL_DIR: join(DATA, `server-journal-${i + 1}`),
            CLUSTER_MODE: 'lease', INSTANCE_ID: `demo-${i + 1}`, LEASE_S: DEMO_LEASE_S,
          },
        });
        const health = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${p}/api/health`)).ok;
        await Promise.race([until(name, health, 90_000), server.exited.then((c) => { throw new Error(`${name} exited with ${c} (see ${DATA}/logs/${name}.log)`); })]);
        void server.exited.then((c) => { if (!stopping) say(`pumpwatch demo: ${name} (port ${p}) exited with ${c}; the others take its pumps over within ${DEMO_LEASE_S} s`); });
        pids.push(`    ${name}  http://127.0.0.1:${p}  pid ${server.proc.pid ?? '?'} (its node process is in that process group: kill -9 -${server.proc.pid ?? '?'})`);
      }));
      proxy = await startDemoProxy({ port, targets: ports });
      say(`  ${INSTANCES} server instances (CLUSTER_MODE=lease, LEASE_S=${DEMO_LEASE_S}) behind http://127.0.0.1:${port}:`);
      for (const l of pids.sort()) say(l);
      killHint = `\n  kill one (kill -9 -<pid> above) and watch the others take its pumps: GET /api/health on each shows "cluster":{"owned":…}`;
      await seedRecords(publicUrl);
      await seedRota(publicUrl);
    } else if (hasServer) {
      const server = children.start('server', 'npm', ['run', '--silent', 'server'], { env: serverEnv });
      const health = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok;
      await Promise.race([until('the server', health, 60_000), server.exited.then((c) => { throw new Error(`the server exited with ${c} (see ${DATA}/logs/server.log)`); })]);
      void server.exited.then((c) => { if (!stopping) say(`pumpwatch demo: the server exited with ${c} (see ${DATA}/logs/server.log)`); });
      // the pharmacy records and assigns the pumps before they are connected at home
      await seedRecords(publicUrl);
      // before the pumps: the chain of an alert is the one on call when it is raised
      await seedRota(publicUrl);
    }

    watcher = watch(mqttUrl, !hasServer);
    say('  homes (each a pump on its own virtual serial port behind its own gateway):');
    await Promise.all(DEMO_HOMES.map(async (home) => {
      const ptyPath = join(DATA, 'ptys', home.gatewayId);
      const pump = await startSimulatedPump({
        scenario: home.scenario, ptyPath, serial: home.serial, speed: home.speed, historyEndingNow: true,
        liveFromH: home.liveFromH, continueLive: true, hold: true, seed: DEMO_HOMES.indexOf(home) + 1,
      });
      pumps.push(pump);
      const gw = children.start(`gateway-${home.gatewayId}`, 'npm', ['run', '--silent', 'gateway', '--',
        '--id', home.gatewayId, '--serial', ptyPath, '--mqtt', mqttUrl, '--queue-dir', join(DATA, 'gateways', home.gatewayId)]);
      gateways.push(gw);
      void gw.exited.then((c) => { if (!stopping) say(`pumpwatch demo: gateway ${home.gatewayId} exited with ${c} (see its log)`); });
      // the pump waits until the gateway holds its end of the cable, so nothing piles up in the pty
      await gw.waitForLine(/serial link up|"link_up"/, 60_000).catch((err: unknown) => say(`  ${home.gatewayId}: ${err instanceof Error ? err.message : String(err)}`));
      pump.begin();
      say(`    ${home.gatewayId}  ${home.serial}  ${home.scenario.padEnd(13)} ${home.story}`);
    }));

    say('');
    if (hasServer) {
      say(`pumpwatch demo is running.  Dashboard: ${publicUrl}\n  logins: ${login}${killHint}`);
      say(`  pages: a high alert pages ${DEMO_NURSES[0]?.username ?? 'the first nurse'} at once (printed below with its accept link); unaccepted after ${DEMO_PAGE_ACCEPT_S} s, ${DEMO_NURSES[1]?.username ?? 'the next'} is paged`);
    }
    else say('pumpwatch demo is running (no server yet): relayed MQTT traffic follows.');
    say('Ctrl-C stops everything.\n');
  } catch (err) {
    say(`pumpwatch demo: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  }
}

/** Creates the homes' patients, orders and assignments as the pharmacist; the demo goes on without them on failure. */
async function seedRecords(baseUrl: string): Promise<void> {
  const records = demoClinicalRecords(DEMO_HOMES, Date.now());
  try {
    const r = await seedDemoClinical({ baseUrl, username: 'pharmacist', password: DEMO_PASSWORD, records });
    if (r.kind === 'off') {
      say('  clinical records: off (the server answers 503 clinical_records_off: no DATABASE_URL); telemetry only');
      return;
    }
    say(`  clinical records: ${r.patients.length} fictional patients, ${r.orders.length} orders, ${r.assignments.length} pumps assigned`
      + ` (${UNASSIGNED_HOMES.join(', ')} not assigned; ${MISPROGRAMMED_HOMES.join(', ')} programmed against their orders)`);
  } catch (err) {
    say(`  clinical records: not seeded: ${err instanceof Error ? err.message : String(err)} (see ${DATA}/logs/server.log)`);
  }
}

/** Puts the demo's nurses on call (as the admin); the demo goes on without paging on failure. */
async function seedRota(baseUrl: string): Promise<void> {
  const chain = DEMO_NURSES.map((n) => n.username);
  try {
    const shifts = await seedOncall({ baseUrl, username: 'demo', password: DEMO_PASSWORD, shifts: demoRota(Date.now(), chain) });
    const nurses = DEMO_NURSES.map((n, i) => `${i + 1}. ${n.username} <${n.email}>`).join(', ');
    say(`  on call: ${nurses}; ${shifts.length} daily shifts to ${shifts.at(-1)?.to ?? '?'}; each has ${DEMO_PAGE_ACCEPT_S} s to accept a page (PAGE_ACCEPT_S)`);
  } catch (err) {
    say(`  on call: not set: ${err instanceof Error ? err.message : String(err)} (see ${DATA}/logs/server.log)`);
  }
}

/** Empties the data folder, but only one the demo made (or the default one): never someone's folder by mistake. */
function freshDataDir(): void {
  if (existsSync(DATA) && DATA !== DEFAULT_DATA && readdirSync(DATA).length > 0 && !existsSync(join(DATA, MARKER))) {
    throw new Error(`PUMPWATCH_DEMO_DIR ${DATA} is not empty and was not made by the demo: refusing to clear it`);
  }
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(DATA, { recursive: true });
  writeFileSync(join(DATA, MARKER), 'made by npm run demo; emptied at its next start\n');
}

const withoutPassword = (url: string): string => url.replace(/:\/\/([^:/@]+):[^@]*@/, '://$1:***@');

/** Prints the pumps' events as they arrive on the broker (every sentence when `everything`). */
function watch(url: string, everything: boolean): MqttClient {
  const client = mqtt.connect(url, { clientId: `pumpwatch-demo-watch-${process.pid}`, clean: true, reconnectPeriod: 2000 });
  client.on('connect', () => { client.subscribe(['pumpwatch/+/pumps/+', 'pumpwatch/+/availability'], { qos: 1 }); });
  client.on('error', () => undefined);
  client.on('message', (topic, body) => {
    const t = parseTopic(topic);
    if (t?.kind === 'availability') { say(`[${t.gateway}] ${body.toString()}`); return; }
    if (t?.kind !== 'pump') return;
    const r = parsePumpMessage(body, t.serial);
    if (!r.ok) return;
    const m = r.message;
    if (everything) say(`[${t.gateway}] ${m.raw}`);
    else if (m.type === 'event') say(`[${t.gateway}] ${m.pump} ${m.time} ${m.code} ${m.detail}`);
  });
  return client;
}

void main();
