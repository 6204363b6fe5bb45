import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import pino from 'pino';
import { startFleet, type Fleet } from './fleet.ts';
import { describeScenarios, scenarioPlan } from './scenarios.ts';
import { startSimulatedPump, type SimulatedPump } from './simulatedPump.ts';

const HELP = `Usage: npm run simulate -- [target] [options]

Targets (one):
  --pty <path>              one pump on a virtual serial port (socat pty pair); the gateway opens <path>
  --stdout                  one pump, sentences printed one a line
  --fleet <n> --mqtt <url>  n pumps published straight to MQTT as gateway payloads (load tests)

Pump options:
  --scenario <name>         default normal-46h (list below)
  --speed <n>               pump time runs n times faster than real time (default 1)
  --history-ending-now      the pump clock of the last sentence is now; the past is sent at once
  --live-from <hours>       with --history-ending-now: play from this scenario hour on at --speed, still ending now
  --continue                after the scenario, carry on sending status live
  --serial <serial>         pump serial (default SIM-000001)
  --seed <n>                seed for pressure noise and link faults (default 1)
  --status-interval <s>     10-300 (default 60)
  --start-delay <s>         wait before sending (let the gateway open its end)

Fleet options:
  --gateways <g>            gateway ids sim-gw-1..g (default 1)
  --rate <msgs/s>           aggregate rate (default unlimited)
  --duration <s> | --count <n>   stop by itself
  --fleet-scenarios <a,b>   scenarios cycled over the pumps
  --inflight <n>            publishes awaiting PUBACK (default 1000)

Scenarios:
${describeScenarios().map((l) => `  ${l}`).join('\n')}
`;

class UsageError extends Error {}

function num(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' }, pty: { type: 'string' }, stdout: { type: 'boolean' }, fleet: { type: 'string' },
      mqtt: { type: 'string' }, scenario: { type: 'string' }, speed: { type: 'string' }, 'history-ending-now': { type: 'boolean' },
      'live-from': { type: 'string' }, continue: { type: 'boolean' }, serial: { type: 'string' }, seed: { type: 'string' },
      'status-interval': { type: 'string' }, 'start-delay': { type: 'string' }, gateways: { type: 'string' }, rate: { type: 'string' },
      duration: { type: 'string' }, count: { type: 'string' }, 'fleet-scenarios': { type: 'string' }, inflight: { type: 'string' },
    },
  });
  if (values.help) return { help: true as const };
  const targets = [values.pty !== undefined, values.stdout === true, values.fleet !== undefined].filter(Boolean).length;
  if (targets !== 1) throw new UsageError('choose exactly one target: --pty <path>, --stdout or --fleet <n> --mqtt <url>');
  const scenario = values.scenario ?? 'normal-46h';
  const checkScenario = (s: string): void => {
    if (s.startsWith('capture:')) { if (!existsSync(s.slice(8))) throw new UsageError(`capture file not found: ${s.slice(8)}`); }
    else if (!scenarioPlan(s)) throw new UsageError(`unknown scenario "${s}" (see --help)`);
  };
  checkScenario(scenario);
  const fleetScenarios = values['fleet-scenarios']?.split(',').filter(Boolean);
  fleetScenarios?.forEach(checkScenario);
  if (values.fleet !== undefined && !values.mqtt) throw new UsageError('--fleet needs --mqtt <url>');
  if (values.mqtt && !/^mqtts?:\/\/|^wss?:\/\//.test(values.mqtt)) throw new UsageError('--mqtt must be a URL like mqtt://127.0.0.1:1883');
  if (values.serial !== undefined && !/^[A-Z0-9-]{3,20}$/.test(values.serial)) throw new UsageError('--serial must match [A-Z0-9-]{3,20}');
  return Object.freeze({
    help: false as const, pty: values.pty, stdout: values.stdout === true, scenario, fleetScenarios,
    fleet: num(values.fleet, 'fleet', 1, 1_000_000), mqtt: values.mqtt,
    speed: num(values.speed, 'speed', 0.001, 10_000_000) ?? 1, historyEndingNow: values['history-ending-now'] === true,
    liveFromH: num(values['live-from'], 'live-from', 0, 10_000), continueLive: values.continue === true,
    serial: values.serial, seed: num(values.seed, 'seed', 0, 2 ** 31), statusIntervalS: num(values['status-interval'], 'status-interval', 10, 300),
    startDelayS: num(values['start-delay'], 'start-delay', 0, 3600) ?? 0, gateways: num(values.gateways, 'gateways', 1, 10_000),
    rate: num(values.rate, 'rate', 1, 10_000_000), durationS: num(values.duration, 'duration', 0.1, 10_000_000),
    count: num(values.count, 'count', 1, 1e12), inflight: num(values.inflight, 'inflight', 1, 1_000_000),
  });
}

async function main(): Promise<void> {
  let cfg: ReturnType<typeof parse>;
  try {
    cfg = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`simulate: ${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''}\n`);
    process.exit(2);
  }
  if (cfg.help) { process.stdout.write(HELP); return; }
  // logs go to stderr so --stdout carries sentences only
  const log = pino({ name: 'simulator' }, pino.destination(2));
  let pump: SimulatedPump | null = null;
  let fleet: Fleet | null = null;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void (async () => {
      await pump?.stop();
      const r = await fleet?.stop();
      if (r) log.info(r, 'fleet stopped');
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  if (cfg.fleet !== undefined) {
    fleet = startFleet({
      mqttUrl: cfg.mqtt as string, pumps: cfg.fleet, gateways: cfg.gateways, ratePerS: cfg.rate, durationS: cfg.durationS,
      count: cfg.count, scenarios: cfg.fleetScenarios, seed: cfg.seed, inflight: cfg.inflight,
    });
    log.info({ pumps: cfg.fleet, gateways: cfg.gateways ?? 1 }, 'fleet started');
    const r = await fleet.done;
    log.info(r, 'fleet done');
    process.stdout.write(`${JSON.stringify(r, (k, v: unknown) => (k === 'pumps' ? undefined : v))}\n`);
    return;
  }
  pump = await startSimulatedPump({
    scenario: cfg.scenario, ptyPath: cfg.pty, speed: cfg.speed, historyEndingNow: cfg.historyEndingNow, liveFromH: cfg.liveFromH,
    continueLive: cfg.continueLive, serial: cfg.serial, seed: cfg.seed, statusIntervalS: cfg.statusIntervalS, hold: true,
    onLine: cfg.stdout ? (line) => process.stdout.write(`${line}\n`) : undefined,
  });
  log.info({ serial: pump.serial, scenario: cfg.scenario, pty: cfg.pty, speed: cfg.speed }, 'pump ready');
  setTimeout(() => pump?.begin(), cfg.startDelayS * 1000);
  await pump.done;
  log.info({ serial: pump.serial, ...pump.counts }, 'scenario done');
  if (stopping || cfg.pty === undefined) {
    // exit once stdout has taken every line (a pipe may still be holding some)
    if (!stopping) process.stdout.write('', () => process.exit(0));
    return;
  }
  // the pty stays: a gateway may still ask for ?HIST until we are stopped
  log.info('answering ?HIST until stopped');
}

void main();
