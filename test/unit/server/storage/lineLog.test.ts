import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { LineLog } from '../../../../server/storage/lineLog.ts';

describe('LineLog', () => {
  test('hands out the lines of a contiguous run of entries as one body; entries without a line count but add nothing', () => {
    const log = new LineLog(16 * 1024 * 1024);
    log.append(1, 'status,pump=A seq=1 1');
    log.append(2, null);
    log.append(3, 'event,pump=A detail="é" 3');
    const b = log.take(0, 10);
    assert.ok(b);
    assert.equal(b.lastId, 3);
    assert.equal(b.entries, 3);
    assert.equal(b.points, 2);
    assert.equal(b.body.toString('utf8'), 'status,pump=A seq=1 1\nevent,pump=A detail="é" 3\n');
    assert.deepEqual({ ...log.take(1, 1), body: log.take(1, 1)?.body.toString() }, { lastId: 2, entries: 1, points: 0, body: '' });
    assert.equal(log.take(3, 10), null, 'nothing after the newest entry');
    assert.equal(log.take(-5, 10), null, 'nothing before the run');
  });

  test('a batch stays within one chunk; the next take carries on in the next chunk', () => {
    const log = new LineLog(64 * 1024 * 1024);
    const n = 40_000; // more lines than one chunk holds
    for (let id = 1; id <= n; id++) log.append(id, `m v=${id} ${id}`);
    let after = 0;
    const seen: string[] = [];
    for (let b = log.take(after, 5000); b; b = log.take(after, 5000)) {
      assert.ok(b.entries <= 5000);
      seen.push(...b.body.toString().split('\n').filter(Boolean));
      after = b.lastId;
    }
    assert.equal(after, n);
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => `m v=${i + 1} ${i + 1}`));
  });

  test('a gap in the ids starts a new run; the old one is gone', () => {
    const log = new LineLog(16 * 1024 * 1024);
    log.append(1, 'a v=1');
    log.append(2, 'a v=2');
    log.append(7, 'a v=7');
    assert.equal(log.take(0, 10), null);
    assert.equal(log.take(6, 10)?.body.toString(), 'a v=7\n');
  });

  test('past its byte bound it lets go of everything, and released chunks are freed', () => {
    const log = new LineLog(2 * 1024 * 1024, 1024 * 1024); // two chunks
    let id = 0;
    const line = 'x'.repeat(500);
    while (log.size <= 1024 * 1024) log.append(++id, line); // into the second chunk
    assert.equal(log.size, 2 * 1024 * 1024);
    const firstChunkLast = id - 1;
    log.release(firstChunkLast - 1);
    assert.equal(log.size, 2 * 1024 * 1024, 'a chunk goes only once all of it is stored');
    log.release(firstChunkLast);
    assert.equal(log.size, 1024 * 1024);
    assert.equal(log.take(firstChunkLast, 1)?.lastId, id);
    while (log.size > 0 && log.size <= 2 * 1024 * 1024) log.append(++id, line);
    assert.equal(log.size, 0, 'over the bound: cleared');
    assert.equal(log.take(firstChunkLast, 1), null);
    log.append(++id, line);
    assert.equal(log.take(id - 1, 1)?.lastId, id, 'a new run starts');
  });

  test('with no bytes allowed it holds nothing', () => {
    const log = new LineLog(0);
    log.append(1, 'a v=1');
    assert.equal(log.take(0, 1), null);
  });
});
