/** A /ws client that sees what a nurse's board sees: every message kept with its arrival time (performance.now()). */
import WebSocket from 'ws';
import type { Alert, PumpView, ServerMessage } from '../../protocol/api.ts';
import { waitFor } from './wait.ts';

export class BoardSocket {
  readonly received: { at: number; msg: ServerMessage }[] = [];

  /** listening from the start: the snapshot can come in the same read as the upgrade answer */
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.received.push({ at: performance.now(), msg: JSON.parse((data as Buffer).toString('utf8')) as ServerMessage }));
  }

  static open(url: string, headers: Record<string, string>): Promise<BoardSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new BoardSocket(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`/ws: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** alert messages (raised, updated, cleared) of one pump, in arrival order */
  alerts(pump: string): { at: number; alert: Alert }[] {
    const out: { at: number; alert: Alert }[] = [];
    for (const r of this.received) if (r.msg.type === 'alert' && r.msg.alert.pump === pump) out.push({ at: r.at, alert: r.msg.alert });
    return out;
  }

  /** the first alert message of the pump matching `match` that arrived after `sinceMs` (performance.now()) */
  waitForAlert(pump: string, match: (a: Alert) => boolean, opts: { sinceMs?: number; timeoutMs?: number } = {}): Promise<{ at: number; alert: Alert }> {
    return waitFor(() => this.alerts(pump).find((m) => m.at >= (opts.sinceMs ?? 0) && match(m.alert)), opts.timeoutMs ?? 10_000, `alert on /ws for ${pump}`, 20);
  }

  /** the newest view of a pump pushed so far (snapshot or change) */
  pump(serial: string): PumpView | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const m = this.received[i]?.msg;
      if (m?.type === 'pump' && m.pump.pump === serial) return m.pump;
      if (m?.type === 'snapshot') return m.pumps.find((p) => p.pump === serial);
    }
    return undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}
