/**
 * Epoch ms to ISO 8601 text, cheaply: views are built for every status message, and most arrive in
 * the same second as the previous one, so the text up to the second is reused.
 */
let cachedSecond = Number.NaN;
let cachedPrefix = '';

export function isoFromMs(ms: number): string {
  if (!Number.isFinite(ms)) return new Date(Number.NaN).toString();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20); // 'YYYY-MM-DDTHH:MM:SS.'
  }
  const frac = ms - second * 1000;
  return `${cachedPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}
