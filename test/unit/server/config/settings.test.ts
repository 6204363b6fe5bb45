import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, DETECTION_ENV, loadConfig } from '../../../../server/config.ts';
import { decimal, list, matching, oneOf, shardSpec, timeZone, url, wholeNumber, type Parser } from '../../../../server/config/parsers.ts';
import { SETTINGS, settingEntries } from '../../../../server/config/settings.ts';
import { DEFAULT_DETECTION_CONFIG } from '../../../../server/thresholds/detectionConfig.ts';

const ROOT = join(import.meta.dirname, '../../../..');

/** Variables that take any text (paths, addresses, credentials): nothing to refuse. */
const FREE_TEXT = new Set([
  'MQTT_USERNAME', 'MQTT_PASSWORD', 'MQTT_CA_FILE', 'PUMPWATCH_JOURNAL_DIR', 'HOST', 'PUMPWATCH_USERS_FILE',
  'HTTPS_CERT_FILE', 'HTTPS_KEY_FILE', 'TRUST_PROXY',
]);

function refusal(parse: () => unknown): ConfigError {
  try {
    parse();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('the settings table', () => {
  test.each(settingEntries())('%s has a one-line meaning, a known section, and a unit when numeric', (name, s) => {
    expect(name).toMatch(/^[A-Z][A-Z0-9_]+$/);
    expect(s.meaning.trim().length).toBeGreaterThan(10);
    expect(s.meaning).not.toContain('\n');
    if (s.parse.numeric) expect(s.unit, `${name} is numeric: give its unit`).toMatch(/\S/);
    if (s.default === null && s.defaultText === undefined) expect(s.field ?? s.detection, `${name} has no default: it must be optional`).toBeDefined();
  });

  test.each(settingEntries().filter(([, s]) => s.default !== null && s.default !== ''))('the default of %s parses under its own parser', (name, s) => {
    expect(() => s.parse.parse(s.default as string, name)).not.toThrow();
  });

  test.each(settingEntries().filter(([name]) => !FREE_TEXT.has(name)))('%s refuses a bad value with one line naming it', (name, s) => {
    const err = refusal(() => s.parse.parse('not valid!', name));
    expect(err.message.startsWith(name)).toBe(true);
    expect(err.message).not.toContain('\n');
    // and loadConfig refuses it the same way
    expect(() => loadConfig({ [name]: 'not valid!' })).toThrow(err.message);
  });

  test('free-text variables are taken as they are', () => {
    for (const name of FREE_TEXT) expect((SETTINGS as Record<string, { parse: Parser<unknown> }>)[name]?.parse.parse(' a b ', name)).toBe(' a b ');
  });

  test('detection defaults are the engine defaults, and every detection entry names a known threshold', () => {
    for (const [name, s] of settingEntries()) {
      if (!s.detection) continue;
      expect(DEFAULT_DETECTION_CONFIG[s.detection], name).toBe(Number(s.default));
      expect(DETECTION_ENV[name]).toBe(s.detection);
    }
    expect(Object.keys(DETECTION_ENV)).toHaveLength(12);
  });

  test('every variable the server reads is in the table', () => {
    const read = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        // the CLIs (users, provision) have their own variables, documented in docs/deploy.md
        if (e.isDirectory() && relative(ROOT, p) !== join('server', 'cli')) walk(p);
        else if (e.isFile() && p.endsWith('.ts')) {
          for (const m of readFileSync(p, 'utf8').matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]+)/g)) read.add(m[1] as string);
        }
      }
    };
    walk(join(ROOT, 'server'));
    expect([...read].filter((n) => !(n in SETTINGS))).toEqual([]);
  });

  test("package.json's server script uses the table's SERVER_HEAP_MB default", () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.server;
    expect(script).toContain(`--max-old-space-size=\${SERVER_HEAP_MB:-${SETTINGS.SERVER_HEAP_MB.default}}`);
  });
});

describe('parsers', () => {
  const refused = (p: Parser<unknown>, raw: string): string => refusal(() => p.parse(raw, 'X_VAR')).message;

  test('wholeNumber: digits only, within its range', () => {
    expect(wholeNumber(1, 10).parse(' 7 ', 'X_VAR')).toBe(7);
    expect(refused(wholeNumber(1, 10), '7.5')).toBe('X_VAR must be a whole number, got "7.5"');
    expect(refused(wholeNumber(1, 10), '-1')).toBe('X_VAR must be a whole number, got "-1"');
    expect(refused(wholeNumber(1, 10), '11')).toBe('X_VAR must be between 1 and 10, got 11');
    expect(refused(wholeNumber(1, 10), '0')).toBe('X_VAR must be between 1 and 10, got 0');
  });

  test('decimal: a plain number >= 0, at most its maximum', () => {
    expect(decimal().parse('0.25', 'X_VAR')).toBe(0.25);
    expect(refused(decimal(), '1e3')).toBe('X_VAR must be a number >= 0, got "1e3"');
    expect(refused(decimal(), '-2')).toBe('X_VAR must be a number >= 0, got "-2"');
    expect(decimal(100).parse('100', 'X_VAR')).toBe(100);
    expect(refused(decimal(100), '100.5')).toBe('X_VAR must be a number between 0 and 100, got "100.5"');
  });

  test('url: absolute, with one of the protocols', () => {
    expect(url(['http:']).parse('http://h:1/db', 'X_VAR')).toBe('http://h:1/db');
    expect(refused(url(['http:']), 'h:1/db')).toMatch(/^X_VAR must use http:, got/);
    expect(refused(url(['http:', 'https:']), 'ftp://h/')).toBe('X_VAR must use http: or https:, got "ftp://h/"');
    expect(refused(url(['http:']), '//nohost')).toBe('X_VAR is not a URL: "//nohost"');
  });

  test('oneOf, timeZone, matching, list, shardSpec', () => {
    expect(oneOf(['a', 'b']).parse('b', 'X_VAR')).toBe('b');
    expect(refused(oneOf(['a', 'b', 'c']), 'B')).toBe('X_VAR must be a, b or c, got "B"');
    expect(timeZone.parse('Europe/Paris', 'X_VAR')).toBe('Europe/Paris');
    expect(refused(timeZone, 'Mars/Olympus')).toBe('X_VAR is not an IANA time zone: "Mars/Olympus"');
    expect(refused(matching(/^\w+$/, 'letters'), 'a b')).toBe('X_VAR must be letters, got "a b"');
    const words = list('words', (w) => (w.length < 3 ? 'every word needs 3 letters' : null));
    expect(words.parse(' abc, ,defg ', 'X_VAR')).toEqual(['abc', 'defg']);
    expect(refused(words, 'abc,de')).toBe('X_VAR: every word needs 3 letters');
    expect(shardSpec.parse('2/3', 'X_VAR')).toEqual({ index: 2, count: 3 });
    for (const bad of ['3/3', '0/0', '0/1025', '1', 'a/b']) expect(refused(shardSpec, bad)).toMatch(/^X_VAR must be i\/N/);
  });
});
