/**
 * The contract between the pure detection engine (server/pumps, server/detectors, server/alerts)
 * and the I/O around it (ingest, storage, HTTP, WebSocket). Everything here is data in, data out;
 * time comes in as arguments, never from Date.now().
 */
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { DrugLimit } from '../../protocol/clinical.ts';
import type { PumpMessage } from '../../protocol/payloads.ts';
import type { OrderTerms } from '../pumps/orderCourse.ts';
export type { DetectionConfig } from '../thresholds/detectionConfig.ts';
export type { DrugLimit } from '../../protocol/clinical.ts';
/** What programming verification needs of a pump's open assignment (declared with the course it drives). */
export type { OrderTerms } from '../pumps/orderCourse.ts';

/** What the engine takes besides the numeric thresholds. */
export interface EngineOptions {
  /**
   * IANA zone of the times in messages about a pump whose patient's zone is unknown (the server's
   * `TZ`, read by the server, never by the engine); default UTC. A pump's patient's zone comes
   * with its assignment (`OrderTerms.timeZone`).
   */
  timeZone?: string;
}

/** Counters for /metrics: inputs kept as evidence but not used to move pump state. */
export interface EngineStats {
  /** sentences older than the pump's newest (pump time and sequence both behind) */
  staleSentences: number;
  /** sentences whose pump time was too far ahead of the server clock */
  clockAheadSentences: number;
  /** sentences recognised as replayed history (backlog or ?HIST) */
  historicSentences: number;
  pumps: number;
  openAlerts: number;
}

export interface IngestContext {
  /** gateway id from the topic */
  gateway: string;
  /** server clock when the message arrived, epoch ms */
  serverTimeMs: number;
}

/** What changed since the last takeChanges(): each alert and pump at most once, in its latest state. */
export interface EngineChanges {
  alerts: Alert[];
  pumps: PumpView[];
}

/** Serializable per-pump detection state, stored so a restart or handover resumes exactly. */
export interface PumpSnapshot {
  pump: string;
  version: 1;
  [key: string]: unknown;
}

export interface DetectionEngine {
  /** one validated, de-duplicated pump message, in arrival order */
  ingest(msg: PumpMessage, ctx: IngestContext): void;
  gatewayAvailability(gateway: string, state: 'online' | 'offline', serverTimeMs: number): void;
  /** server-clock timers (signal_lost, escalation); call about once a second */
  tick(serverTimeMs: number): void;
  /** undefined for an unknown id; acknowledging twice keeps the first who/when */
  acknowledge(alertId: string, by: string, serverTimeMs: number): Alert | undefined;
  pumps(): PumpView[];
  pump(serial: string): PumpView | undefined;
  /** active alerts plus cleared ones not yet acknowledged */
  openAlerts(): Alert[];
  alert(id: string): Alert | undefined;
  takeChanges(): EngineChanges;
  /** restart / handover: state as exported, and the open alerts as last stored */
  exportPump(serial: string): PumpSnapshot | undefined;
  restorePump(snapshot: PumpSnapshot): void;
  restoreAlert(alert: Alert): void;
  /**
   * A nurse visit on a pump (untilMs: server time it ends by itself; null, or a time already past,
   * ends it now). During it infusion_stopped and signal_lost are not raised; a condition that
   * outlasts it is counted from its end. Kept in the pump's snapshot. False for a pump never heard.
   */
  setVisit(pump: string, untilMs: number | null, by: string, serverTimeMs: number): boolean;
  /** drops a pump this instance no longer owns (scale-out handover) */
  forgetPump(serial: string): void;
  /**
   * The pump's open assignment changed (null: it ended). Re-verifies the pump's current program
   * against it at once (program_mismatch raised or cleared; program_unassigned cleared).
   */
  setAssignment(pump: string, terms: OrderTerms | null, serverTimeMs: number): void;
  /**
   * Whether the assignments are known at all. An engine starts with them unknown, i.e. with
   * programming verification off: a server with no database never calls this and behaves as before;
   * the core calls it with true once the clinical records are loaded. While unknown nothing
   * program_* (nor delivery_above_order) is raised and alerts already raised stay as they are;
   * when they become known, every pump's program is checked at once (a PRG that arrived meanwhile
   * too). setAssignment may come before or after; drug limits apply whatever this says.
   */
  setAssignmentsKnown(known: boolean, serverTimeMs: number): void;
  /** the drug limits table (replaces the previous one); programs on the board are re-checked */
  setDrugLimits(limits: readonly DrugLimit[], serverTimeMs: number): void;
  stats(): EngineStats;
}
