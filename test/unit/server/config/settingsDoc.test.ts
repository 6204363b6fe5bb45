import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { currentBlock, settingsBlock, SETTINGS_DOCS, withSettingsBlock } from '../../../../server/config/settingsDoc.ts';
import { settingEntries } from '../../../../server/config/settings.ts';

const DOCS = join(import.meta.dirname, '../../../../docs');

describe('settings tables in the docs', () => {
  test.each(SETTINGS_DOCS)('docs/%s.md carries the table generated from server/config/settings.ts', (doc) => {
    const text = readFileSync(join(DOCS, `${doc}.md`), 'utf8');
    expect(currentBlock(doc, text), `docs/${doc}.md: its settings table differs from server/config/settings.ts; run \`npm run docs\``).toBe(settingsBlock(doc));
  });

  test('docs/server.md lists every variable; detection and billing their own', () => {
    const server = settingsBlock('server');
    for (const [name] of settingEntries()) expect(server).toContain(`| \`${name}\` |`);
    expect(settingsBlock('billing')).toContain('`SERVICE_DAY_RULE`');
    expect(settingsBlock('billing')).toContain('`CLOCK_AHEAD_TOLERANCE_S`');
    expect(settingsBlock('billing')).not.toContain('BILLING_SERVICE_DAY_RULE');
    expect(settingsBlock('detection')).toContain('`OCCLUSION_RISE_MMHG`');
    expect(settingsBlock('detection')).not.toContain('`PORT`');
  });

  test('regenerating replaces only what is between the markers, and a second run changes nothing', () => {
    const stale = 'intro\n<!-- settings:billing:begin -->\n| old |\n<!-- settings:billing:end -->\noutro\n';
    const once = withSettingsBlock('billing', stale);
    expect(once.startsWith('intro\n<!-- settings:billing:begin -->\n')).toBe(true);
    expect(once.endsWith('\n<!-- settings:billing:end -->\noutro\n')).toBe(true);
    expect(once).not.toContain('| old |');
    expect(withSettingsBlock('billing', once)).toBe(once);
    expect(() => withSettingsBlock('billing', 'no markers')).toThrow(/no <!-- settings:billing:begin -->/);
  });
});
