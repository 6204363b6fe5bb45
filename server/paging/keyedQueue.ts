/**
 * Operations run one after the other per key (per alert), after a gate opens (the chains are
 * loaded), so two changes of one chain never interleave in this process. A failed operation is
 * reported (the first of a run of failures with `first`), and the queue goes on.
 */
export class KeyedQueue {
  private readonly queues = new Map<string, Promise<unknown>>();
  private failing = false;
  /** operations that failed since start */
  failures = 0;

  constructor(
    private readonly gate: () => Promise<void>,
    private readonly onFailure: (err: Error, first: boolean) => void,
  ) {}

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? this.gate();
    const next = prev.catch(() => undefined).then(() => this.gate()).then(fn);
    const settled = next.then(() => {
      this.failing = false;
    }, (err: Error) => {
      this.failures++;
      this.onFailure(err, !this.failing);
      this.failing = true;
    });
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return next;
  }

  /** an operation on `key` is waiting or running */
  has(key: string): boolean {
    return this.queues.has(key);
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }
}
