/**
 * The HL7 output: the core's facts become IHE PCD messages (pcdMessages.ts) written to every
 * receiver's durable outbox (outbox.ts) while the fact is published, so nothing decided is lost
 * once the fact is out; running pumps are reported (PCD-01) every `observationS` seconds.
 * Built only with HL7_MLLP_TARGETS; wired in server/app.ts.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { Clock } from '../clock.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { InfusionFact } from '../events/facts.ts';
import { Outbox, receiverName, type OutboxHealth, type Receiver } from './outbox.ts';
import { pcd01, pcd04, pcd10, type AlarmChange, type InfusionEvent, type PatientContext } from './pcdMessages.ts';

/** PCD-01 messages encoded per turn of the event loop */
const OBSERVE_SLICE = 50;

export interface Hl7OutputOptions {
  receivers: readonly Receiver[];
  /** the queues go to `<stateDir>/hl7/<host>_<port>/` */
  stateDir: string;
  bus: EventBus;
  clock: Clock;
  log: Logger;
  /** the pumps this instance holds (PCD-01 for those running) */
  pumps: () => readonly PumpView[];
  /** the pump's open assignment: MRN, name and the order's drug; null when unassigned */
  patientOf: (pump: string) => PatientContext | null;
  observationS?: number;
  aeRetries?: number;
  retryMaxMs?: number;
  /** test seam: messages go here instead of the outboxes */
  sink?: (message: string) => void;
}

/** `host:port` → Receiver; null when malformed (the settings parser says why) */
export function parseReceiver(text: string): Receiver | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65_535) return null;
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

export class Hl7Output {
  readonly outboxes: Outbox[];
  private readonly bootId = randomBytes(4).toString('hex').toUpperCase();
  private counter = 0;
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private slice: NodeJS.Immediate | null = null;
  /** messages that could not be queued (queue full, disk error), by reason; logged once each */
  readonly dropped = new Map<string, number>();

  constructor(private readonly o: Hl7OutputOptions) {
    const log = o.log.child({ component: 'hl7' });
    // a receiver named twice is one receiver (one queue folder)
    const receivers = [...new Map(o.receivers.map((r) => [receiverName(r), r])).values()];
    this.outboxes = receivers.map((r) => new Outbox({
      receiver: r, dir: join(o.stateDir, 'hl7', receiverName(r).replace(/[^A-Za-z0-9.-]/g, '_')), log,
      ...(o.aeRetries !== undefined ? { aeRetries: o.aeRetries } : {}),
      ...(o.retryMaxMs !== undefined ? { retryMaxMs: o.retryMaxMs } : {}),
    }));
  }

  /** subscribe before the core starts, so facts replayed from the journal are sent too */
  subscribe(): void {
    const bus = this.o.bus;
    const alarm = (change: AlarmChange) => (a: Alert) => this.send((ctx) => pcd04(change, a, ctx), a.pump);
    const infusion = (event: InfusionEvent) => (f: InfusionFact) => this.send((ctx) => pcd10(event, f.view, ctx), f.pump);
    this.unsubscribe.push(
      bus.on('alertRaised', alarm('raised')),
      bus.on('alertCleared', alarm('cleared')),
      bus.on('alertAcknowledged', alarm('acknowledged')),
      bus.on('infusionStarted', infusion('start')),
      bus.on('infusionStopped', infusion('stop')),
      bus.on('infusionCompleted', infusion('complete')),
    );
  }

  start(): void {
    for (const ob of this.outboxes) ob.start();
    const periodMs = (this.o.observationS ?? 60) * 1000;
    this.timer = setInterval(() => this.observe(), periodMs);
    this.timer.unref();
  }

  /**
   * PCD-01 for every running pump, OBSERVE_SLICE pumps per turn of the event loop: encoding takes
   * about 0.4 ms a message (docs/benchmarks.md), and 10,000 pumps at once would hold ingest for 4 s.
   */
  observe(): void {
    const running = this.o.pumps().filter((v) => v.state === 'RUN' && v.poweredOff !== true);
    let i = 0;
    const step = (): void => {
      this.slice = null;
      const end = Math.min(i + OBSERVE_SLICE, running.length);
      for (; i < end; i++) {
        const view = running[i] as PumpView;
        this.send((ctx) => pcd01(view, ctx), view.pump);
      }
      if (i < running.length && this.timer) this.slice = setImmediate(step);
    };
    if (this.slice) clearImmediate(this.slice);
    step();
  }

  /** stops the timer and facts; each outbox gets up to `waitMs` to deliver its backlog */
  async stop(waitMs = 2000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.slice) clearImmediate(this.slice);
    this.slice = null;
    for (const off of this.unsubscribe.splice(0)) off();
    await Promise.all(this.outboxes.map((ob) => ob.stop(waitMs)));
  }

  health(): OutboxHealth[] {
    return this.outboxes.map((ob) => ob.health());
  }

  nextControlId(): string {
    return `PW${this.bootId}${(++this.counter).toString(36).toUpperCase()}`;
  }

  private send(build: (ctx: { controlId: string; nowMs: number; patient: PatientContext | null }) => string, pump: string): void {
    if (this.outboxes.length === 0 && !this.o.sink) return;
    const message = build({ controlId: this.nextControlId(), nowMs: this.o.clock.now(), patient: pump ? this.o.patientOf(pump) : null });
    this.o.sink?.(message);
    for (const ob of this.outboxes) {
      try {
        ob.enqueue(message);
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'IO_ERROR';
        const n = (this.dropped.get(code) ?? 0) + 1;
        this.dropped.set(code, n);
        if (n === 1) this.o.log.error({ component: 'hl7', receiver: ob.name, code, err: (err as Error).message }, 'HL7 message could not be queued');
      }
    }
  }
}
