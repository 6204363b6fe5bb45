/** Bearer tokens for machine clients: only SHA-256 hashes are kept, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export interface TokenMatch {
  /** "token:<first 8 hex of sha256>": what ackedBy and the audit log show */
  label: string;
}

export class TokenSet {
  private readonly hashes: Buffer[];

  constructor(tokens: readonly string[]) {
    this.hashes = tokens.filter((t) => t.length > 0).map(sha256);
  }

  get size(): number {
    return this.hashes.length;
  }

  /** Checks against every stored hash (no early exit), so timing says nothing about which matched. */
  match(presented: string): TokenMatch | undefined {
    const h = sha256(presented);
    let found: Buffer | undefined;
    for (const stored of this.hashes) {
      if (timingSafeEqual(stored, h)) found = stored;
    }
    return found ? { label: tokenLabel(found) } : undefined;
  }
}

export function tokenLabel(hash: Buffer): string {
  return `token:${hash.toString('hex').slice(0, 8)}`;
}

/** The label for a raw token, e.g. for documentation and tests. */
export function labelOfToken(token: string): string {
  return tokenLabel(sha256(token));
}
