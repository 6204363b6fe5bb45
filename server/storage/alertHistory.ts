/**
 * Alert history in InfluxDB: every alert change (the alertChanged fact) becomes one point of the
 * alert measurement, queued on the storage writer, which retries while InfluxDB is down.
 */
import type { Clock } from '../clock.ts';
import type { EventBus } from '../events/eventBus.ts';
import { alertPoint, ServerTimestamps } from './points.ts';
import type { StorageWriter } from './storageWriter.ts';

/** subscribes; returns the function that unsubscribes */
export function storeAlertHistory(bus: EventBus, writer: Pick<StorageWriter, 'enqueue'>, clock: Clock): () => void {
  const stamps = new ServerTimestamps();
  return bus.on('alertChanged', (alert) => writer.enqueue([alertPoint(alert, stamps.next(clock.now()))]));
}
