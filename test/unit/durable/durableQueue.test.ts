import { describe, test, vi } from 'vitest';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DurableQueue, DurableQueueError } from '../../../durable/index.ts';
import { tempDir } from '../../helpers/tempDir.ts';

function texts(q: DurableQueue, from = 0, max = 1_000_000): string[] {
  return q.read(from, max).map((r) => r.data.toString());
}

async function withQueue(fn: (dir: string) => Promise<void>): Promise<void> {
  const tmp = tempDir('pumpwatch-durable-');
  try {
    await fn(tmp.path);
  } finally {
    tmp.remove();
  }
}

describe('DurableQueue', () => {
  test('appends, reads in order from a cursor, acks a prefix', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir });
    q.start();
    assert.equal(q.append('a'), 1);
    assert.equal(q.append(Buffer.from('b')), 2);
    assert.equal(q.append('c'), 3);
    assert.equal(q.depth, 3);
    assert.deepEqual(texts(q), ['a', 'b', 'c']);
    assert.deepEqual(q.read(2, 1).map((r) => r.no), [2]);
    q.ack(2);
    assert.equal(q.depth, 1);
    assert.deepEqual(texts(q), ['c']);
    q.ack(1); // going back is ignored
    assert.equal(q.depth, 1);
    q.ack(99); // clamped to what exists
    assert.equal(q.depth, 0);
    assert.deepEqual(texts(q), []);
    await q.stop();
  }));

  test('restart keeps unacked records and numbering; acked ones are not re-read', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir });
    q.start();
    for (let i = 1; i <= 10; i++) q.append(`r${i}`);
    q.ack(4);
    await q.stop();
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.equal(q2.depth, 6);
    assert.deepEqual(q2.read(0, 100).map((r) => r.no), [5, 6, 7, 8, 9, 10]);
    assert.equal(q2.append('r11'), 11);
    await q2.stop();
  }));

  test('records written without flush or stop survive like a kill -9 (page cache)', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir });
    q.start();
    q.append('x');
    q.append('y');
    // no stop(): the process "dies" here; a new instance opens the same files
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.deepEqual(texts(q2), ['x', 'y']);
    await q2.stop();
    await q.stop();
  }));

  test('a torn last record is truncated on open and appends continue cleanly', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir });
    q.start();
    q.append('one');
    q.append('two');
    q.append('three-is-longer');
    await q.stop();
    const seg = join(dir, readdirSync(dir).find((n) => n.endsWith('.seg')) as string);
    const size = statSync(seg).size;
    truncateSync(seg, size - 5); // power cut in the middle of the last write
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.equal(q2.truncatedBytes, 8 + 'three-is-longer'.length - 5);
    assert.deepEqual(texts(q2), ['one', 'two']);
    assert.equal(q2.append('four'), 3);
    await q2.stop();
    const q3 = new DurableQueue({ dir });
    q3.start();
    assert.deepEqual(texts(q3), ['one', 'two', 'four']);
    await q3.stop();
  }));

  test('a zero-filled or corrupt tail is not taken for records', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir });
    q.start();
    q.append('keep');
    await q.stop();
    const seg = join(dir, readdirSync(dir).find((n) => n.endsWith('.seg')) as string);
    appendFileSync(seg, Buffer.alloc(4096)); // zeroed blocks after a power cut
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.deepEqual(texts(q2), ['keep']);
    assert.equal(q2.truncatedBytes, 4096);
    q2.append('next');
    await q2.stop();
    const bytes = readFileSync(seg);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff; // flip a payload bit: CRC must catch it
    writeFileSync(seg, bytes);
    const q3 = new DurableQueue({ dir });
    q3.start();
    assert.deepEqual(texts(q3), ['keep']);
    await q3.stop();
  }));

  test('rotates segments, reads old ones back from disk, deletes fully acked segments', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir, segmentBytes: 64 * 1024, cacheBytes: 1024, maxBytes: 64 * 1024 * 1024 });
    q.start();
    const payload = 'p'.repeat(500);
    for (let i = 1; i <= 1000; i++) q.append(`${i}:${payload}`);
    const segCount = (): number => readdirSync(dir).filter((n) => n.endsWith('.seg')).length;
    assert.ok(segCount() >= 7, `expected several segments, got ${segCount()}`);
    const all = q.read(0, 2000);
    assert.equal(all.length, 1000);
    all.forEach((r, i) => assert.equal(r.data.toString(), `${i + 1}:${payload}`));
    assert.equal(q.read(321, 1)[0]?.data.toString(), `321:${payload}`);
    const before = q.bytes;
    q.ack(900);
    assert.ok(q.bytes < before / 4, 'acked segments are deleted');
    assert.ok(segCount() <= 2);
    assert.equal(q.read(0, 1)[0]?.no, 901);
    await q.stop();
    const q2 = new DurableQueue({ dir, segmentBytes: 64 * 1024 });
    q2.start();
    assert.equal(q2.read(0, 1)[0]?.no, 901);
    assert.equal(q2.depth, 100);
    await q2.stop();
  }));

  test('bounded: QUEUE_FULL when maxBytes is reached, space returns after ack', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir, maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    q.start();
    const rec = 'x'.repeat(1000);
    let n = 0;
    let err: unknown;
    try {
      for (;;) { q.append(rec); n++; }
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof DurableQueueError);
    assert.equal(err.code, 'QUEUE_FULL');
    assert.equal(n, Math.floor((64 * 1024) / (8 + 1000)), 'fills up to the byte bound exactly');
    assert.ok(q.bytes <= 64 * 1024);
    q.ack(n);
    assert.equal(q.append(rec), n + 1);
    await q.stop();
  }));

  test('ENOSPC becomes DISK_FULL, a half-written frame is cut off, the queue keeps working', () => withQueue(async (dir) => {
    let failNext = false;
    const { writeSync } = process.getBuiltinModule('node:fs');
    const q = new DurableQueue({
      dir,
      writeSync: (fd, buf) => {
        if (failNext) {
          failNext = false;
          writeSync(fd, buf.subarray(0, 3)); // part of the frame reached the disk
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        }
        return writeSync(fd, buf);
      },
    });
    q.start();
    q.append('before');
    failNext = true;
    assert.throws(() => q.append('lost'), (e: unknown) => e instanceof DurableQueueError && e.code === 'DISK_FULL');
    q.append('after');
    await q.stop();
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.deepEqual(texts(q2), ['before', 'after']);
    assert.equal(q2.truncatedBytes, 0);
    await q2.stop();
  }));

  test('staged records are numbered and readable at once, and written together by one commit', () => withQueue(async (dir) => {
    const writes: number[] = [];
    const { writeSync } = process.getBuiltinModule('node:fs');
    const q = new DurableQueue({ dir, writeSync: (fd, buf) => { writes.push(buf.length); return writeSync(fd, buf); } });
    q.start();
    assert.equal(q.stage('a'), 1);
    assert.equal(q.stage('bb'), 2);
    assert.equal(q.stage('ccc'), 3);
    assert.equal(q.stagedCount, 3);
    assert.deepEqual(texts(q), ['a', 'bb', 'ccc']);
    assert.equal(q.bytes, 3 * 8 + 6, 'staged bytes count towards the bound');
    assert.deepEqual(writes, [], 'nothing written before the commit');
    // a process dying now leaves nothing of them: their acknowledgements were never sent
    const died = new DurableQueue({ dir });
    died.start();
    assert.deepEqual(texts(died), []);
    await died.stop();
    q.commit();
    assert.deepEqual(writes, [3 * 8 + 6], 'one write for the three');
    assert.equal(q.stagedCount, 0);
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.deepEqual(texts(q2), ['a', 'bb', 'ccc']);
    await q2.stop();
    await q.stop();
  }));

  test('staged records keep their bytes across many commits and staging chunks, in memory and on disk', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir, cacheBytes: 64 * 1024 * 1024 });
    q.start();
    const rec = (i: number): string => `${i}:`.padEnd(100 + (i % 300), String.fromCharCode(97 + (i % 26)));
    const n = 5000; // about 1.2 MB: several 256 kB chunks, some records moved along uncommitted
    for (let i = 0; i < n; i++) {
      q.stage(rec(i));
      if (i % 7 === 6) q.commit();
    }
    q.append(rec(n));
    const expected = Array.from({ length: n + 1 }, (_, i) => rec(i));
    assert.deepEqual(texts(q), expected);
    await q.stop();
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.deepEqual(texts(q2), expected);
    await q2.stop();
  }));

  test('an append or a flush writes what is staged first, keeping the order', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir });
    q.start();
    q.stage('s1');
    assert.equal(q.append('a2'), 2);
    q.stage('s3');
    await q.flush();
    assert.equal(q.durableNo, 3);
    await q.stop();
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.deepEqual(texts(q2), ['s1', 'a2', 's3']);
    await q2.stop();
  }));

  test('a failed commit keeps the records staged, cuts the torn write off, and the next commit writes them', () => withQueue(async (dir) => {
    let fail = true;
    const { writeSync } = process.getBuiltinModule('node:fs');
    const q = new DurableQueue({
      dir,
      writeSync: (fd, buf) => {
        if (fail) {
          writeSync(fd, buf.subarray(0, 5));
          throw Object.assign(new Error('i/o error'), { code: 'EIO' });
        }
        return writeSync(fd, buf);
      },
    });
    q.start();
    q.stage('one');
    q.stage('two');
    assert.throws(() => q.commit(), (e: unknown) => e instanceof DurableQueueError && e.code === 'IO_ERROR');
    assert.equal(q.stagedCount, 2);
    fail = false;
    q.stage('three');
    q.commit();
    await q.stop();
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.deepEqual(texts(q2), ['one', 'two', 'three']);
    assert.equal(q2.truncatedBytes, 0);
    await q2.stop();
  }));

  test('staging past the byte bound is refused with QUEUE_FULL; segments rotate as with appends', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir, maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
    q.start();
    const rec = 'x'.repeat(1000);
    let n = 0;
    for (;;) {
      try {
        q.stage(rec);
        n++;
      } catch (err) {
        assert.ok(err instanceof DurableQueueError && err.code === 'QUEUE_FULL');
        break;
      }
    }
    assert.equal(n, Math.floor((64 * 1024) / (8 + 1000)));
    q.commit();
    assert.ok(readdirSync(dir).filter((f) => f.endsWith('.seg')).length > 1, 'several segments');
    await q.stop();
    const q2 = new DurableQueue({ dir });
    q2.start();
    assert.equal(q2.depth, n);
    assert.ok(texts(q2).every((t) => t === rec));
    await q2.stop();
  }));

  test('concurrent flush() callers share fsyncs (group commit) and durableNo advances', () => withQueue(async (dir) => {
    const q = new DurableQueue({ dir });
    q.start();
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      q.append(`r${i}`);
      flushes.push(q.flush());
    }
    const distinct = new Set(flushes);
    assert.ok(distinct.size <= 3, `${distinct.size} distinct flush rounds for 100 callers`);
    await Promise.all(flushes);
    assert.equal(q.durableNo, 100);
    await q.stop();
  }));

  test('the ack cursor is persisted periodically, not at every ack', () => withQueue(async (dir) => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const q = new DurableQueue({ dir, cursorPersistMs: 1000 });
      q.start();
      for (let i = 0; i < 5; i++) q.append(`r${i}`);
      q.ack(3);
      const cursorFile = join(dir, 'cursor.json');
      assert.equal(readdirSync(dir).includes('cursor.json'), false);
      vi.advanceTimersByTime(1000);
      assert.deepEqual(JSON.parse(readFileSync(cursorFile, 'utf8')), { acked: 3 });
      q.ack(5);
      assert.deepEqual(JSON.parse(readFileSync(cursorFile, 'utf8')), { acked: 3 });
      await q.stop();
      assert.deepEqual(JSON.parse(readFileSync(cursorFile, 'utf8')), { acked: 5 });
    } finally {
      vi.useRealTimers();
    }
  }));

  test('append before start is refused with NOT_OPEN', () => {
    const q = new DurableQueue({ dir: '/nonexistent' });
    assert.throws(() => q.append('x'), (e: unknown) => e instanceof DurableQueueError && e.code === 'NOT_OPEN');
  });

  // the speed of this is a benchmark row (bench/durableQueue.bench.ts); here, that callers share fsyncs
  test('group commit: flushes issued while an fsync runs share the next one, and every record ends durable', () => withQueue(async (dir) => {
    const rec = `pumpwatch/gw/pumps/CS7-004512\n${'{"v":1,"type":"status"}'.padEnd(380, ' ')}`;
    const q = new DurableQueue({ dir });
    q.start();
    const pending: Promise<void>[] = [];
    let calls = 0;
    for (let i = 0; i < 20_000; i++) {
      q.append(rec);
      if (i % 50 === 49) {
        pending.push(q.flush());
        calls++;
        if (pending.length > 20) await pending.shift();
      }
    }
    await Promise.all(pending);
    await q.flush();
    assert.equal(q.durableNo, 20_000);
    // 21 flushes are in flight at a time: one runs, one more round waits for all the others
    assert.ok(q.syncRounds <= Math.ceil(calls / 10), `${q.syncRounds} fsync rounds for ${calls} flushes`);
    await q.stop();
  }));
});
