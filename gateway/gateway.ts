import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { decodeSentence } from '../protocol/decode.ts';
import { encodeHistRequest } from '../protocol/encode.ts';
import type { Sentence } from '../protocol/sentence.ts';
import { topics } from '../protocol/topics.ts';
import type { GatewayConfig } from './config.ts';
import { diagnosticsSnapshot, GatewayCounters, type DiagnosticsSnapshot } from './diagnostics.ts';
import { assessHealth, type HealthLimits, type HealthVerdict } from './health.ts';
import { Heartbeat } from './heartbeat.ts';
import { Outbox } from './outbox.ts';
import { BACKOFF_MAX_MS, PumpLink } from './pumpLink.ts';
import { loadPumpState, savePumpState, type PumpStateFile } from './pumpState.ts';
import { ReplayWindows } from './replayWindow.ts';
import { CONNECT_TIMEOUT_MS, Publisher, RECONNECT_PERIOD_MS } from './publisher.ts';
import { SequenceTracker } from './sequenceTracker.ts';

interface Pending {
  sentence: Sentence;
  raw: string;
  received: Date;
  /** read in the pump's answer to ?HIST */
  replay: boolean;
}

/** Sentences refused while the queue was full, to be fetched again through ?HIST. */
interface Refused {
  firstSeq: number;
  keys: { seq: number; time: string }[];
}

const TICK_MS = 250;
const STATE_SAVE_MS = 1000;
const MAX_REFUSED_KEYS = 2048;
/** what each part promises (docs/gateway.md, "Health and watchdog") */
const HEALTH_LIMITS: HealthLimits = {
  linkOpenMs: 30_000,
  linkReopenMs: BACKOFF_MAX_MS,
  mqttReconnectMs: RECONNECT_PERIOD_MS,
  mqttConnectTimeoutMs: CONNECT_TIMEOUT_MS,
  queueFailingMs: 10_000,
  slackMs: 5000,
};

/** Composes links → framer → tracker → outbox → publisher, plus diagnostics; start()/stop(). */
export class Gateway {
  readonly counters: GatewayCounters;
  private readonly tracker: SequenceTracker<Pending>;
  private readonly outbox: Outbox;
  private readonly publisher: Publisher;
  private readonly links = new Map<string, PumpLink>();
  private readonly pumpPort = new Map<string, string>();
  private readonly refused = new Map<string, Refused>();
  private readonly replays = new ReplayWindows();
  private readonly timers: NodeJS.Timeout[] = [];
  private stateDirty = false;
  private saving = false;
  private readonly startedMs: number;
  private readonly heartbeat: Heartbeat | null;

  private readonly log: Logger;

  constructor(private readonly cfg: Readonly<GatewayConfig>, rootLog: Logger, private readonly now: () => number = Date.now) {
    const log = rootLog;
    this.log = rootLog.child({ component: 'gateway' });
    this.startedMs = now();
    this.counters = new GatewayCounters(log.child({ component: 'lines' }));
    this.tracker = new SequenceTracker<Pending>({ holdMs: cfg.gapHoldS * 1000 });
    this.outbox = new Outbox({
      gatewayId: cfg.id, dir: join(cfg.queueDir, 'queue'), maxBytes: cfg.maxQueueMb * 1024 * 1024,
      log: log.child({ component: 'queue' }), onDurable: () => this.publisher.kick(), now,
    });
    this.publisher = new Publisher({
      gatewayId: cfg.id, url: cfg.mqttUrl, username: cfg.mqttUsername, password: cfg.mqttPassword, caPem: cfg.caPem,
      log: log.child({ component: 'mqtt' }), source: this.outbox, now, onConnect: () => this.publishDiagnostics(),
      faultNoReconnect: cfg.testFault?.kind === 'mqtt-no-reconnect',
    });
    this.heartbeat = cfg.healthFile ? new Heartbeat({ file: cfg.healthFile, log: log.child({ component: 'health' }), now }) : null;
    for (const path of cfg.serialPaths) {
      this.links.set(path, new PumpLink({
        path, baud: cfg.baud, silenceS: cfg.silenceS, log: log.child({ component: 'link' }), now,
        onLine: (line, p) => this.onLine(line, p),
        onTooLong: () => this.counters.drop('TOO_LONG'),
        onOpen: (p) => this.askHistory(p),
        onSilence: (p) => this.askHistory(p),
      }));
    }
  }

