import { test } from 'vitest';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import pino from 'pino';
import { MqttIngest } from '../../../server/ingest/mqttIngest.ts';
import { startMosquitto, type Broker } from '../../helpers/mosquitto.ts';
import { waitFor } from '../../helpers/wait.ts';

const CLIENT_ID = 'ingest-acks-it';
const N = 200;

/** the real ingest adapter on a real broker; `commit` stands for the journal write */
function ingestOn(broker: Broker, commit: () => boolean, got: string[]): MqttIngest {
  let failing = false;
  const ingest = new MqttIngest({
    url: broker.url, clientId: CLIENT_ID, username: null, password: null, caFile: null,
    subscriptions: ['pumpwatch/+/pumps/+'], log: pino({ level: 'silent' }), blockedPollMs: 20,
    commit: () => {
      failing = !commit();
      return !failing;
    },
    blocked: () => failing,
  });
  ingest.start((_topic, payload) => got.push(payload.toString()));
  return ingest;
}

async function publishN(broker: Broker, from: number): Promise<void> {
  const pub = await mqtt.connectAsync(broker.url, { clientId: `acks-pub-${from}` });
  await Promise.all(Array.from({ length: N }, (_, i) => pub.publishAsync(`pumpwatch/gw-1/pumps/P-${from + i}`, `m${from + i}`, { qos: 1 })));
  await pub.endAsync();
}

test('PUBACKs leave only after the journal write: held while it fails, delivered again to the next session', async () => {
  const broker = await startMosquitto();
  try {
    // the persistent session exists first, so nothing published is missed
    const first: string[] = [];
    let ok = true;
    let a = ingestOn(broker, () => ok, first);
    await waitFor(() => a.up, 10_000, 'ingest connected');
    await publishN(broker, 0);
    await waitFor(() => first.length === N, 10_000, `${N} received`);
    await a.stop();

    // written and acknowledged: a new session gets none of them again
    const second: string[] = [];
    a = ingestOn(broker, () => ok, second);
    await waitFor(() => a.up, 10_000, 'ingest reconnected');
    ok = false; // the journal cannot be written from now on
    await publishN(broker, N);
    await waitFor(() => second.length > 0, 10_000, 'some received while the journal fails');
    // a fixed wait on purpose: retries go on, and it proves nothing of the first batch comes back
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(second.every((m) => Number(m.slice(1)) >= N), 'nothing of the first batch came back');
    await a.stop();

    // none of those PUBACKs left: the broker delivers every message of the second batch again
    const third: string[] = [];
    ok = true;
    a = ingestOn(broker, () => ok, third);
    await waitFor(() => new Set(third).size === N, 15_000, `${N} delivered again`);
    assert.deepEqual([...new Set(third)].sort(), Array.from({ length: N }, (_, i) => `m${N + i}`).sort());
    await a.stop();
  } finally {
    await broker.dispose();
  }
});
