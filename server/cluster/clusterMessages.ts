/**
 * What server instances tell each other on the broker, under pumpwatch/_server/ (docs/scaling.md):
 * alert changes (retained while open), pump changes (retained), acknowledgement and nurse-visit commands.
 * Every payload names the instance that sent it, so an instance can ignore its own.
 */
import type { Alert, PumpView } from '../../protocol/api.ts';
import { TOPIC_ROOT } from '../../protocol/topics.ts';

export const CLUSTER_ROOT = `${TOPIC_ROOT}/_server`;
/** every instance subscribes to this (never shared: each instance needs all of it) */
export const CLUSTER_FILTER = `${CLUSTER_ROOT}/#`;

const KEY_RE = /^[A-Za-z0-9_.:-]{1,200}$/;

export const clusterTopics = {
  alert: (alertId: string): string => `${CLUSTER_ROOT}/alerts/${alertId}`,
  pump: (serial: string): string => `${CLUSTER_ROOT}/pumps/${serial}`,
  ack: (alertId: string): string => `${CLUSTER_ROOT}/ack/${alertId}`,
  visit: (serial: string): string => `${CLUSTER_ROOT}/visit/${serial}`,
} as const;

export type ClusterMessage =
  | { kind: 'alert'; key: string; instance: string; alert: Alert }
  /** the retained alert was removed (cleared and acknowledged) */
  | { kind: 'alertRemoved'; key: string }
  | { kind: 'pump'; key: string; instance: string; pump: PumpView }
  | { kind: 'pumpRemoved'; key: string }
  | { kind: 'ack'; key: string; instance: string; by: string }
  /** a nurse visit asked of whichever instance holds the pump (untilMs null: end it) */
  | { kind: 'visit'; key: string; instance: string; untilMs: number | null; by: string };

export function encodeAlert(instance: string, alert: Alert): string {
  return JSON.stringify({ v: 1, instance, alert });
}

export function encodePump(instance: string, pump: PumpView): string {
  return JSON.stringify({ v: 1, instance, pump });
}

export function encodeAck(instance: string, by: string): string {
  return JSON.stringify({ v: 1, instance, by });
}

export function encodeVisit(instance: string, untilMs: number | null, by: string): string {
  return JSON.stringify({ v: 1, instance, untilMs, by });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One message under pumpwatch/_server/; null when it is not a well-formed one (the caller counts it). */
export function decodeClusterMessage(topic: string, payload: Buffer): ClusterMessage | null {
  if (!topic.startsWith(`${CLUSTER_ROOT}/`)) return null;
  const parts = topic.slice(CLUSTER_ROOT.length + 1).split('/');
  if (parts.length !== 2) return null;
  const [section, key] = parts as [string, string];
  if (!KEY_RE.test(key)) return null;
  if (payload.length === 0) {
    if (section === 'alerts') return { kind: 'alertRemoved', key };
    if (section === 'pumps') return { kind: 'pumpRemoved', key };
    return null;
  }
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(body) || body.v !== 1 || typeof body.instance !== 'string' || body.instance === '') return null;
  const instance = body.instance;
  if (section === 'alerts' && isObject(body.alert) && body.alert.id === key && typeof body.alert.status === 'string') {
    return { kind: 'alert', key, instance, alert: body.alert as unknown as Alert };
  }
  if (section === 'pumps' && isObject(body.pump) && body.pump.pump === key) {
    return { kind: 'pump', key, instance, pump: body.pump as unknown as PumpView };
  }
  if (section === 'ack' && typeof body.by === 'string' && body.by !== '') return { kind: 'ack', key, instance, by: body.by };
  if (section === 'visit' && typeof body.by === 'string' && body.by !== '' && (body.untilMs === null || (typeof body.untilMs === 'number' && Number.isFinite(body.untilMs)))) {
    return { kind: 'visit', key, instance, untilMs: body.untilMs, by: body.by };
  }
  return null;
}

/** an alert stays retained while a nurse still has to see it: active, or cleared and not acknowledged */
export function isOpenAlert(a: Alert): boolean {
  return a.status === 'active' || !a.acknowledged;
}
