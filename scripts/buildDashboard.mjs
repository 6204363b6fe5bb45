// Builds the dashboard into dashboard/dist: index.html + content-hashed, minified JS and CSS.
// Usage: node scripts/buildDashboard.mjs [--quiet]   (prints the gzipped size of each asset)
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'dashboard');
const out = join(src, 'dist');
const quiet = process.argv.includes('--quiet');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

let result;
try {
  result = await build({
    entryPoints: { app: join(src, 'src', 'main.ts') },
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
} catch {
  console.error('dashboard build failed (see errors above)');
  process.exit(1);
}

const outputs = Object.keys(result.metafile.outputs).map((p) => join(root, p));
const js = outputs.find((p) => p.endsWith('.js'));
const css = outputs.find((p) => p.endsWith('.css'));
if (!js || !css) {
  console.error('dashboard build failed: missing JS or CSS output');
  process.exit(1);
}
const html = readFileSync(join(src, 'index.html'), 'utf8')
  .replace('{{js}}', `/assets/${basename(js)}`)
  .replace('{{css}}', `/assets/${basename(css)}`);
writeFileSync(join(out, 'index.html'), html);

let total = 0;
for (const file of [join(out, 'index.html'), js, css]) {
  const gz = gzipSync(readFileSync(file), { level: 9 }).length;
  total += gz;
  if (!quiet) console.log(`${file.slice(root.length + 1).padEnd(44)} ${(gz / 1024).toFixed(1).padStart(6)} kB gzipped`);
}
if (!quiet) console.log(`${'total'.padEnd(44)} ${(total / 1024).toFixed(1).padStart(6)} kB gzipped`);
writeFileSync(join(out, 'build.json'), JSON.stringify({ js: basename(js), css: basename(css), gzipBytes: total }) + '\n');
