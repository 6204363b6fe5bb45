/** The scenario rig itself: a sentence written on a pump's pty reaches the board through the real gateway and server. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { waitFor } from '../../helpers/wait.ts';
import { DetectionRig } from './detectionRig.ts';

const A = 'CS7-RIG01';
const B = 'CS7-RIG02';
let rig: DetectionRig;

beforeAll(async () => {
  rig = await DetectionRig.start({ pumps: [A, B] });
}, 120_000);

afterAll(async () => {
  await rig?.stop();
});

test('each pump on its own pty reaches the board and the API through one gateway, with its own sequence and clock', async () => {
  const a = rig.pump(A);
  const b = rig.pump(B);
  b.clockOffsetMs = -4 * 60_000;
  await a.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await b.write({ type: 'event', code: 'POWER_ON', detail: '4.2.1' });
  await a.write(a.status({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0 }));
  await b.write(b.status({ state: 'IDLE', rateMlH: 0, infusedMl: 0, vtbiMl: 0, batteryPct: 77 }));
  await waitFor(() => rig.board.pump(A)?.state === 'IDLE' && rig.board.pump(B)?.batteryPct === 77, 15_000, 'both pumps on the board');
  expect(rig.board.pump(A)).toMatchObject({ gateway: 'home-rig', state: 'IDLE' });
  const pumps = await rig.api<{ pump: string }[]>('/api/pumps');
  expect(pumps.map((p) => p.pump).sort()).toEqual([A, B]);
  expect(await rig.alerts(A)).toEqual([]);
});
