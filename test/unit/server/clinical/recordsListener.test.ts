import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RecordsListener, type ListenClient } from '../../../../server/clinical/recordsListener.ts';
import { RECORDS_CHANNEL } from '../../../../server/clinical/transaction.ts';

/** a LISTEN connection the test drives: notifications, errors and ends on demand */
class FakeClient implements ListenClient {
  readonly handlers = new Map<string, (arg?: unknown) => void>();
  readonly queries: string[] = [];
  ended = false;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one fake for the three overloads
  on(event: string, cb: (arg: any) => void): this {
    this.handlers.set(event, cb as (arg?: unknown) => void);
    return this;
  }
  query(sql: string): Promise<unknown> {
    this.queries.push(sql);
    return Promise.resolve();
  }
  end(): Promise<void> {
    this.ended = true;
    return Promise.resolve();
  }
  notify(channel = RECORDS_CHANNEL): void {
    this.handlers.get('notification')?.({ channel, payload: '{"kind":"assignment","pump":"P1"}' });
  }
  fail(): void {
    this.handlers.get('error')?.(new Error('Connection terminated unexpectedly'));
  }
}

function rig(opts: { failConnects?: number } = {}) {
  const clients: FakeClient[] = [];
  let failures = opts.failConnects ?? 0;
  const connectAt: number[] = [];
  let upListener: (() => void) | null = null;
  let reloadRelease: (() => void) | null = null;
  let holdReloads = false;
  const reload = vi.fn(() => holdReloads ? new Promise<void>((r) => { reloadRelease = r; }) : Promise.resolve());
  const listener = new RecordsListener({
    log: pino({ level: 'silent' }), coalesceMs: 20, retryMinMs: 250, retryMaxMs: 2000,
    connect: () => {
      connectAt.push(Date.now());
      if (failures > 0) {
        failures--;
        return Promise.reject(new Error('connect ECONNREFUSED'));
      }
      const c = new FakeClient();
      clients.push(c);
      return Promise.resolve(c);
    },
    reload,
    onDatabaseUp: (cb) => {
      upListener = cb;
      cb(); // the database is up now
      return () => { upListener = null; };
    },
  });
  return {
    listener, clients, reload, connectAt,
    up: () => upListener?.(),
    hold: (on: boolean) => { holdReloads = on; },
    release: () => { const r = reloadRelease; reloadRelease = null; r?.(); },
  };
}

describe('RecordsListener', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 0 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('listens once connected and reloads once for what it missed', async () => {
    const r = rig();
    r.listener.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.clients[0]?.queries).toEqual([`LISTEN ${RECORDS_CHANNEL}`]);
    expect(r.listener.listening).toBe(true);
    await vi.advanceTimersByTimeAsync(20);
    expect(r.reload).toHaveBeenCalledTimes(1);
    await r.listener.stop();
    expect(r.clients[0]?.ended).toBe(true);
  });

  it('coalesces a burst of notifications into one reload, and ignores other channels', async () => {
    const r = rig();
    r.listener.start();
    await vi.advanceTimersByTimeAsync(100);
    r.reload.mockClear();
    const c = r.clients[0]!;
    for (let i = 0; i < 10; i++) c.notify();
    c.notify('someone_else');
    await vi.advanceTimersByTimeAsync(19);
    expect(r.reload).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(r.reload).toHaveBeenCalledTimes(1);
    expect(r.listener.notifications).toBe(10);
    await r.listener.stop();
  });

  it('a change notified during a reload causes exactly one more reload after it', async () => {
    const r = rig();
    r.listener.start();
    await vi.advanceTimersByTimeAsync(100);
    r.reload.mockClear();
    r.hold(true);
    const c = r.clients[0]!;
    c.notify();
    await vi.advanceTimersByTimeAsync(20);
    expect(r.reload).toHaveBeenCalledTimes(1);
    c.notify();
    c.notify();
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.reload).toHaveBeenCalledTimes(1); // still under way
    r.hold(false);
    r.release();
    await vi.advanceTimersByTimeAsync(20);
    expect(r.reload).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.reload).toHaveBeenCalledTimes(2);
    await r.listener.stop();
  });

  it('reconnects with backoff while the database is away, then catches up with one reload', async () => {
    const r = rig({ failConnects: 3 });
    r.listener.start();
    await vi.advanceTimersByTimeAsync(10_000);
    // 0, then 250, 500 and 1000 ms later
    expect(r.connectAt).toEqual([0, 250, 750, 1750]);
    expect(r.listener.listening).toBe(true);
    expect(r.reload).toHaveBeenCalledTimes(1);
    await r.listener.stop();
  });

  it('a broken connection is replaced, at once when the database comes back up', async () => {
    const r = rig();
    r.listener.start();
    await vi.advanceTimersByTimeAsync(100);
    r.clients[0]!.fail();
    expect(r.listener.listening).toBe(false);
    expect(r.clients[0]!.ended).toBe(true);
    r.up(); // the database is back: no waiting for the backoff
    await vi.advanceTimersByTimeAsync(0);
    expect(r.clients).toHaveLength(2);
    expect(r.listener.listening).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.clients).toHaveLength(2); // the pending retry found it connected
    r.clients[0]!.notify(); // a late event of the old connection is ignored
    r.clients[1]!.notify();
    await vi.advanceTimersByTimeAsync(20);
    expect(r.listener.notifications).toBe(1);
    await r.listener.stop();
  });

  it('stops cleanly: no reconnect and no reload after stop()', async () => {
    const r = rig({ failConnects: 1 });
    r.listener.start();
    await vi.advanceTimersByTimeAsync(0);
    await r.listener.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.connectAt).toEqual([0]);
    expect(r.reload).not.toHaveBeenCalled();
  });
});
