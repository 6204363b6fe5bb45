import { ReadlineParser } from '@serialport/parser-readline';
import { BoundedLineGuard } from './boundedLineGuard.ts';

/**
 * Bytes in, lines out: the bounded guard, then @serialport/parser-readline on LF, then the
 * trailing CR stripped. latin1 keeps one char per byte so `raw` is exactly what was received.
 */
export class LineFramer {
  private readonly guard: BoundedLineGuard;
  private readonly parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });

  constructor(onLine: (line: string) => void, onTooLong: () => void) {
    this.guard = new BoundedLineGuard(onTooLong);
    this.guard.pipe(this.parser);
    this.parser.on('data', (line: string) => onLine(line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  /** Feeds received bytes; lines are emitted synchronously when complete. */
  write(chunk: Buffer): void {
    this.guard.write(chunk);
  }

  /** Forgets a partial line (the link dropped). */
  reset(): void {
    this.guard.reset();
  }

  stop(): void {
    this.guard.unpipe(this.parser);
    this.parser.removeAllListeners('data');
    this.guard.destroy();
    this.parser.destroy();
  }
}
