import { setTimeout as delay } from 'node:timers/promises';
import { PtyPair } from './ptyPair.ts';
import { runScenario, type ScenarioRun, type WireItem } from './scenarioRun.ts';
import { SerialPumpPort } from './serialPumpPort.ts';

export interface SimulatedPumpOptions {
  /** a built-in scenario name or `capture:<file>` */
  scenario: string;
  /** creates a socat pty pair; the gateway opens this path, the pump the path + `.pump` */
  ptyPath?: string;
  /** instead of (or besides) a pty: each line that reaches the wire, without line end */
  onLine?: (line: string) => void;
  /** pump time runs this many times faster than real time (default 1) */
  speed?: number;
  /** lay the scenario so the pump clock of its last sentence is now; the past goes out as fast as the link allows */
  historyEndingNow?: boolean;
  /** with historyEndingNow: scenario hours from which it plays at `speed` instead of at once, still ending in the present */
  liveFromH?: number;
  /** after the scenario, carry on sending periodic status until stopped (at `speed`, or in real time with historyEndingNow) */
  continueLive?: boolean;
  seed?: number;
  serial?: string;
  statusIntervalS?: number;
  pressureNoiseMmHg?: number;
  /** wait for begin() before sending (e.g. until the gateway has opened its end) */
  hold?: boolean;
  /** real clock, ms (tests) */
  now?: () => number;
}

export interface SimulatedPump {
  readonly serial: string;
  /** resolves when the scenario is over (or stop() was called) */
  readonly done: Promise<void>;
  readonly port: SerialPumpPort | null;
  readonly pty: PtyPair | null;
  readonly counts: { sent: number; lost: number; noise: number };
  begin(): void;
  /** stops sending, closes the port and removes the pty */
  stop(): Promise<void>;
}

/** One simulated pump on a virtual serial port (or a line callback), playing a scenario in real time. */
export async function startSimulatedPump(opts: SimulatedPumpOptions): Promise<SimulatedPump> {
  const now = opts.now ?? Date.now;
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new Error('speed must be > 0');
  const t0 = now();
  const base = { serial: opts.serial, seed: opts.seed, statusIntervalS: opts.statusIntervalS, pressureNoiseMmHg: opts.pressureNoiseMmHg };
  const runOpts = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined));
  let run: ScenarioRun;
  let liveFromMs = 0;
  if (opts.historyEndingNow) {
    const span = runScenario(opts.scenario, runOpts).spanMs;
    const liveMs = opts.liveFromH === undefined ? 0 : Math.max(0, span - opts.liveFromH * 3_600_000);
    run = runScenario(opts.scenario, { ...runOpts, endingAtMs: t0 + liveMs / speed });
    liveFromMs = opts.liveFromH === undefined ? Infinity : run.startMs + span - liveMs;
  } else {
    run = runScenario(opts.scenario, { ...runOpts, startMs: t0 });
    liveFromMs = run.startMs;
  }

  let pty: PtyPair | null = null;
  let port: SerialPumpPort | null = null;
  if (opts.ptyPath) {
    pty = new PtyPair(opts.ptyPath);
    await pty.start();
    port = new SerialPumpPort({ path: pty.pumpPath });
    await port.open();
  }
  const counts = { sent: 0, lost: 0, noise: 0 };
  const abort = new AbortController();
  let release: () => void = () => undefined;
  const begun = opts.hold ? new Promise<void>((resolve) => { release = resolve; }) : Promise.resolve();

  const send = async (item: WireItem): Promise<void> => {
    if (item.kind === 'noise') {
      counts.noise++;
      await port?.writeRaw(item.line + '\r\n');
    } else {
      if (item.lost) counts.lost++;
      else counts.sent++;
      await port?.send(item.line, { lost: item.lost });
    }
    if (!item.lost) opts.onLine?.(item.line);
  };

  const play = async (): Promise<void> => {
    await begun;
    const realStart = now();
    const realAt = (atMs: number): number => (atMs < liveFromMs ? 0 : realStart + (atMs - liveFromMs) / speed);
    let lastAt = liveFromMs;
    for (const item of run.items) {
      if (abort.signal.aborted) return;
      const wait = realAt(item.atMs) - now();
      if (wait > 0) await delay(wait, undefined, { signal: abort.signal });
      await send(item);
      lastAt = item.atMs;
    }
    const model = run.model;
    if (!opts.continueLive || !model) return;
    const liveStartReal = now();
    // a history laid to end now carries on in real time, so the pump clock never runs ahead
    const liveSpeed = opts.historyEndingNow ? 1 : speed;
    for (;;) {
      await delay(1000, undefined, { signal: abort.signal });
      const t = Math.max(lastAt, lastAt + (now() - liveStartReal) * liveSpeed);
      for (const e of model.advanceTo(t)) await send({ atMs: e.atMs, line: e.line, kind: 'sentence', lost: false });
    }
  };
  const stopped = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  const played = play().catch((err: unknown) => {
    if (!abort.signal.aborted) throw err;
  });
  const done = Promise.race([played, stopped]);

  return {
    serial: run.serial, done, port, pty, counts,
    begin: () => release(),
    async stop() {
      abort.abort();
      release();
      // a write stuck on a reader-less pty can hold close() too: bounded
      await Promise.race([port?.close(), delay(2000, undefined, { ref: false })]);
      await pty?.stop();
      // a write stuck on a reader-less pty must not hold shutdown for long
      await Promise.race([played.catch(() => undefined), delay(2000, undefined, { ref: false })]);
    },
  };
}
