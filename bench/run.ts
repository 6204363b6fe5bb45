/** `npm run bench`: runs every bench/<area>.bench.ts (or those named) and prints one table. */
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow, BenchRun } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();

const rows: BenchRow[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run: BenchRun };
  process.stderr.write(`bench: ${f}\n`);
  try {
    rows.push(...(await mod.run()));
  } catch (err) {
    rows.push({ area: f.replace('.bench.ts', ''), metric: `FAILED: ${(err as Error).message}`, value: NaN, unit: '', pass: false });
  }
}

const fmt = (n: number): string => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : '-');
const table = [['area', 'metric', 'value', 'unit', 'target', 'ok'], ...rows.map((r) => [
  r.area, r.metric, fmt(r.value), r.unit, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
])];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
for (const [i, row] of table.entries()) {
  console.log(row.map((c, j) => c.padEnd(widths[j]!)).join('  ').trimEnd());
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
process.exitCode = rows.some((r) => r.pass === false) ? 1 : 0;
