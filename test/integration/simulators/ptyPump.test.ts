import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import { decodeSentence, encodeHistRequest } from '../../../protocol/index.ts';
import { startSimulatedPump } from '../../../simulators/simulatedPump.ts';
import { startNpmScript, startProcess } from '../../helpers/childProcess.ts';
import { tempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';

/** The gateway's end of the cable, reduced to what the test needs: lines in, ?HIST out. */
async function openReader(path: string): Promise<{ lines: string[]; write(s: string): Promise<void>; close(): Promise<void> }> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const lines: string[] = [];
  port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' })).on('data', (l: string) => lines.push(l.replace(/\r$/, '')));
  port.on('error', () => undefined);
  return {
    lines,
    write: (s) => new Promise<void>((resolve, reject) => port.write(s, (err) => (err ? reject(err) : port.drain(() => resolve())))),
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}

const seqOf = (line: string): number => {
  const d = decodeSentence(line);
  return d.ok ? d.sentence.seq : -1;
};

describe('simulated pump on a real pty', () => {
  test('ble-drops ending now: lost sentences come back byte-identical through ?HIST', { timeout: 60_000 }, async () => {
    const tmp = tempDir('pumpwatch-sim-');
    const gw = join(tmp.path, 'pump0');
    const pump = await startSimulatedPump({ scenario: 'ble-drops', ptyPath: gw, historyEndingNow: true, hold: true, serial: 'SIM-PTY-1' });
    const reader = await openReader(gw);
    try {
      pump.begin();
      await pump.done;
      assert.equal(pump.counts.lost, 112);
      const total = pump.counts.sent + pump.counts.lost;
      await waitFor(() => reader.lines.length >= pump.counts.sent, 20_000, 'all wire lines');
      const received = new Map<number, string>();
      for (const l of reader.lines) received.set(seqOf(l), l);
      const lastSeq = seqOf(reader.lines.at(-1) ?? '');
      assert.equal(lastSeq, total - 1);
      // the pump keeps 1,000: the 1-h drop at 33 h is among them
      const missing: number[] = [];
      for (let s = total - 1000; s < total; s++) if (!received.has(s)) missing.push(s);
      assert.equal(missing.length, 60);
      const from = missing[0] as number;
      const before = reader.lines.length;
      await reader.write(`${encodeHistRequest(from)}\r\n`);
      await waitFor(() => reader.lines.length >= before + (total - from), 20_000, 'replay');
      const replay = reader.lines.slice(before);
      assert.equal(replay.length, total - from);
      assert.deepEqual(replay.map(seqOf), Array.from({ length: total - from }, (_, i) => from + i));
      for (const line of replay) {
        const original = received.get(seqOf(line));
        if (original !== undefined) assert.equal(line, original, 'replay byte-identical to the original');
      }
      assert.deepEqual(pump.port?.histRequests, [from]);
      // asking for the next sentence replays nothing; garbage is ignored
      await reader.write(`${encodeHistRequest(total)}\r\n?HIST,12*00\r\nhello\r\n`);
      await new Promise((r) => setTimeout(r, 300)); // a fixed wait on purpose: it proves no line comes back
      assert.equal(reader.lines.length, before + (total - from));
    } finally {
      await reader.close();
      await pump.stop();
      tmp.remove();
    }
    assert.equal(existsSync(gw), false, 'pty removed on stop');
  });

  test('?HIST requests arriving while the pump blasts its history do not stall the link', { timeout: 60_000 }, async () => {
    const tmp = tempDir('pumpwatch-sim-');
    const gw = join(tmp.path, 'pump3');
    const pump = await startSimulatedPump({ scenario: 'ble-drops', ptyPath: gw, historyEndingNow: true, hold: true });
    const reader = await openReader(gw);
    try {
      // as a gateway does: at every gap, ask at once from the first missing one, while the blast goes on
      const asked: number[] = [];
      let scanned = 1;
      const poll = setInterval(() => {
        const seqs = reader.lines.map(seqOf);
        for (; scanned < seqs.length; scanned++) {
          const prev = seqs[scanned - 1] ?? 0;
          if ((seqs[scanned] ?? 0) > prev + 1 && asked.length < 4) {
            asked.push(prev + 1);
            void reader.write(`${encodeHistRequest(prev + 1)}\r\n`);
          }
        }
      }, 1);
      pump.begin();
      await pump.done;
      const total = pump.counts.sent + pump.counts.lost;
      await waitFor(() => new Set(reader.lines.map(seqOf)).has(total - 1), 20_000, 'the last sentence');
      await waitFor(() => pump.port?.histRequests.length === asked.length, 10_000, 'every request seen');
      clearInterval(poll);
      assert.ok(asked.length >= 2, `asked ${asked.length} times`);
      // the last 1,000 are kept: the 1-h drop at 33 h is among them, and the replays bring it back
      const lastDrop = Array.from({ length: total }, (_, i) => i).filter((q) => q >= total - 1000);
      await waitFor(() => {
        const seqs = new Set(reader.lines.map(seqOf));
        return lastDrop.every((q) => seqs.has(q)) || asked.every((a) => a < total - 1000);
      }, 20_000, 'replays delivered');
      // and the link is still alive afterwards
      const before = reader.lines.length;
      await reader.write(`${encodeHistRequest(total - 5)}\r\n`);
      await waitFor(() => reader.lines.length >= before + 5, 10_000, 'a last replay');
    } finally {
      await reader.close();
      await pump.stop();
      tmp.remove();
    }
  });

  test('live at high speed: sentences arrive in order, timed by the scenario', { timeout: 60_000 }, async () => {
    const tmp = tempDir('pumpwatch-sim-');
    const gw = join(tmp.path, 'pump1');
    // 19 h 20 min of early-end at 36,000× is about 2 s of real time
    const pump = await startSimulatedPump({ scenario: 'early-end', ptyPath: gw, speed: 36_000, hold: true });
    const reader = await openReader(gw);
    try {
      const t0 = Date.now();
      pump.begin();
      await pump.done;
      const elapsed = Date.now() - t0;
      assert.ok(elapsed > 1000, `19.5 h at 36,000x takes ~2 s, took ${elapsed} ms`);
      await waitFor(() => reader.lines.length >= pump.counts.sent, 10_000, 'all lines');
      assert.deepEqual(reader.lines.map(seqOf), Array.from({ length: pump.counts.sent }, (_, i) => i));
    } finally {
      await reader.close();
      await pump.stop();
      tmp.remove();
    }
  });
});

describe('npm run simulate', () => {
  test('a bad option exits 2 with one line', { timeout: 60_000 }, async () => {
    for (const args of [['--bogus'], ['--stdout', '--scenario', 'nope'], ['--pty', '/tmp/x', '--speed', '-1'], []]) {
      const p = startNpmScript('simulate', args);
      assert.equal(await p.exited, 2, args.join(' '));
      const out = p.lines.filter((l) => l.trim() !== '');
      assert.equal(out.length, 1, out.join('\n'));
      assert.match(out[0] ?? '', /^simulate: /);
    }
  });

  test('--help lists the scenarios; --stdout prints a scenario; --pty serves it and SIGTERM removes the pty', { timeout: 90_000 }, async () => {
    const help = startNpmScript('simulate', ['--help']);
    assert.equal(await help.exited, 0);
    for (const name of ['normal-46h', 'occlusion', 'ble-drops', 'capture:<file>', '--fleet']) assert.ok(help.lines.some((l) => l.includes(name)), name);

    const out = startNpmScript('simulate', ['--stdout', '--scenario', 'early-end', '--history-ending-now']);
    assert.equal(await out.exited, 0);
    const sentences = out.lines.filter((l) => l.startsWith('$'));
    assert.equal(sentences.length, 1167);

    const tmp = tempDir('pumpwatch-sim-');
    const gw = join(tmp.path, 'pump2');
    // straight to node (not through npm) to see the simulator's own exit code on SIGTERM
    const proc = startProcess(process.execPath, ['--import', 'tsx', 'simulators/cli.ts', '--pty', gw, '--scenario', 'short-pause', '--history-ending-now', '--start-delay', '1']);
    try {
      await waitFor(() => existsSync(gw), 20_000, 'pty');
      const reader = await openReader(gw);
      try {
        await waitFor(() => reader.lines.length >= 2783, 30_000, 'all sentences');
        assert.equal(reader.lines.length, 2783);
      } finally {
        await reader.close();
      }
      assert.equal(await proc.stop(), 0);
      assert.equal(existsSync(gw), false);
    } finally {
      await proc.kill9();
      tmp.remove();
    }
  });
});
