/**
 * `npm run hl7-listen` as a pharmacy's integration engineer runs it: it prints each message one
 * segment a line with its verdict, answers AA to a valid PCD message, AE with the reason to an
 * invalid one, and what --answer says when given.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAck } from '../../../server/hl7/ack.ts';
import { MllpReader, writeFrame } from '../../../server/hl7/mllp.ts';
import { pcd04 } from '../../../server/hl7/pcdMessages.ts';
import type { Alert } from '../../../protocol/api.ts';
import { startProcess, type RunningProcess } from '../../helpers/childProcess.ts';
import { freePort } from '../../helpers/ports.ts';

const alert: Alert = {
  id: 'A1', pump: 'PW-9', gateway: 'gw', type: 'occlusion', severity: 'high', status: 'active', acknowledged: false,
  ackedBy: null, ackedAt: null, raisedAt: '2026-12-03T19:00:00Z', clearedAt: null, message: 'Occlusion', detail: {},
};

let proc: RunningProcess | null = null;
afterEach(async () => {
  await proc?.stop();
  proc = null;
});

/** sends one framed message and returns the framed answer */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => writeFrame(socket, text));
    const reader = new MllpReader();
    socket.on('data', (chunk: Buffer) => {
      const [answer] = reader.push(chunk);
      if (answer !== undefined) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
  });
}

async function start(extra: string[] = []): Promise<number> {
  const port = await freePort();
  proc = startProcess('npm', ['run', '--silent', 'hl7-listen', '--', '--port', String(port), ...extra]);
  await proc.waitForLine(/listening for MLLP/, 30_000);
  return port;
}

describe('npm run hl7-listen', () => {
  test('prints and validates: AA for a valid PCD-04, AE with the reason for a wrong profile', async () => {
    const port = await start();
    const good = pcd04('raised', alert, { controlId: 'CLI1', nowMs: Date.now(), patient: null });
    expect(readAck(await exchange(port, good))).toMatchObject({ ok: true, code: 'AA', controlId: 'CLI1' });
    await proc?.waitForLine(/pcd04 CLI1 → AA/);
    await proc?.waitForLine(/^ {2}OBX\|1\|CWE\|196616\^MDC_EVT_ALARM\^MDC/);
    const bad = good.replace('IHE_PCD_ACM_001', 'SOMETHING_ELSE').replace('|CLI1|', '|CLI2|');
    const answer = readAck(await exchange(port, bad));
    expect(answer).toMatchObject({ ok: true, code: 'AE', controlId: 'CLI2' });
    expect(answer.ok && answer.text).toMatch(/MSH-21/);
    await proc?.waitForLine(/! MSH-21/);
  }, 60_000);

  test('--answer AR answers AR to everything', async () => {
    const port = await start(['--answer', 'AR']);
    const msg = pcd04('raised', alert, { controlId: 'CLI3', nowMs: Date.now(), patient: null });
    expect(readAck(await exchange(port, msg))).toMatchObject({ ok: true, code: 'AR', controlId: 'CLI3' });
  }, 60_000);

  test('--jsonl: each message one JSON line, written before it is answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hl7-listen-'));
    try {
      const file = join(dir, 'got.jsonl');
      const port = await start(['--jsonl', file]);
      const msg = pcd04('raised', alert, { controlId: 'CLI4', nowMs: Date.now(), patient: null });
      expect(readAck(await exchange(port, msg))).toMatchObject({ ok: true, code: 'AA', controlId: 'CLI4' });
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ controlId: 'CLI4', type: 'ORU^R40^ORU_R40', profile: 'pcd04', answered: 'AA', errors: [], text: msg });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a bad argument: usage on stderr, exit 2', async () => {
    proc = startProcess('npm', ['run', '--silent', 'hl7-listen', '--', '--answer', 'MAYBE']);
    expect(await proc.exited).toBe(2);
    expect(proc.lines.join('\n')).toMatch(/usage: npm run hl7-listen/);
  }, 60_000);
});
