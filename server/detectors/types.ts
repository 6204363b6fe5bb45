/** What a sentence-driven detector sees: the pump after the sentence, the sentence, and where alerts go. */
import type { DrugLimit } from '../../protocol/clinical.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import type { AlertStore, Stamp } from '../alerts/alertStore.ts';
import type { ResolvedDetectionConfig } from '../thresholds/detectionConfig.ts';
import type { MessageEffects } from '../pumps/applyMessage.ts';
import type { TimeVerdict } from '../pumps/pumpClock.ts';
import type { PumpRecord } from '../pumps/pumpRecord.ts';

export interface SentenceInput {
  rec: PumpRecord;
  msg: PumpMessage;
  t: TimeVerdict;
  fx: MessageEffects;
  cfg: ResolvedDetectionConfig;
  store: AlertStore;
  /** this sentence on the pump (duration) clock */
  at: Stamp;
  clinical: ClinicalContext;
}

/** What programming verification knows beyond the pump, set by the engine from the clinical records. */
export interface ClinicalContext {
  /** false until the core says the assignments are loaded: program_* and delivery checks wait */
  assignmentsKnown: boolean;
  /** by drug label, trimmed and lower-cased */
  drugLimits: Map<string, DrugLimit>;
  /** IANA zone of times in messages about a pump whose patient's zone is unknown (the server's TZ) */
  serverTimeZone: string;
}

/** A program check: run by a sentence (PRG, START, RATE, a new rate in a status) or by a change of the records. */
export interface VerifyInput {
  rec: PumpRecord;
  cfg: ResolvedDetectionConfig;
  store: AlertStore;
  clinical: ClinicalContext;
  at: Stamp;
  /** what made the check run, shown as detail.check */
  trigger: string;
  /** evidence of the sentence that made it run; null for a change of the records */
  evidence: Record<string, unknown> | null;
}

/** The evidence every sentence-driven alert carries about the sentence that raised or changed it. */
export function sentenceEvidence(d: SentenceInput): Record<string, unknown> {
  return { seq: d.msg.seq, pumpTime: d.msg.time, serverTime: new Date(d.t.serverMs).toISOString(), sentence: d.msg.raw };
}

export function hasAlarm(alarms: readonly string[], code: string): boolean {
  for (const a of alarms) if (a === code) return true;
  return false;
}
