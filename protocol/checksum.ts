/** XOR of every byte between '$' and '*' (both excluded), i.e. of `body`. */
export function checksumOf(body: string): number {
  let cs = 0;
  for (let i = 0; i < body.length; i++) cs ^= body.charCodeAt(i);
  return cs & 0xff;
}

/** Two upper-case hex digits, as the pump sends them. */
export function checksumHex(body: string): string {
  const cs = checksumOf(body);
  return (cs < 16 ? '0' : '') + cs.toString(16).toUpperCase();
}
