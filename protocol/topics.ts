/** MQTT topic layout (interfaces.md §3). `pumpwatch/` is the product's topic root. */
export const TOPIC_ROOT = 'pumpwatch';
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export const topics = {
  availability: (gatewayId: string): string => `${TOPIC_ROOT}/${gatewayId}/availability`,
  diagnostics: (gatewayId: string): string => `${TOPIC_ROOT}/${gatewayId}/diagnostics`,
  pump: (gatewayId: string, serial: string): string => `${TOPIC_ROOT}/${gatewayId}/pumps/${serial}`,
  /** subscription filters used by the server */
  allPumps: `${TOPIC_ROOT}/+/pumps/+`,
  allAvailability: `${TOPIC_ROOT}/+/availability`,
} as const;

/** A gateway id is also a topic level: keep it to a safe alphabet. */
export function isValidGatewayId(id: string): boolean {
  return ID_RE.test(id) && !id.startsWith('_');
}

export type ParsedTopic =
  | { kind: 'pump'; gateway: string; serial: string }
  | { kind: 'availability'; gateway: string }
  | { kind: 'diagnostics'; gateway: string };

/** Splits a received topic; null when it is not one of ours. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== TOPIC_ROOT || parts.length < 3) return null;
  const gateway = parts[1] as string;
  if (!isValidGatewayId(gateway)) return null;
  if (parts.length === 4 && parts[2] === 'pumps') return { kind: 'pump', gateway, serial: parts[3] as string };
  if (parts.length === 3 && parts[2] === 'availability') return { kind: 'availability', gateway };
  if (parts.length === 3 && parts[2] === 'diagnostics') return { kind: 'diagnostics', gateway };
  return null;
}