  start(): void {
    mkdirSync(this.cfg.queueDir, { recursive: true });
    const state = loadPumpState(this.cfg.queueDir);
    this.tracker.restore(state);
    for (const [pump, rec] of Object.entries(state)) if (typeof rec.port === 'string') this.pumpPort.set(pump, rec.port);
    this.outbox.start();
    this.publisher.start();
    for (const link of this.links.values()) link.start();
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
    this.timers.push(setInterval(() => void this.saveState(), STATE_SAVE_MS));
    this.timers.push(setInterval(() => this.publishDiagnostics(), this.cfg.diagnosticsS * 1000));
    const heartbeat = this.heartbeat;
    if (heartbeat) {
      // a timer on the event loop: a loop that stops turning stops the heartbeat by construction
      heartbeat.beat(this.health());
      this.timers.push(setInterval(() => heartbeat.beat(this.health()), this.cfg.healthS * 1000));
    }
    this.log.info({ event: 'started', ports: this.cfg.serialPaths, queueDir: this.cfg.queueDir, pumpsKnown: this.tracker.knownPumps().length }, 'gateway started');
  }

  /** Stops reading, keeps what is held, flushes, gives the broker a bounded time, goes offline. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.heartbeat?.remove();
    await Promise.all([...this.links.values()].map((l) => l.stop()));
    for (const p of this.tracker.tick(Number.POSITIVE_INFINITY)) this.enqueue(p);
    await this.outbox.flush().catch(() => undefined);
    while (this.saving) await new Promise((resolve) => setTimeout(resolve, 10));
    this.stateDirty = true;
    await this.saveState();
    this.publisher.kick();
    await this.publisher.stop(this.cfg.shutdownS * 1000, () => this.outbox.queue.depth === 0);
    await this.outbox.stop();
    this.log.info({ event: 'stopped', queueDepth: this.outbox.queue.depth }, 'gateway stopped');
  }

  diagnostics(): DiagnosticsSnapshot {
    return diagnosticsSnapshot({
      counters: this.counters,
      tracker: this.tracker.counters,
      queue: () => ({ depth: this.outbox.queue.depth, bytes: this.outbox.queue.bytes, maxBytes: this.outbox.maxBytes, full: this.outbox.full }),
      links: () => Object.fromEntries([...this.links].map(([p, l]) => [p, l.status()])),
      mqtt: () => this.publisher.status(),
      startedMs: this.startedMs,
      now: this.now,
    });
  }

  /** Whether every part works or recovers as designed (what the heartbeat vouches for). */
  health(): HealthVerdict {
    return assessHealth({
      links: [...this.links.values()].map((l) => l.healthView()),
      mqtt: this.publisher.healthView(),
      queue: this.outbox.healthView(),
    }, this.now(), HEALTH_LIMITS);
  }

  private onLine(line: string, path: string): void {
    // every line, even a duplicate or a corrupt one, is part of an answer still streaming in
    const replay = this.replays.isReplay(path, this.now());
    const decoded = decodeSentence(line);
    if (!decoded.ok) {
      this.counters.drop(decoded.code, { port: path });
      return;
    }
    const s = decoded.sentence;
    this.counters.linesAccepted++;
    if (this.pumpPort.get(s.pump) !== path) this.pumpPort.set(s.pump, path);
    const powerOn = s.type === 'event' && s.code === 'POWER_ON';
    const res = this.tracker.accept({ pump: s.pump, seq: s.seq, time: s.time, powerOn }, { sentence: s, raw: line, received: new Date(this.now()), replay }, this.now());
    if (res.kind === 'duplicate') return;
    this.stateDirty = true;
    if (res.histFrom !== null) {
      this.log.warn({ event: 'gap', pump: s.pump, expected: res.histFrom, got: s.seq, port: path }, 'sequence gap: asking for history');
      this.requestHistory(path, s.pump, res.histFrom);
    }
    for (const p of res.release) this.enqueue(p);
  }

