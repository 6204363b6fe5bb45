/**
 * `npm run demo`: the whole system on one machine. Mosquitto and influxd as child processes with
 * their data in ./.data/demo (or MQTT_URL / INFLUX_URL when given), the server, a demo login, and
 * five simulated homes, each a pump on its own virtual serial port behind its own gateway process.
 * Ctrl-C stops everything.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { parsePumpMessage } from '../protocol/payloads.ts';
import { parseTopic } from '../protocol/topics.ts';
import { startSimulatedPump, type SimulatedPump } from '../simulators/simulatedPump.ts';
import { Children, stopChild, type Child } from './demo/children.ts';
import { DEMO_HOMES } from './demo/homes.ts';
import { freePort, startInfluxd, startMosquitto, until } from './demo/services.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = join(ROOT, '.data', 'demo');
const DEMO_USER = 'demo';
const DEMO_PASSWORD = process.env.PUMPWATCH_DEMO_PASSWORD ?? 'pumpwatch-demo';

const say = (line: string): void => { process.stdout.write(`${line}\n`); };

async function main(): Promise<void> {
  // a fresh demo each time: the scenarios are laid to end at the present
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  mkdirSync(join(DATA, 'ptys'), { recursive: true });
  const children = new Children(join(DATA, 'logs'));
  const pumps: SimulatedPump[] = [];
  const gateways: Child[] = [];
  let watcher: MqttClient | null = null;
  let stopping = false;

  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('\npumpwatch demo: stopping ...');
    await watcher?.endAsync(true).catch(() => undefined);
    // gateways first (they flush and publish offline), then the pumps and the rest, newest first
    await Promise.all(gateways.map((g) => stopChild(g, 10_000)));
    await Promise.all(pumps.map((p) => p.stop()));
    await children.stopAll();
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

    const port = process.env.PORT ? Number(process.env.PORT) : await freePort(8080);
    const serverEnv = {
      MQTT_URL: mqttUrl, INFLUX_URL: influxUrl, HOST: '127.0.0.1', PORT: String(port),
      PUMPWATCH_USERS_FILE: join(DATA, 'users.json'), PUMPWATCH_JOURNAL_DIR: join(DATA, 'server-journal'),
      // accelerated homes: a dropped link should page within a minute, not five
      SIGNAL_LOST_S: process.env.SIGNAL_LOST_S ?? '60',
    };
    const hasServer = existsSync(join(ROOT, 'server', 'main.ts'));
    let login = 'none (the server is not there yet)';
    if (existsSync(join(ROOT, 'server', 'cli', 'users.ts'))) {
      const users = children.start('users', 'npm', ['run', '--silent', 'users', '--', 'add', DEMO_USER, '--role', 'admin'], { env: serverEnv, input: `${DEMO_PASSWORD}\n` });
      if ((await users.exited) !== 0) throw new Error(`could not create the demo login (see ${DATA}/logs/users.log)`);
      login = `${DEMO_USER} / ${DEMO_PASSWORD}`;
    }
    if (hasServer) {
      const server = children.start('server', 'npm', ['run', '--silent', 'server'], { env: serverEnv });
      const health = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/api/health`)).ok;
      await Promise.race([until('the server', health, 60_000), server.exited.then((c) => { throw new Error(`the server exited with ${c} (see ${DATA}/logs/server.log)`); })]);
      void server.exited.then((c) => { if (!stopping) say(`pumpwatch demo: the server exited with ${c} (see ${DATA}/logs/server.log)`); });
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
      say(`    ${home.gatewayId}  ${home.serial}  ${home.scenario.padEnd(11)} ${home.story}`);
    }));

    say('');
    if (hasServer) say(`pumpwatch demo is running.  Dashboard: http://127.0.0.1:${port}   login: ${login}`);
    else say('pumpwatch demo is running (no server yet): relayed MQTT traffic follows.');
    say('Ctrl-C stops everything.\n');
  } catch (err) {
    say(`pumpwatch demo: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  }
}

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
