import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A virtual serial cable: two pseudo-terminals joined by socat. The pump side opens `pumpPath`,
 * the gateway opens `gatewayPath`. Stopping it makes both device nodes vanish, as a USB replug or
 * a BLE bridge restart does; `start()` brings them back under the same paths.
 */
export class PtyPair {
  private proc: ChildProcess | null = null;

  constructor(readonly gatewayPath: string, readonly pumpPath: string = `${gatewayPath}.pump`) {}

  get running(): boolean {
    return this.proc !== null;
  }

  async start(timeoutMs = 5000): Promise<void> {
    if (this.proc) return;
    for (const p of [this.gatewayPath, this.pumpPath]) if (existsSync(p)) unlinkSync(p);
    const proc = spawn('socat', [
      `pty,raw,echo=0,link=${this.pumpPath}`,
      `pty,raw,echo=0,link=${this.gatewayPath}`,
    ], { stdio: 'ignore' });
    this.proc = proc;
    proc.once('exit', () => { if (this.proc === proc) this.proc = null; });
    const deadline = Date.now() + timeoutMs;
    while (!(existsSync(this.gatewayPath) && existsSync(this.pumpPath))) {
      if (Date.now() > deadline || this.proc !== proc) throw new Error(`socat did not create ${this.gatewayPath}`);
      await delay(10);
    }
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await exited;
  }
}
