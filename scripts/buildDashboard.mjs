// Builds the dashboard into dashboard/dist: index.html + content-hashed, minified JS and CSS, the
// service worker at /sw.js (dashboard/sw/, its URL fixed: a worker's scope is where it is served)
// and the files of dashboard/public (web app manifest, icons) as they are.
// Usage: node scripts/buildDashboard.mjs [--quiet] [--if-stale]   (prints the gzipped size of each asset)
// --if-stale: builds only when dist is missing or older than a file it was built from (what
// `npm run server` does, so a fresh clone serves the board). Importable: ensureDashboard(), dashboardStale().
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'dashboard');
const out = join(src, 'dist');
const SELF = relative(root, fileURLToPath(import.meta.url));
const PUBLIC = join(src, 'public');

/** the files and folders of dashboard/public, relative to the repository root */
function publicFiles(dir = PUBLIC) {
  let names;
  try {
    names = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  // the folders too: a file added to one changes its mtime, so --if-stale sees it
  return [relative(root, dir), ...names.flatMap((d) => (d.isDirectory() ? publicFiles(join(dir, d.name)) : [relative(root, join(dir, d.name))]))];
}

/** true when dist is missing, unreadable, or any file it was built from changed since */
export function dashboardStale() {
  let built;
  let inputs;
  try {
    built = statSync(join(out, 'build.json')).mtimeMs;
    inputs = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')).inputs;
  } catch {
    return true;
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return true; // a build from before inputs were listed
  for (const file of inputs) {
    try {
      if (statSync(join(root, file)).mtimeMs > built) return true;
    } catch {
      return true; // an input was removed or renamed
    }
  }
  return false;
}

/** Builds into a private folder, then swaps it in, so servers starting together never see half a build. */
export async function buildDashboard({ quiet = false } = {}) {
  const tmp = join(src, `.dist-${process.pid}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: join(src, 'src', 'main.ts') },
    outdir: join(tmp, 'assets'),
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
  const outputs = Object.keys(result.metafile.outputs).map((p) => join(root, p));
  const js = outputs.find((p) => p.endsWith('.js'));
  const css = outputs.find((p) => p.endsWith('.css'));
  if (!js || !css) throw new Error('dashboard build failed: missing JS or CSS output');
  const html = readFileSync(join(src, 'index.html'), 'utf8')
    .replace('{{js}}', `/assets/${basename(js)}`)
    .replace('{{css}}', `/assets/${basename(css)}`);
  writeFileSync(join(tmp, 'index.html'), html);
  // the service worker: one classic script at the root, so its scope is the whole dashboard
  const worker = await build({
    absWorkingDir: root,
    entryPoints: [join(src, 'sw', 'serviceWorker.ts')],
    outfile: join(tmp, 'sw.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  cpSync(PUBLIC, tmp, { recursive: true });

  let total = 0;
  for (const file of [join(tmp, 'index.html'), js, css]) {
    const gz = gzipSync(readFileSync(file), { level: 9 }).length;
    total += gz;
    const shown = relative(root, file).replace(relative(root, tmp), 'dashboard/dist');
    if (!quiet) console.log(`${shown.padEnd(44)} ${(gz / 1024).toFixed(1).padStart(6)} kB gzipped`);
  }
  if (!quiet) console.log(`${'total'.padEnd(44)} ${(total / 1024).toFixed(1).padStart(6)} kB gzipped`);
  // every file the build read (dashboard/src, protocol/ it imports, index.html, this script): what --if-stale compares
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...Object.keys(worker.metafile.inputs), ...publicFiles(), 'dashboard/index.html', SELF])];
  writeFileSync(join(tmp, 'build.json'), JSON.stringify({ js: basename(js), css: basename(css), gzipBytes: total, inputs }) + '\n');

  const old = join(src, `.dist-${process.pid}.old`);
  try {
    renameSync(out, old);
  } catch {
    /* no previous build */
  }
  try {
    renameSync(tmp, out);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process swapped in its build (of the same sources) first
  }
  rmSync(old, { recursive: true, force: true });
}

/** Builds when stale; true when it built. */
export async function ensureDashboard({ quiet = false } = {}) {
  if (!dashboardStale()) return false;
  await buildDashboard({ quiet });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  const quiet = process.argv.includes('--quiet');
  try {
    if (process.argv.includes('--if-stale')) await ensureDashboard({ quiet });
    else await buildDashboard({ quiet });
  } catch (err) {
    console.error(`dashboard build failed (see errors above): ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
