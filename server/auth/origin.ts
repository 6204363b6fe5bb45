/** Same-origin checks for cookie-authenticated state changes and WebSocket upgrades; below both the HTTP layer and the live hub, which use them. */

export interface OriginPolicy {
  https: boolean;
  /** extra origins, e.g. "https://pumps.example.org" */
  allowed: readonly string[];
}

/** The origin this request was addressed to, from its Host header. */
function ownOrigin(host: string | undefined, https: boolean): string | undefined {
  if (!host || !/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return undefined;
  return `${https ? 'https' : 'http'}://${host.toLowerCase()}`;
}

function normalise(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The origin the browser states: Origin, else the origin of Referer; undefined when neither is
 * present ("null" and unparsable values count as present and wrong).
 */
export function statedOrigin(origin: string | undefined, referer: string | undefined): string | null | undefined {
  if (origin !== undefined) return normalise(origin) ?? null;
  if (referer !== undefined) return normalise(referer) ?? null;
  return undefined;
}

export function originAllowed(stated: string, host: string | undefined, policy: OriginPolicy): boolean {
  const own = ownOrigin(host, policy.https);
  if (own !== undefined && normalise(own) === stated) return true;
  return policy.allowed.some((a) => normalise(a) === stated);
}
