import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { LineFramer } from '../../../gateway/lineFramer.ts';

const S1 = '$EVT,CS7-004512,0,2026-11-23T08:55:00Z,POWER_ON,4.2.1*64';
const S2 = '$STS,CS7-004516,1,2026-11-23T09:00:00Z,IDLE,0.00,0.00,0.00,,35,100,*68';

async function frame(chunks: Buffer[]): Promise<{ lines: string[]; tooLong: number }> {
  const lines: string[] = [];
  let tooLong = 0;
  const f = new LineFramer((l) => lines.push(l), () => tooLong++);
  for (const c of chunks) f.write(c);
  await tick(); // stream plumbing delivers on the next turn; no timers involved
  await tick();
  f.stop();
  return { lines, tooLong };
}

describe('LineFramer (bounded guard + parser-readline)', () => {
  test('CR LF and bare LF lines; CR stripped', async () => {
    const r = await frame([Buffer.from(`${S1}\r\n${S2}\n`)]);
    assert.deepEqual(r.lines, [S1, S2]);
    assert.equal(r.tooLong, 0);
  });

  test('the same lines whatever byte boundary the stream is split at', async () => {
    const bytes = Buffer.from(`${S1}\r\n${S2}\r\n${S1}\n`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (const second of [cut, Math.min(bytes.length, cut + 7)]) {
        const r = await frame([bytes.subarray(0, cut), bytes.subarray(cut, second), bytes.subarray(second)]);
        assert.deepEqual(r.lines, [S1, S2, S1], `cut at ${cut}/${second}`);
      }
    }
  });

  test('one byte at a time', async () => {
    const bytes = Buffer.from(`${S1}\r\n${S2}\r\n`);
    const r = await frame([...bytes].map((b) => Buffer.from([b])));
    assert.deepEqual(r.lines, [S1, S2]);
  });

  test('a 257-byte line (256 + CR) passes; one byte more is dropped as TOO_LONG and framing resumes', async () => {
    const ok = 'A'.repeat(256);
    const long = 'B'.repeat(258);
    const r = await frame([Buffer.from(`${ok}\r\n${long}\r\n${S1}\r\n`)]);
    assert.deepEqual(r.lines, [ok, S1]);
    assert.equal(r.tooLong, 1);
  });

  test('a 100 kB line split in many chunks is dropped once and never buffered', async () => {
    const big = Buffer.alloc(100 * 1024, 0x41);
    const chunks: Buffer[] = [Buffer.from(`${S1}\r\n`)];
    for (let i = 0; i < big.length; i += 4096) chunks.push(big.subarray(i, i + 4096));
    chunks.push(Buffer.from(`\r\n${S2}\r\n`));
    const r = await frame(chunks);
    assert.deepEqual(r.lines, [S1, S2]);
    assert.equal(r.tooLong, 1);
  });

  test('megabytes of binary noise with no LF cost one TOO_LONG; the next line after an LF survives', async () => {
    const noise = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 131 + 7) & 0xff;
    const clean = Buffer.from(noise.filter((b) => b !== 0x0a));
    const r = await frame([clean.subarray(0, 1_000_000), clean.subarray(1_000_000), Buffer.from(`\n${S2}\r\n`)]);
    assert.deepEqual(r.lines, [S2]);
    assert.equal(r.tooLong, 1);
  });

  test('garbage lines come out as lines (the decoder rejects them), bytes kept as latin1', async () => {
    const r = await frame([Buffer.from([0x00, 0xc3, 0xbf, 0x23, 0x0d, 0x0a]), Buffer.from(`\r\n${S1}\r\n`)]);
    assert.deepEqual(r.lines, ['\x00\xc3\xbf#', '', S1]);
  });

  test('reset() forgets a partial line left by a dropped link', async () => {
    const lines: string[] = [];
    const f = new LineFramer((l) => lines.push(l), () => undefined);
    f.write(Buffer.from('$STS,CS7-0045'));
    f.reset();
    f.write(Buffer.from(`${S1}\r\n`));
    await tick();
    await tick();
    f.stop();
    assert.deepEqual(lines, [S1]);
  });
});
