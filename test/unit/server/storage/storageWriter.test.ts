import { describe, test, vi } from 'vitest';
import assert from 'node:assert/strict';
import type { IPoint } from 'influx';
import pino from 'pino';
import { manualClock } from '../../../../server/clock.ts';
import type { PointStore } from '../../../../server/storage/influxStore.ts';
import { LineLog } from '../../../../server/storage/lineLog.ts';
import { StorageWriter } from '../../../../server/storage/storageWriter.ts';
import { MemoryJournal } from './memoryJournal.ts';

class FakeStore implements PointStore {
  writes: IPoint[][] = [];
  down = false;
  ensureSchema(): Promise<void> {
    return Promise.resolve();
  }
  write(points: IPoint[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED'));
    this.writes.push(points);
    return Promise.resolve();
  }
  /** bodies sent as ready lines */
  bodies: string[] = [];
  writeLines(body: Buffer): Promise<void> {
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED'));
    this.bodies.push(body.toString('utf8'));
    return Promise.resolve();
  }
  select(): Promise<never[]> {
    return Promise.resolve([]);
  }
  ping(): Promise<boolean> {
    return Promise.resolve(!this.down);
  }
  close(): void {}
  get all(): IPoint[] {
    return this.writes.flat();
  }
}

function setup(batchSize = 3, flushMs = 50, lines?: LineLog) {
  const store = new FakeStore();
  const journal = new MemoryJournal();
  const clock = manualClock(1_000_000);
  let checkpoints = 0;
  const writer = new StorageWriter({
    store, journal, clock, log: pino({ level: 'silent' }), batchSize, flushMs, checkpointMs: 1000,
    entryPoints: (_id, data) => [{ measurement: 'm', fields: { v: data.toString() } }],
    checkpoint: (id) => {
      checkpoints++;
      return [[{ measurement: 'snap', fields: { covers: id } }]][Symbol.iterator]();
    },
    ...(lines ? { lines } : {}),
  });
  return { store, journal, clock, writer, checkpoints: () => checkpoints };
}

describe('StorageWriter', () => {
  test('writes journal entries in batches, then the checkpoint, and only then acknowledges them', async () => {
    const { store, journal, writer } = setup(3);
    for (let i = 1; i <= 7; i++) journal.append(Buffer.from(`e${i}`));
    writer.enqueue([{ measurement: 'alert', fields: { id: 'a1' } }]);
    await writer.flushNow();
    assert.deepEqual(store.writes.map((w) => w.length), [3, 3, 1, 2]);
    assert.deepEqual(store.all.filter((p) => p.measurement === 'm').map((p) => String(p.fields?.v)), ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']);
    const last = store.writes.at(-1)!;
    assert.deepEqual(last.map((p) => p.measurement), ['alert', 'snap']);
    assert.equal(last[1]?.fields?.covers, 7);
    assert.equal(journal.ackedId(), 7);
    assert.equal(writer.backlog(), 0);
    assert.equal(writer.influxUp, true);
  });

  test('entries whose lines are ready go as they are, the rest is decoded from the journal; ready lines are released once written', async () => {
    const lines = new LineLog(16 * 1024 * 1024);
    const { store, journal, writer } = setup(3, 50, lines);
    for (let i = 1; i <= 7; i++) {
      const id = journal.append(Buffer.from(`e${i}`));
      if (i <= 4) lines.append(id, i === 2 ? null : `m v="L${i}"`);
    }
    await writer.flushNow();
    assert.deepEqual(store.bodies, ['m v="L1"\nm v="L3"\n', 'm v="L4"\n']);
    assert.deepEqual(store.all.filter((p) => p.measurement === 'm').map((p) => String(p.fields?.v)), ['e5', 'e6', 'e7']);
    assert.equal(writer.writtenPoints, 3 + 3 + 1, 'ready points, decoded points and the checkpoint');
    assert.equal(journal.ackedId(), 7);
    assert.equal(lines.size, 0);
  });

  test('a write of ready lines that fails is sent again from the same lines', async () => {
    const lines = new LineLog(16 * 1024 * 1024);
    const { store, journal, writer } = setup(10, 50, lines);
    lines.append(journal.append(Buffer.from('e1')), 'm v="L1"');
    store.down = true;
    await assert.rejects(writer.flushNow());
    store.down = false;
    await writer.flushNow();
    assert.deepEqual(store.bodies, ['m v="L1"\n']);
    assert.equal(journal.ackedId(), 1);
  });

  test('while InfluxDB is down nothing is acknowledged or lost, and checkpoints do not pile up', async () => {
    const { store, journal, writer, checkpoints, clock } = setup(100);
    store.down = true;
    for (let i = 1; i <= 5; i++) journal.append(Buffer.from(`e${i}`));
    for (let attempt = 0; attempt < 5; attempt++) {
      await assert.rejects(writer.flushNow());
      clock.advance(5000);
    }
    assert.equal(writer.influxUp, false);
    assert.equal(journal.ackedId(), 0);
    assert.equal(writer.backlog(), 6, '5 entries + 1 checkpoint point waiting');
    assert.equal(checkpoints(), 1, 'one pending checkpoint at a time');
    store.down = false;
    journal.append(Buffer.from('e6'));
    await writer.flushNow();
    assert.deepEqual(store.all.filter((p) => p.measurement === 'm').map((p) => String(p.fields?.v)), ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    assert.equal(journal.ackedId(), 5, 'the checkpoint taken during the outage covered entry 5');
    await writer.flushNow();
    assert.equal(journal.ackedId(), 6);
    assert.equal(writer.influxUp, true);
  });

  test('an entry written but not yet covered by a stored checkpoint stays in the journal', async () => {
    const { store, journal, writer } = setup(10);
    journal.append(Buffer.from('e1'));
    await writer.flushNow();
    assert.equal(journal.ackedId(), 1);
    journal.append(Buffer.from('e2'));
    // a normal cycle (checkpoint not due) writes e2 but must not acknowledge it
    await (writer as unknown as { cycle(): Promise<void> }).cycle();
    assert.equal(store.all.filter((p) => p.fields?.v === 'e2').length, 1);
    assert.equal(journal.ackedId(), 1);
  });

  test('stop() writes what is left and takes a last checkpoint', async () => {
    const { store, journal, writer } = setup(10);
    writer.start();
    journal.append(Buffer.from('e1'));
    journal.append(Buffer.from('e2'));
    await writer.stop();
    assert.equal(journal.ackedId(), 2);
    assert.ok(store.all.some((p) => p.measurement === 'snap' && p.fields?.covers === 2));
  });

  test('a partial batch waits while ingest keeps appending, and is written as soon as ingest pauses', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { store, journal, writer, clock } = setup(100, 1000);
    const step = async (ms: number): Promise<void> => {
      clock.advance(ms);
      vi.advanceTimersByTime(ms);
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    try {
      writer.start();
      // steady trickle: an entry every 20 ms for 600 ms, below the batch size, within flushMs
      for (let i = 1; i <= 30; i++) {
        journal.append(Buffer.from(`e${i}`));
        await step(20);
      }
      assert.equal(store.writes.length, 0, 'no write while entries keep arriving');
      // the trickle stops: written within two looks, long before flushMs
      await step(40);
      await step(40);
      assert.deepEqual(store.all.filter((p) => p.measurement === 'm').length, 30);
    } finally {
      writer.stop(0).catch(() => undefined);
      vi.useRealTimers();
    }
  });
});
