// Bundles one TypeScript entry point (our code only; packages stay external) to .build/<entry>.mjs,
// so long-running home processes start under plain node without a TypeScript loader in memory.
// --dashboard: also builds dashboard/dist when it is missing or older than its sources (the server serves it).
import { build } from 'esbuild';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

const entry = process.argv[2];
if (!entry || !entry.endsWith('.ts')) {
  console.error('usage: node scripts/bundle.mjs <entry.ts> [--dashboard]');
  process.exit(2);
}
const out = `.build/${entry.replace(/\.ts$/, '.mjs')}`;
const tmp = `${out}.${process.pid}.tmp`; // several processes may build at once: write, then rename
mkdirSync(dirname(out), { recursive: true });
await build({
  entryPoints: [entry], outfile: tmp, bundle: true, platform: 'node', format: 'esm', target: 'node20',
  packages: 'external', logLevel: 'error',
});
renameSync(tmp, out);
if (process.argv.includes('--dashboard')) {
  const { ensureDashboard } = await import('./buildDashboard.mjs');
  await ensureDashboard({ quiet: true });
}
