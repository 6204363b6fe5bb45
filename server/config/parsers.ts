/**
 * Parsers for the settings table: each turns the text of one environment variable into a value or
 * throws ConfigError with one line that names the variable. They never see an empty value (unset).
 */

export class ConfigError extends Error {
  readonly code = 'BAD_CONFIG';
}

export interface Parser<T> {
  /** `raw` is the variable's text, never empty; throws ConfigError naming `name` */
  parse(raw: string, name: string): T;
  /** what the variable accepts, for the docs */
  accepts: string;
  /** the value is a quantity (the table then gives its unit) */
  numeric: boolean;
}

export interface Shard {
  /** 0-based index of this instance */
  index: number;
  /** number of instances */
  count: number;
}

const fail = (message: string): never => {
  throw new ConfigError(message);
};

/** "a", "a or b", "a, b or c" */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1] ?? ''}`;
}

/** A whole number in [min, max]. */
export function wholeNumber(min: number, max: number): Parser<number> {
  return {
    accepts: `whole number ${min}–${max}`,
    numeric: true,
    parse(raw, name) {
      if (!/^\d+$/.test(raw.trim())) fail(`${name} must be a whole number, got "${raw}"`);
      const n = Number(raw.trim());
      if (n < min || n > max) fail(`${name} must be between ${min} and ${max}, got ${n}`);
      return n;
    },
  };
}

/** A plain decimal number (digits, optional fraction) >= 0, at most `max`. */
export function decimal(max?: number): Parser<number> {
  const range = max === undefined ? '>= 0' : `between 0 and ${max}`;
  return {
    accepts: max === undefined ? 'number ≥ 0' : `number 0–${max}`,
    numeric: true,
    parse(raw, name) {
      const t = raw.trim();
      const n = /^\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
      if (!Number.isFinite(n) || (max !== undefined && n > max)) fail(`${name} must be a number ${range}, got "${raw}"`);
      return n;
    },
  };
}

/** An absolute URL with one of `protocols` (e.g. 'http:'); the value is its normalised href. */
export function url(protocols: readonly string[]): Parser<string> {
  return {
    accepts: `URL: ${protocols.map((p) => `\`${p}\``).join(', ')}`,
    numeric: false,
    parse(raw, name) {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return fail(`${name} is not a URL: "${raw}"`);
      }
      if (!protocols.includes(u.protocol)) fail(`${name} must use ${orList(protocols)}, got "${raw}"`);
      return u.href;
    },
  };
}

/** One of a fixed set of words. */
export function oneOf<const W extends string>(words: readonly W[]): Parser<W> {
  return {
    accepts: words.map((w) => `\`${w}\``).join(', '),
    numeric: false,
    parse(raw, name) {
      if (!(words as readonly string[]).includes(raw)) fail(`${name} must be ${orList(words)}, got "${raw}"`);
      return raw as W;
    },
  };
}

/** An IANA time zone name the runtime knows. */
export const timeZone: Parser<string> = {
  accepts: 'IANA time zone',
  numeric: false,
  parse(raw, name) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: raw });
    } catch {
      fail(`${name} is not an IANA time zone: "${raw}"`);
    }
    return raw;
  },
};

/** Any text, taken as it is (paths, addresses, credentials). */
export function text(accepts: string): Parser<string> {
  return { accepts, numeric: false, parse: (raw) => raw };
}

/** Text matching `pattern`; `rule` says in words what it allows. */
export function matching(pattern: RegExp, rule: string): Parser<string> {
  return {
    accepts: rule,
    numeric: false,
    parse(raw, name) {
      if (!pattern.test(raw)) fail(`${name} must be ${rule}, got "${raw}"`);
      return raw;
    },
  };
}

/**
 * A comma-separated list (blanks around items and empty items ignored); `check` returns why an
 * item is refused, or null. The message does not echo items: they may be secrets.
 */
export function list(accepts: string, check: (item: string) => string | null): Parser<string[]> {
  return {
    accepts,
    numeric: false,
    parse(raw, name) {
      const items = raw.split(',').map((t) => t.trim()).filter((t) => t !== '');
      for (const item of items) {
        const why = check(item);
        if (why !== null) fail(`${name}: ${why}`);
      }
      return items;
    },
  };
}

/** `i/N`: this instance is number i (0-based) of N (1–1024). */
export const shardSpec: Parser<Shard> = {
  accepts: '`i/N`, 0 ≤ i < N ≤ 1024',
  numeric: false,
  parse(raw, name) {
    const m = /^(\d+)\/(\d+)$/.exec(raw.trim());
    const index = m ? Number(m[1]) : NaN;
    const count = m ? Number(m[2]) : NaN;
    if (!m || count < 1 || count > 1024 || index >= count) fail(`${name} must be i/N with 0 <= i < N, got "${raw}"`);
    return { index, count };
  },
};

/**
 * Base64url text (RFC 4648 §5, no padding) of exactly `bytes` bytes, whose first byte is `firstByte`
 * when given (an uncompressed P-256 point starts with 0x04). The message never echoes the value: it may
 * be a private key.
 */
export function base64urlBytes(bytes: number, rule: string, firstByte?: number): Parser<string> {
  return {
    accepts: `base64url, ${rule}`,
    numeric: false,
    parse(raw, name) {
      const t = raw.trim();
      const decoded = /^[A-Za-z0-9_-]+$/.test(t) ? Buffer.from(t, 'base64url') : null;
      if (decoded === null || decoded.length !== bytes || (firstByte !== undefined && decoded[0] !== firstByte)) {
        fail(`${name} must be base64url of ${rule} (${bytes} bytes); generate keys with \`npm run vapid-keys\``);
      }
      return t;
    },
  };
}
