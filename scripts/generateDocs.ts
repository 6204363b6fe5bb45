/**
 * `npm run docs`: rewrites the generated tables in the docs: the settings tables in
 * docs/server.md, docs/detection.md and docs/billing.md (from server/config/settings.ts) and the
 * metrics table in docs/server.md (from server/metrics/catalogue.ts). Prints which files changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SETTINGS_DOCS, withSettingsBlock, type SettingsDoc } from '../server/config/settingsDoc.ts';
import { withMetricsTable } from '../server/metrics/metricsDoc.ts';

const generated = (doc: SettingsDoc, text: string): string => {
  const settings = withSettingsBlock(doc, text);
  return doc === 'server' ? withMetricsTable(settings) : settings;
};

for (const doc of SETTINGS_DOCS) {
  const path = new URL(`../docs/${doc}.md`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  let after: string;
  try {
    after = generated(doc, before);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  if (after !== before) {
    writeFileSync(path, after);
    process.stdout.write(`docs/${doc}.md: generated tables rewritten\n`);
  }
}
