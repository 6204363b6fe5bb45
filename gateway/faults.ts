/**
 * Faults the watchdog's integration tests put into a real gateway process, from the environment
 * variable PUMPWATCH_GATEWAY_FAULT. Never set in production; unset means no fault.
 *
 *   block-loop:<ms>     <ms> after start the main thread blocks for good (a hung event loop)
 *   mqtt-no-reconnect   mqtt.js stops reconnecting once its first connection closes (a stuck client)
 */
export type GatewayFault = { kind: 'block-loop'; afterMs: number } | { kind: 'mqtt-no-reconnect' };

export class FaultError extends Error {}

export function parseFault(text: string | undefined): GatewayFault | null {
  if (text === undefined || text === '') return null;
  if (text === 'mqtt-no-reconnect') return { kind: 'mqtt-no-reconnect' };
  const block = /^block-loop:(\d+)$/.exec(text);
  if (block) return { kind: 'block-loop', afterMs: Number(block[1]) };
  throw new FaultError(`PUMPWATCH_GATEWAY_FAULT must be block-loop:<ms> or mqtt-no-reconnect, got "${text}"`);
}

/** Blocks the calling thread without burning a core: nothing ever notifies this address. */
export function blockEventLoop(): never {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}
