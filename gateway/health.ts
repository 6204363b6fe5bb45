import type { LinkState } from './pumpLink.ts';

/**
 * Whether the gateway's parts are working or recovering as designed, judged from what each part
 * reports and the clock. Pure: the gateway feeds it every few seconds and touches its heartbeat
 * file only when the answer is healthy (docs/gateway.md, "Health and watchdog"). An event loop
 * that no longer turns never asks, so it stops the heartbeat by construction.
 */

export interface LinkHealthView {
  path: string;
  state: LinkState;
  /** ms: when the link entered `state` (for `down`: when it failed, so a reopen is due) */
  stateSinceMs: number;
  /** ms: last byte received, or when the port opened */
  lastDataMs: number;
  silenceS: number;
}

export interface MqttHealthView {
  connected: boolean;
  /** ms: the last connection attempt started (first connect or a reconnect) */
  lastAttemptMs: number;
  /** ms: the connection closed (or the client started), null while connected */
  downSinceMs: number | null;
  /** the client gave up for good while the gateway was not stopping */
  ended: boolean;
}

export interface QueueHealthView {
  /** ms: since when writes or fsyncs fail for a reason other than the designed full-queue refusal, null when not */
  failingSinceMs: number | null;
}

export interface HealthInputs {
  links: LinkHealthView[];
  mqtt: MqttHealthView;
  queue: QueueHealthView;
}

/** The recovery each part promises, in ms; a part past its promise plus `slackMs` is wedged. */
export interface HealthLimits {
  /** a port open may take this long (an rfcomm open connects over Bluetooth; a tty opens at once) */
  linkOpenMs: number;
  /** longest reopen backoff of a failed link */
  linkReopenMs: number;
  /** mqtt.js reconnect period */
  mqttReconnectMs: number;
  /** mqtt.js connect timeout: how long one attempt may hang before the next */
  mqttConnectTimeoutMs: number;
  /** the queue retries a failed fsync every second; this long failing is not a passing glitch */
  queueFailingMs: number;
  /** timers on a busy two-core box fire late; late is not wedged */
  slackMs: number;
}

export type HealthProblemCode = 'LINK_OPEN_HUNG' | 'LINK_NOT_REOPENED' | 'LINK_SILENCE_UNHANDLED' | 'MQTT_STUCK' | 'QUEUE_WRITE_FAILING';

export interface HealthProblem {
  code: HealthProblemCode;
  /** the port, `mqtt` or `queue` */
  part: string;
  /** how long the part has been past its promise, ms */
  sinceMs: number;
}

export interface HealthVerdict {
  healthy: boolean;
  problems: HealthProblem[];
}

export function assessHealth(inputs: HealthInputs, nowMs: number, limits: HealthLimits): HealthVerdict {
  const problems: HealthProblem[] = [];
  const overdue = (code: HealthProblemCode, part: string, sinceMs: number, allowedMs: number): void => {
    const ageMs = nowMs - sinceMs;
    if (ageMs > allowedMs + limits.slackMs) problems.push({ code, part, sinceMs: ageMs });
  };
  for (const link of inputs.links) {
    if (link.state === 'opening') overdue('LINK_OPEN_HUNG', link.path, link.stateSinceMs, limits.linkOpenMs);
    // a port that cannot be opened is retried forever: healthy as long as the retries happen
    else if (link.state === 'down') overdue('LINK_NOT_REOPENED', link.path, link.stateSinceMs, limits.linkReopenMs);
    // an open port silent for twice its silence limit must have been reopened (checked every second)
    else overdue('LINK_SILENCE_UNHANDLED', link.path, link.lastDataMs, 2 * link.silenceS * 1000 + 1000);
  }
  const m = inputs.mqtt;
  if (m.ended) {
    problems.push({ code: 'MQTT_STUCK', part: 'mqtt', sinceMs: nowMs - (m.downSinceMs ?? nowMs) });
  } else if (!m.connected && m.downSinceMs !== null) {
    // an unreachable broker is fine while the client keeps trying: a new attempt starts at least
    // every reconnect period, and one attempt hangs at most the connect timeout
    overdue('MQTT_STUCK', 'mqtt', Math.max(m.lastAttemptMs, m.downSinceMs), limits.mqttReconnectMs + limits.mqttConnectTimeoutMs);
  }
  if (inputs.queue.failingSinceMs !== null) overdue('QUEUE_WRITE_FAILING', 'queue', inputs.queue.failingSinceMs, limits.queueFailingMs);
  return { healthy: problems.length === 0, problems };
}

/** Stable text of a verdict's problems, to log each change once. */
export function problemKey(verdict: HealthVerdict): string {
  return verdict.problems.map((p) => `${p.code}:${p.part}`).sort().join(',');
}
