import { describe, expect, test } from 'vitest';
import { MllpReader } from '../../../../server/hl7/mllp.ts';

const frame = (s: string): Buffer => Buffer.concat([Buffer.from([0x0b]), Buffer.from(s, 'utf-8'), Buffer.from([0x1c, 0x0d])]);

describe('MllpReader', () => {
  test('two frames in one read are two messages; segments keep their trailing spaces', () => {
    const r = new MllpReader();
    expect(r.push(Buffer.concat([frame('MSH|a \rOBX|1'), frame('MSH|b')]))).toEqual(['MSH|a \rOBX|1', 'MSH|b']);
  });

  test('a frame split anywhere, even between 0x1C and 0x0D, is put together', () => {
    const whole = Buffer.concat([frame('MSH|é|x'), frame('MSH|2')]);
    for (let cut = 1; cut < whole.length; cut++) {
      const r = new MllpReader();
      expect([...r.push(whole.subarray(0, cut)), ...r.push(whole.subarray(cut))]).toEqual(['MSH|é|x', 'MSH|2']);
    }
  });

  test('bytes outside a frame are counted and dropped', () => {
    const r = new MllpReader();
    expect(r.push(Buffer.concat([Buffer.from('junk'), frame('MSH|1')]))).toEqual(['MSH|1']);
    expect(r.junkBytes).toBe(4);
  });
});
