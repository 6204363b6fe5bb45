export { DurableQueue, type DurableQueueOptions, type QueuedRecord } from './durableQueue.ts';
export { DurableQueueError, type DurableErrorCode } from './errors.ts';
