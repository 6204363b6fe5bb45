import { readFileSync } from 'node:fs';

/** A capture file as the pump sent it: one line each, line ends removed, bytes kept (latin1). */
export function loadCapture(path: string): string[] {
  const text = readFileSync(path, 'latin1');
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
