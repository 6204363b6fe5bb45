import type { Shard } from '../config.ts';

/** FNV-1a of the serial: stable across processes and versions, so every instance agrees. */
export function shardOf(serial: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < serial.length; i++) {
    h ^= serial.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % count;
}

/** true when this instance processes the pump (always, without SHARD) */
export function ownsPump(shard: Shard | null, serial: string): boolean {
  return shard === null || shardOf(serial, shard.count) === shard.index;
}
