/** Stable reasons an append or flush is refused. The process never dies of them. */
export type DurableErrorCode =
  | 'QUEUE_FULL' // the queue reached its maxBytes bound
  | 'DISK_FULL' // ENOSPC / EDQUOT from the file system
  | 'IO_ERROR' // EIO or any other write/fsync failure
  | 'NOT_OPEN'; // used before start() or after stop()

export class DurableQueueError extends Error {
  constructor(readonly code: DurableErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DurableQueueError';
  }
}

/** Maps a file-system error to a queue error code. */
export function ioErrorCode(err: unknown): DurableErrorCode {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? 'DISK_FULL' : 'IO_ERROR';
}

export function toDurableError(err: unknown, what: string): DurableQueueError {
  if (err instanceof DurableQueueError) return err;
  const code = ioErrorCode(err);
  return new DurableQueueError(code, `${what}: ${(err as Error).message}`, { cause: err });
}
