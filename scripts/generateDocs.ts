/**
 * `npm run docs`: rewrites the generated settings tables in docs/server.md, docs/detection.md and
 * docs/billing.md from server/config/settings.ts. Prints which files changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SETTINGS_DOCS, withSettingsBlock } from '../server/config/settingsDoc.ts';

for (const doc of SETTINGS_DOCS) {
  const path = new URL(`../docs/${doc}.md`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  let after: string;
  try {
    after = withSettingsBlock(doc, before);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  if (after !== before) {
    writeFileSync(path, after);
    process.stdout.write(`docs/${doc}.md: settings table rewritten\n`);
  }
}
