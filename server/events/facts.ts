/**
 * The facts the core decides, declared once. Outputs (live view, storage of alert history, the
 * cluster relay, and later paging, HL7 and a heartbeat) subscribe to these instead of being wired
 * into the core. A fact is news about the past: a listener cannot veto or delay it.
 */
import type { Alert, PumpView } from '../../protocol/api.ts';
import type { PumpState } from '../../protocol/sentence.ts';

/** One live change, pushed to every WebSocket client as a ServerMessage. */
export type LiveChange =
  | { type: 'alert'; alert: Alert }
  | { type: 'pump'; pump: PumpView };

/** What a new live subscriber sees first. */
export interface LiveSnapshot {
  pumps: PumpView[];
  /** active alerts plus cleared ones not yet acknowledged */
  alerts: Alert[];
}

/** fact name → what its listeners receive */
export interface Facts {
  /** any change of an alert, in its latest state (raised, cleared, acknowledged, escalated, detail) */
  alertChanged: Alert;
  /** an alert became active: raised for the first time, or again after it cleared */
  alertRaised: Alert;
  alertCleared: Alert;
  alertAcknowledged: Alert;
  /** nobody acknowledged a high- or medium-severity alert in time; re-pushed with escalated: true */
  alertEscalated: Alert;
  /** a pump's view changed; at most once per pump per batch. Emitted only while someone listens. */
  pumpChanged: PumpView;
  /** one batch of the changes above, as the live view needs them (each alert and pump once, latest state) */
  changes: readonly LiveChange[];
  /** journal entries up to `lastId` are written (survive kill -9); once per commit, not per entry */
  journalled: { lastId: number };
  /** a pump began delivering: its state became RUN (from anything else, or a pump not heard before) */
  infusionStarted: InfusionFact;
  /** delivery halted with volume left: RUN became PAUSE, ALARM, or IDLE with more than the residual left */
  infusionStopped: InfusionFact;
  /** the program completed: RUN became END, or IDLE with no more than the residual left */
  infusionCompleted: InfusionFact;
}

/**
 * An infusion state transition, derived from PumpView.state in the core (infusionFacts.ts) only
 * while the fact has a listener, as pumpChanged is.
 */
export interface InfusionFact {
  pump: string;
  /** the view after the transition */
  view: PumpView;
  /** the state before it (null: the pump was not heard before) */
  from: PumpState | null;
}

export type FactName = keyof Facts;
