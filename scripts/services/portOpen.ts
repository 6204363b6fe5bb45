import { connect } from 'node:net';

/** true when something accepts TCP connections on 127.0.0.1:port (a service that has started) */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
