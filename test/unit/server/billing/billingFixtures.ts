/** Messages for billing tests: shared captures, and constructed sentences that are valid on the wire. */
import { join } from 'node:path';
import { decodeSentence } from '../../../../protocol/decode.ts';
import { encodeSentence } from '../../../../protocol/encode.ts';
import { toPumpMessage, type PumpMessage } from '../../../../protocol/payloads.ts';
import type { PumpState, Sentence } from '../../../../protocol/sentence.ts';
import { loadCapture } from '../../../../simulators/capture.ts';
import { createEpisodeTracker, DEFAULT_BILLING_CONFIG } from '../../../../server/billing/index.ts';
import type { BillingConfig, EpisodeTracker } from '../../../../server/billing/index.ts';

const CAPTURES = join(import.meta.dirname, '../../../fixtures/captures');

/** A message as the gateway would publish it; received = the pump time (no clock error). */
export function message(raw: string): PumpMessage {
  const d = decodeSentence(raw);
  if (!d.ok) throw new Error(`invalid sentence ${raw}: ${d.code}`);
  return toPumpMessage(d.sentence, raw, new Date(d.sentence.time));
}

export function captureMessages(name: string): PumpMessage[] {
  return loadCapture(join(CAPTURES, name)).map((line) => decodeSentence(line)).flatMap((d) => {
    if (!d.ok) return [];
    return [toPumpMessage(d.sentence, encodeSentence(d.sentence), new Date(d.sentence.time))];
  });
}

export function tracker(overrides: Partial<BillingConfig> = {}): EpisodeTracker {
  return createEpisodeTracker({ ...DEFAULT_BILLING_CONFIG, ...overrides });
}

export function feed(t: EpisodeTracker, msgs: readonly PumpMessage[]): EpisodeTracker {
  for (const m of msgs) t.ingest(m);
  return t;
}

const isoSec = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Writes a pump's record sentence by sentence with encodeSentence, keeping seq, pump clock and
 * the volume counter consistent. Times are epoch ms on the pump clock.
 */
export class PumpScript {
  readonly out: PumpMessage[] = [];
  seq = 0;
  vi = 0;
  state: PumpState = 'IDLE';
  constructor(readonly pump: string, public nowMs: number, public rateMlH = 5, readonly volumeMl = 500) {}

  private emit(s: Sentence): this {
    this.out.push(message(encodeSentence(s)));
    this.seq = (this.seq + 1) % 65536;
    return this;
  }
  private common(): { pump: string; seq: number; time: string } {
    return { pump: this.pump, seq: this.seq, time: isoSec(this.nowMs) };
  }
  event(code: string, detail = ''): this {
    return this.emit({ type: 'event', ...this.common(), code, detail });
  }
  status(alarms: string[] = []): this {
    return this.emit({
      type: 'status', ...this.common(), state: this.state, rateMlH: this.rateMlH, infusedMl: Math.round(this.vi * 100) / 100,
      vtbiMl: Math.max(0, Math.round((this.volumeMl - this.vi) * 100) / 100), reservoirMl: null, pressureMmHg: 35, batteryPct: 90, alarms,
    });
  }
  start(programId = 'P1', drug = 'FLUOROURACIL'): this {
    this.emit({ type: 'program', ...this.common(), programId, drug, rateMlH: this.rateMlH, volumeMl: this.volumeMl, hours: 48 });
    this.event('START', programId);
    this.state = 'RUN';
    return this.status();
  }
  /** Lets time pass in the current state, one status every intervalS (volume grows in RUN). */
  run(minutes: number, intervalS = 60): this {
    const endMs = this.nowMs + minutes * 60_000;
    while (this.nowMs < endMs) {
      const stepMs = Math.min(intervalS * 1000, endMs - this.nowMs);
      this.advance(stepMs);
      this.status();
    }
    return this;
  }
  /** Time passes with nothing on the wire (or sent but lost: `lostSentences` seq numbers used). */
  silent(minutes: number, lostSentences = 0): this {
    this.advance(minutes * 60_000);
    this.seq = (this.seq + lostSentences) % 65536;
    return this;
  }
  advance(ms: number): this {
    if (this.state === 'RUN') this.vi += (this.rateMlH * ms) / 3_600_000;
    this.nowMs += ms;
    return this;
  }
  set(state: PumpState): this {
    this.state = state;
    return this;
  }
}
