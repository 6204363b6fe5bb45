/**
 * The settings tables of the docs, rendered from the settings table, and their place in each doc:
 * between `<!-- settings:<doc>:begin -->` and `<!-- settings:<doc>:end -->`. Pure: no file access
 * (scripts/generateDocs.ts writes the files, a unit test compares them).
 */
import { SECTIONS, settingEntries, type SectionId, type Setting, type SettingName } from './settings.ts';

/** Docs that carry a settings table: docs/<name>.md. */
export const SETTINGS_DOCS = ['server', 'detection', 'billing'] as const;
export type SettingsDoc = (typeof SETTINGS_DOCS)[number];

const cell = (s: string): string => s.replace(/\|/g, '\\|');

function defaultCell(s: Setting): string {
  if (s.default === null || s.default === '') return s.defaultText ?? 'none';
  return `\`${s.default}\``;
}

function table(entries: readonly [SettingName, Setting][]): string[] {
  return [
    '| variable | default | unit | values | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...entries.map(([name, s]) => `| \`${name}\` | ${cell(defaultCell(s))} | ${cell(s.unit ?? '')} | ${cell(s.parse.accepts)} | ${cell(s.meaning)} |`),
  ];
}

/** a section's own entries, then those it shares with another section */
function inSection(section: SectionId): [SettingName, Setting][] {
  return [
    ...settingEntries().filter(([, s]) => s.section === section),
    ...settingEntries().filter(([, s]) => (s.alsoIn ?? []).includes(section)),
  ];
}

/** The generated text of one doc's block, without the markers. */
export function settingsBlock(doc: SettingsDoc): string {
  const note = '<!-- generated from server/config/settings.ts by `npm run docs`; edit the table there -->';
  if (doc !== 'server') return [note, ...table(inSection(doc))].join('\n');
  const lines = [note];
  for (const [section, title] of Object.entries(SECTIONS) as [SectionId, string][]) {
    const entries = settingEntries().filter(([, s]) => s.section === section);
    if (entries.length > 0) lines.push('', `### ${title}`, '', ...table(entries));
  }
  return lines.join('\n');
}

export const beginMarker = (doc: SettingsDoc): string => `<!-- settings:${doc}:begin -->`;
export const endMarker = (doc: SettingsDoc): string => `<!-- settings:${doc}:end -->`;

/** What is between the markers in `text` now; throws when they are missing or out of order. */
export function currentBlock(doc: SettingsDoc, text: string): string {
  const begin = text.indexOf(beginMarker(doc));
  const end = text.indexOf(endMarker(doc));
  if (begin < 0 || end < begin) throw new Error(`docs/${doc}.md has no ${beginMarker(doc)} ... ${endMarker(doc)} block`);
  return text.slice(begin + beginMarker(doc).length, end).replace(/^\n/, '').replace(/\n$/, '');
}

/** `text` with the block between the markers replaced by the generated one. */
export function withSettingsBlock(doc: SettingsDoc, text: string): string {
  currentBlock(doc, text);
  const begin = text.indexOf(beginMarker(doc)) + beginMarker(doc).length;
  const end = text.indexOf(endMarker(doc));
  return `${text.slice(0, begin)}\n${settingsBlock(doc)}\n${text.slice(end)}`;
}
