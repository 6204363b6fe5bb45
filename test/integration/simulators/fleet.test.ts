import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { parseTopic, validateAvailability, validatePumpMessage } from '../../../protocol/index.ts';
import { runFleet } from '../../../simulators/fleet.ts';
import { startMosquitto } from '../../helpers/mosquitto.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('simulated fleet straight to a real Mosquitto', () => {
  test('delivers the expected count of valid contract payloads, once each, with availability', { timeout: 120_000 }, async () => {
    const broker = await startMosquitto();
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'fleet-test-sub', clean: true });
    try {
      const seen = new Map<string, number>();
      const invalid: string[] = [];
      const availability = new Map<string, string>();
      sub.on('message', (topic, body) => {
        const t = parseTopic(topic);
        if (t?.kind === 'availability') {
          const a = validateAvailability(JSON.parse(body.toString()));
          if (a) availability.set(t.gateway, a.state);
          return;
        }
        if (t?.kind !== 'pump') return;
        const r = validatePumpMessage(JSON.parse(body.toString()), t.serial);
        if (!r.ok) { invalid.push(r.reason); return; }
        const key = `${r.message.pump}|${r.message.seq}|${r.message.time}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      });
      await sub.subscribeAsync(['pumpwatch/+/pumps/+', 'pumpwatch/+/availability'], { qos: 1 });

      const result = await runFleet({ mqttUrl: broker.url, pumps: 40, gateways: 3, count: 6000, seed: 9 });
      assert.equal(result.published, 6000);
      assert.equal(result.acked, 6000);
      assert.equal(result.failed, 0);
      assert.equal(result.gateways.length, 3);
      await waitFor(() => seen.size >= 6000, 30_000, 'all messages at the subscriber');
      assert.deepEqual(invalid, []);
      assert.equal(seen.size, 6000);
      assert.ok([...seen.values()].every((n) => n === 1));
      assert.equal(new Set([...seen.keys()].map((k) => k.split('|')[0])).size, 40);
      await waitFor(() => availability.size === 3 && [...availability.values()].every((s) => s === 'offline'), 10_000, 'offline at the end');

      // the rate limit holds: 1,500 msgs at 1,000/s take about 1.5 s
      const limited = await runFleet({ mqttUrl: broker.url, pumps: 10, count: 1500, ratePerS: 1000 });
      assert.equal(limited.acked, 1500);
      assert.ok(limited.elapsedMs >= 1300 && limited.elapsedMs < 10_000, `${limited.elapsedMs} ms`);

      // unthrottled: record what this machine does (shared, so only a loose floor is asserted)
      const fast = await runFleet({ mqttUrl: broker.url, pumps: 1000, gateways: 10, count: 40_000, inflight: 4000 });
      assert.equal(fast.acked, 40_000);
      process.stderr.write(`fleet unthrottled: ${fast.ratePerS} msg/s acknowledged (40,000 msgs, 1,000 pumps, 10 gateways)\n`);
      assert.ok(fast.ratePerS > 2000);
      // a duration bound stops it by itself
      const timed = await runFleet({ mqttUrl: broker.url, pumps: 5, durationS: 1, ratePerS: 500 });
      assert.ok(timed.acked >= 250 && timed.acked <= 520, `${timed.acked} in ${timed.elapsedMs} ms`);
    } finally {
      await sub.endAsync();
      await broker.dispose();
    }
  });
});