  private enqueue(p: Pending): void {
    const res = this.outbox.enqueue(p.sentence, p.raw, p.received, p.replay);
    if (res.ok) {
      this.counters.sentencesQueued++;
      return;
    }
    this.counters.drop(res.code, { pump: p.sentence.pump });
    const r = this.refused.get(p.sentence.pump) ?? { firstSeq: p.sentence.seq, keys: [] };
    if (r.keys.length < MAX_REFUSED_KEYS) r.keys.push({ seq: p.sentence.seq, time: p.sentence.time });
    this.refused.set(p.sentence.pump, r);
  }

  private tick(): void {
    for (const p of this.tracker.tick(this.now())) this.enqueue(p);
    if (this.refused.size > 0 && this.outbox.hasRoom()) {
      // space is back: fetch what was refused from the pump's own history
      for (const [pump, r] of this.refused) {
        this.tracker.rewind(pump, r.firstSeq, r.keys);
        const path = this.pumpPort.get(pump);
        this.log.info({ event: 'refused_recovery', pump, fromSeq: r.firstSeq, refused: r.keys.length }, 'queue has room: asking for refused sentences');
        if (path) this.requestHistory(path, pump, r.firstSeq);
      }
      this.refused.clear();
      this.stateDirty = true;
    }
  }

  /**
   * After a (re)open or a silence: ask every pump known on this port for what came since. A gap
   * still open is asked for again (its first request may have died with the link) from its start.
   */
  private askHistory(path: string): void {
    for (const [pump, p] of this.pumpPort) {
      if (p !== path || this.refused.has(pump)) continue;
      const from = this.tracker.expectedSeq(pump);
      if (from === null) continue;
      this.tracker.renewHold(pump, this.now());
      this.requestHistory(path, pump, from);
    }
  }

  private requestHistory(path: string, pump: string, fromSeq: number): void {
    this.counters.histRequests++;
    this.log.info({ event: 'hist_request', pump, fromSeq, port: path }, 'history requested');
    this.replays.requested(path, this.now());
    this.links.get(path)?.write(encodeHistRequest(fromSeq));
  }

  private publishDiagnostics(): void {
    this.publisher.publishRetained(topics.diagnostics(this.cfg.id), JSON.stringify(this.diagnostics()));
  }

  /** Persists last seq + dedupe window per pump, never ahead of what the queue holds on disk. */
  private async saveState(): Promise<void> {
    if (!this.stateDirty || this.saving) return;
    this.saving = true;
    this.stateDirty = false;
    try {
      const snap = this.tracker.snapshot();
      const state: PumpStateFile = {};
      for (const [pump, st] of Object.entries(snap)) {
        const r = this.refused.get(pump);
        if (r) {
          // refused sentences are not on disk: restart must ask for them again
          const drop = new Set(r.keys.map((k) => `${k.seq}|${k.time}`));
          st.lastSeq = (r.firstSeq + 65535) % 65536;
          st.recent = st.recent.filter((k) => !drop.has(k));
        }
        state[pump] = { ...st, port: this.pumpPort.get(pump) ?? null };
      }
      await this.outbox.flush();
      savePumpState(this.cfg.queueDir, state);
    } catch (err) {
      this.stateDirty = true;
      this.log.error({ event: 'state_save_failed', err: (err as Error).message }, 'could not save pump state');
    } finally {
      this.saving = false;
    }
  }
}
