/**
 * The real server (`npm run server`) on the shipped broker config: MQTT_URL=mqtts://, MQTT_CA_FILE
 * and the provisioned `_server` account are enough to ingest what a provisioned gateway publishes;
 * with a CA that does not vouch for the broker it stays up, reports MQTT down and never logs in.
 */
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ensureCa } from '../../../scripts/devCerts.ts';
import { startNpmScript, type RunningProcess } from '../../helpers/childProcess.ts';
import { startInfluxd, type InfluxServer } from '../../helpers/influxd.ts';
import { freePort } from '../../helpers/ports.ts';
import { startSecureMosquitto, type SecureBroker } from '../../helpers/secureMosquitto.ts';
import { tempDir, type TempDir } from '../../helpers/tempDir.ts';
import { waitFor } from '../../helpers/wait.ts';
import { capturePayloads } from '../server/serverStack.ts';

const DB = 'pumpwatch_tls';

describe('server over TLS with the provisioned account', () => {
  let broker: SecureBroker;
  let influx: InfluxServer;
  let tmp: TempDir;
  let serverPw = '';
  let gwPw = '';

  beforeAll(async () => {
    broker = await startSecureMosquitto();
    influx = await startInfluxd();
    tmp = tempDir('pumpwatch-server-tls-');
    serverPw = await broker.addServer();
    gwPw = await broker.addGateway('home-srv');
    await broker.reload();
  });

  afterAll(async () => {
    await broker.dispose();
    await influx.dispose();
    tmp.remove();
  });

  async function startServer(caFile: string, name: string): Promise<{ proc: RunningProcess; health: () => Promise<{ mqtt: string }> }> {
    const port = await freePort();
    const proc = startNpmScript('server', [], {
      env: {
        MQTT_URL: broker.url, MQTT_USERNAME: '_server', MQTT_PASSWORD: serverPw, MQTT_CA_FILE: caFile,
        INFLUX_URL: influx.urlFor(DB), HOST: '127.0.0.1', PORT: String(port),
        PUMPWATCH_JOURNAL_DIR: join(tmp.path, name, 'journal'), PUMPWATCH_USERS_FILE: join(tmp.path, name, 'users.json'),
        INFLUX_FLUSH_MS: '100',
      },
    });
    await proc.waitForLine(/"msg":"listening"/, 60_000);
    const health = async (): Promise<{ mqtt: string }> => (await (await fetch(`http://127.0.0.1:${port}/api/health`)).json()) as { mqtt: string };
    return { proc, health };
  }

  test('ingests a provisioned gateway\'s messages over mqtts:// with MQTT_CA_FILE', async () => {
    const { proc, health } = await startServer(broker.caFile, 'good');
    try {
      await waitFor(async () => (await health()).mqtt === 'up', 30_000, 'server MQTT up');
      const gw = await mqtt.connectAsync(broker.url, { ca: readFileSync(broker.caFile), username: 'home-srv', password: gwPw, reconnectPeriod: 0 });
      const payloads = capturePayloads('folfox-46h-normal.log').slice(0, 30);
      for (const p of payloads) await gw.publishAsync(`pumpwatch/home-srv/pumps/${p.serial}`, p.body, { qos: 1 });
      await gw.endAsync();
      await waitFor(async () => {
        const r = await influx.query(DB, 'SHOW SERIES');
        return (r.results[0]?.series?.[0]?.values.length ?? 0) > 0;
      }, 30_000, 'points in InfluxDB', 200);
      assert.ok(broker.log.some((l) => l.includes('New client connected') && l.includes("u'_server'")));
    } finally {
      await proc.stop();
    }
  });

  test('with a CA that does not vouch for the broker it stays up, reports MQTT down and never logs in', async () => {
    const foreign = ensureCa(join(tmp.path, 'foreign'), 'foreign-ca');
    const logins = (): number => broker.log.filter((l) => l.includes('New client connected') && l.includes("u'_server'")).length;
    const before = logins();
    const { proc, health } = await startServer(foreign.certFile, 'bad');
    try {
      const attempts = broker.log.length;
      await waitFor(() => broker.log.slice(attempts).filter((l) => l.includes('New connection from')).length >= 2, 30_000, 'two refused attempts');
      assert.equal((await health()).mqtt, 'down');
      assert.equal(proc.child.exitCode, null);
      assert.equal(logins(), before);
    } finally {
      await proc.stop();
    }
  });
});
