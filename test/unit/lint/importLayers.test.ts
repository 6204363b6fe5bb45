/**
 * The import rules must keep working: a resolver that stops following `.ts` specifiers makes both
 * rules pass everything in silence. Each case lints code the rules must refuse.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// @ts-expect-error a plain .js config module without type declarations
import { importLayersConfig, SERVER_LAYERS } from '../../../eslint.layers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** the import rules alone, with the project's parser and no type information (fast, no tsconfig) */
function importRulesOnly(cwd: string, basePath: string): ESLint {
  const layers = (importLayersConfig as (basePath: string) => Record<string, unknown>)(basePath);
  return new ESLint({
    cwd,
    overrideConfigFile: true,
    overrideConfig: [{ ...layers, languageOptions: { parser: tseslint.parser, sourceType: 'module' } }],
  });
}

const ruleIds = (results: ESLint.LintResult[]): (string | null)[] => results.flatMap((r) => r.messages.map((m) => m.ruleId));

describe('import-x/no-cycle', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-cycle-'));
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n");
    writeFileSync(join(dir, 'b.ts'), "import { a } from './a.ts';\nexport const b = (): number => a() + 1;\n");
    writeFileSync(join(dir, 'c.ts'), "import { b } from './b.ts';\nexport const c = (): number => b();\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reports both files of a two-file cycle, and not a file that only uses it', async () => {
    const results = await importRulesOnly(dir, dir).lintFiles(['a.ts', 'b.ts', 'c.ts']);
    const byFile = Object.fromEntries(results.map((r) => [r.filePath.slice(dir.length + 1), r.messages.map((m) => m.ruleId)]));
    expect(byFile['a.ts']).toContain('import-x/no-cycle');
    expect(byFile['b.ts']).toContain('import-x/no-cycle');
    expect(byFile['c.ts']).not.toContain('import-x/no-cycle');
  });
});

describe('layer zones', () => {
  // linted as text at a path inside the project: nothing is written into the source tree
  const lintAt = async (filePath: string, code: string): Promise<(string | null)[]> =>
    ruleIds(await importRulesOnly(root, root).lintText(code, { filePath: join(root, filePath) }));

  test.each([
    ['protocol/probe.ts', "import { DurableQueue } from '../durable/index.ts';\nexport const q = DurableQueue;\n"],
    ['durable/probe.ts', "import { parseTopic } from '../protocol/topics.ts';\nexport const p = parseTopic;\n"],
    ['gateway/probe.ts', "import type { ServerConfig } from '../server/config.ts';\nexport type C = ServerConfig;\n"],
    // type-only imports count: a type cycle between folders is still a cycle
    ['server/engine/probe.ts', "import type { LiveHub } from '../live/hub.ts';\nexport type H = LiveHub;\n"],
    ['server/billing/probe.ts', "import { PumpwatchCore } from '../core/pumpwatchCore.ts';\nexport const c = PumpwatchCore;\n"],
    ['server/pumps/probe.ts', "import { Engine } from '../engine/engine.ts';\nexport const e = Engine;\n"],
    ['server/live/probe.ts', "import type { HttpLayer } from '../http/registerHttp.ts';\nexport type L = HttpLayer;\n"],
    ['server/storage/probe.ts', "import type { IngestJournal } from '../ingest/journalEntry.ts';\nexport type J = IngestJournal;\n"],
    ['server/core/probe.ts', "import { registerHttp } from '../http/registerHttp.ts';\nexport const r = registerHttp;\n"],
  ])('%s may not import that', async (filePath, code) => {
    expect(await lintAt(filePath, code)).toContain('import-x/no-restricted-paths');
  });

  test('downward imports pass', async () => {
    expect(await lintAt('server/core/probe.ts', [
      "import type { ApiBackend } from '../http/backend.ts';",
      "import { createDetectionEngine } from '../engine/index.ts';",
      "import type { LiveChange } from '../events/facts.ts';",
      'export type B = ApiBackend | LiveChange;',
      'export const e = createDetectionEngine;',
      '',
    ].join('\n'))).toEqual([]);
  });
});

describe('the layer order', () => {
  test('places every folder and file of server/: a new one outside it would escape the rule', () => {
    const listed = new Set((SERVER_LAYERS as string[][]).flat());
    const unplaced = readdirSync(join(root, 'server'), { withFileTypes: true })
      .map((e) => `server/${e.name}`)
      .filter((p) => (p.endsWith('.ts') || !p.includes('.')) && !listed.has(p));
    expect(unplaced).toEqual([]);
  });
});

describe('eslint.config.js', () => {
  test('applies both import rules to server code', async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile(join(root, 'server/app.ts'))) as { rules: Record<string, unknown[]> };
    expect(config.rules['import-x/no-cycle']?.[0]).toBe(2);
    expect(config.rules['import-x/no-restricted-paths']?.[0]).toBe(2);
  });
});
