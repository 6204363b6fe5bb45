/**
 * The gateway's durable queue on its own: appends of a 400-byte relay record with group-commit
 * fsync (a flush every 50 appends, up to 21 flushes in flight), as the relay drives it. Best of
 * three runs in a temp folder on the machine's disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DurableQueue } from '../durable/index.ts';
import type { BenchRow } from './types.ts';

const APPENDS = 20_000;
const TARGET_PER_S = 20_000;

async function oneRun(dir: string): Promise<{ perS: number; rounds: number }> {
  const rec = `pumpwatch/gw/pumps/CS7-004512\n${'{"v":1,"type":"status"}'.padEnd(380, ' ')}`;
  const q = new DurableQueue({ dir });
  q.start();
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < APPENDS; i++) {
    q.append(rec);
    if (i % 50 === 49) {
      pending.push(q.flush());
      if (pending.length > 20) await pending.shift();
    }
  }
  await Promise.all(pending);
  await q.flush();
  const perS = APPENDS / ((performance.now() - t0) / 1000);
  const rounds = q.syncRounds;
  await q.stop();
  return { perS, rounds };
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'pumpwatch-bench-queue-'));
  try {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await oneRun(join(dir, `run${i}`)));
    const best = runs.reduce((a, b) => (b.perS > a.perS ? b : a));
    return [
      { area: 'durable queue', metric: 'appends with group-commit fsync (best of 3)', value: best.perS, unit: 'appends/s', target: `>= ${TARGET_PER_S}`, pass: best.perS >= TARGET_PER_S },
      { area: 'durable queue', metric: `fsync rounds for ${APPENDS / 50} flushes`, value: best.rounds, unit: 'rounds' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
