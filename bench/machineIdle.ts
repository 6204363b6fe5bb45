/**
 * The machine's CPU idle share over a stretch of a bench (/proc/stat, every core): the machine is
 * shared, so a figure is read beside how busy the machine was while it was taken.
 */
import { readFileSync } from 'node:fs';

interface CpuTimes { idle: number; total: number }

function cpuTimes(): CpuTimes {
  const v = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return { idle: (v[3] ?? 0) + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
}

/** starts a stretch; the function returned gives the idle % since then */
export function idleSince(): () => number {
  const from = cpuTimes();
  return () => {
    const to = cpuTimes();
    return (100 * (to.idle - from.idle)) / Math.max(1, to.total - from.total);
  };
}
